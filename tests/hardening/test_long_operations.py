# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots and restores through the API, whose answers come slowly or not at all (issue 19).

They wait operation_timeout, not api_timeout; an answer that does not come in time, or is lost after the server
acted, is followed up by reading what the server did, so the task reports what really happened (the snapshot or
the restore, with a warning; or that it was not done), never that it may have happened. The faults come from the
proxy in front of the API server (tests/api_server/faults.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

import pytest

from conftest import api_options, run_module
from faults_support import Api, Proxy

DB_TYPE = 'postgresql'
CUSTOMER = 'longops'
MODULE = 'wayscloud_database_snapshot'


@pytest.fixture
def scene(servers):
    """(api, proxy, db_name, copy): a database of its own with no snapshot and no copy; both go afterwards."""
    api = Api(servers, DB_TYPE, CUSTOMER)
    proxy = Proxy(servers['WAYSCLOUD_FAULTS_URL'])
    proxy.clear()
    db_name, copy = 'cust_%s_pg_long' % CUSTOMER, 'cust_%s_pg_long_copy' % CUSTOMER
    for name in (copy, db_name):
        api.drop(name)
    api.create('long')
    yield api, proxy, db_name, copy
    proxy.clear()
    for name in (copy, db_name):
        api.drop(name)
    for item in api.snapshots(db_name):
        api.drop_snapshot(db_name, item['snapshot_id'])


def through_proxy(servers, **options):
    """Module options through the fault proxy: one try, and api_timeout far below what the faults hold."""
    return dict(api_options(servers, DB_TYPE, url=servers['WAYSCLOUD_FAULTS_URL']), api_timeout=1, api_retries=0,
                **options)


def fault(api, db_name, kind, part, **more):
    return dict(dict(method='POST', path=api.db(db_name, part), fault=kind, count=1), **more)


def warnings_of(result):
    """The task's warnings as text (ansible-core 2.19 returns each as a summary with its event's msg)."""
    return [warning if isinstance(warning, str) else warning.get('event', warning).get('msg', '')
            for warning in result.get('warnings', [])]


def lost_warning(result, what):
    return [warning for warning in warnings_of(result) if warning.startswith('the answer to %s' % what)
            and 'reading afterwards showed it done' in warning]


def test_a_snapshot_waits_operation_timeout_not_api_timeout(servers, scene):
    api, proxy, db_name, copy = scene
    proxy.queue(fault(api, db_name, 'slow', 'snapshots', seconds=2.5))
    result = run_module(MODULE, dict(through_proxy(servers, operation_timeout=30), name=db_name, label='slow'))
    assert result.get('changed') is True and not result.get('failed'), result
    assert not result.get('warnings') and [item['snapshot_id'] for item in api.snapshots(db_name)] == [
        result['snapshot']['snapshot_id']]


def test_a_snapshot_whose_answer_comes_too_late_is_found_by_reading(servers, scene):
    """The proxy holds the request past operation_timeout, then the server takes the snapshot: the task reads the
    list until it shows."""
    api, proxy, db_name, copy = scene
    proxy.queue(fault(api, db_name, 'slow', 'snapshots', seconds=4))
    started = time.time()
    result = run_module(MODULE, dict(through_proxy(servers, operation_timeout=3), name=db_name, label='late'))
    assert result.get('changed') is True and not result.get('failed'), result
    assert lost_warning(result, 'taking a snapshot of %s' % db_name) and 'timed out' in warnings_of(result)[0], result
    listed = api.snapshots(db_name)
    assert [item['snapshot_id'] for item in listed] == [result['snapshot']['snapshot_id']]
    assert listed[0]['description'] == '[label=late]' and time.time() - started < 20


def test_a_snapshot_the_server_never_got_is_reported_not_taken(servers, scene):
    api, proxy, db_name, copy = scene
    proxy.queue(fault(api, db_name, 'reset', 'snapshots'))
    result = run_module(MODULE, dict(through_proxy(servers, operation_timeout=2), name=db_name, label='never'))
    assert result.get('failed') and 'Traceback' not in result['_stderr'], result
    assert result['msg'].startswith('WaysCloud API POST %s: request failed: ' % api.db(db_name, 'snapshots'))
    assert result['msg'].endswith('; read for 2 s afterwards (operation_timeout), the server shows that taking a'
                                  ' snapshot of %s was not done in that time: run the task again' % db_name)
    assert 'may have' not in result['msg'] and api.snapshots(db_name) == []


@pytest.mark.parametrize('into', ['new', 'place'])
def test_a_restore_whose_answer_is_lost_is_found_by_reading(servers, scene, into):
    """The server restores, the proxy drops the answer: the task reads the snapshot's last restore (and a new
    database's description) and reports the restore, once; the rerun changes nothing more."""
    api, proxy, db_name, copy = scene
    snapshot_id = api.snapshot(db_name, '[label=base]')['snapshot_id']
    args = dict(through_proxy(servers, operation_timeout=10), name=db_name, state='restored', label='base')
    args.update(target_db_name='long_copy') if into == 'new' else args.update(force=True)
    target = copy if into == 'new' else db_name
    proxy.queue(fault(api, db_name, 'lost', 'restore'))
    result = run_module(MODULE, args)
    assert result.get('changed') is True and not result.get('failed'), result
    assert result['restored_into'] == target
    assert lost_warning(result, 'restoring %s of %s into %s' % (snapshot_id, db_name, target)), result
    assert [entry for entry in proxy.seen() if entry['fault'] == 'lost'], 'the fault was not applied'
    restored = [item for item in api.snapshots(db_name) if item['snapshot_id'] == snapshot_id][0]
    assert restored['last_restored_into'] == target and restored['last_restore_id']
    if into == 'new':
        assert api.database(copy) is not None
        again = run_module(MODULE, dict(args, api_url=servers['WAYSCLOUD_API_URL']))
        assert again.get('changed') is False and not again.get('failed'), again
