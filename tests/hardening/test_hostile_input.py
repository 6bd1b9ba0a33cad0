# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input (issue 11, part 2): every option of every module and every endpoint of the API server,
fed SQL and shell metacharacters, paths, look-alike characters, NUL bytes, over-long values, numbers out of
range, malformed addresses and times, and wrong types.

Each case must fail with a message naming the option (or field) and its rule, without a traceback, without
a secret in it, and without changing anything: the fingerprint after a group of cases (one module and backend,
or one endpoint) equals the one before it. A fingerprint per case would double the run time.
A few inputs that only look hostile are valid data; they must be stored literally and change nothing else.
The corpus is in hostile_cases.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import json
import os
import sys

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import OWNERS_SCHEMA
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import ACCEPTED

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import api_options, differences, fingerprint, host_options, http_json, run_module  # noqa: E402
from hostile_cases import ACCEPTED_CASES, HTTP_CASES, HttpCase, MODULE_CASES, MDB, PG  # noqa: E402

CUSTOMERS = dict(host='hostileh', api='hostilea')
ENDPOINTS = {
    'create': 'POST /v1/databases', 'delete-body': 'DELETE /v1/databases', 'delete-path': 'DELETE /v1/databases/{t}/{n}',
    'update': 'PATCH /v1/databases/{t}/{n}', 'list': 'GET /v1/databases/{t}', 'engines': 'GET /v1/databases/engines',
    'restart': 'POST .../restart', 'credentials': 'GET .../credentials', 'rotate': 'POST .../credentials/rotate',
    'info': 'GET .../info', 'metrics': 'GET .../metrics', 'firewall-add': 'POST .../firewall',
    'firewall-list': 'GET .../firewall', 'firewall-delete': 'DELETE .../firewall/{rule_id}', 'quota': 'GET /v1/quota',
    'history': 'GET /v1/databases/history', 'snapshot-create': 'POST .../snapshots', 'snapshot-list': 'GET .../snapshots',
    'restore': 'POST .../restore', 'snapshot-delete': 'DELETE .../snapshots/{snapshot_id}',
    'backup-get': 'GET .../backup-policy', 'backup-set': 'PUT .../backup-policy',
}
# case id -> (target, failed cleanly, changed state); figures come from it at the end.
OUTCOMES = collections.OrderedDict()
_LAST = {}


def _target(case):
    if isinstance(case, HttpCase):
        return 'api:' + ENDPOINTS[case.id.split('/')[0]]
    return '%s/%s' % (case.module, case.backend)


MODULE_CASES = sorted(MODULE_CASES, key=lambda case: (case.module, case.backend))
HTTP_CASES = sorted(HTTP_CASES, key=lambda case: ENDPOINTS[case.id.split('/')[0]])
# The last case of each target's group takes the fingerprint; it covers every case since the one before.
GROUP_ENDS = set(cases[-1].id for cases in
                 [[c for c in MODULE_CASES + HTTP_CASES if _target(c) == target]
                  for target in set(_target(c) for c in MODULE_CASES + HTTP_CASES)])


def _db(backend, db_type):
    return 'cust_%s_%s_target' % (CUSTOMERS[backend], 'pg' if db_type == PG else 'mdb')


def _http(servers, method, path, body=None, key='internal'):
    """(status, decoded answer) of one raw request to the API server; ``key`` names a test key or is one."""
    secret = dict(internal=servers['WAYSCLOUD_TEST_KEY_INTERNAL'], customer=servers['WAYSCLOUD_TEST_KEY_CUSTOMER']).get(key, key)
    return http_json(servers['WAYSCLOUD_API_URL'] + path, method, body, {'X-API-Key': secret, 'Content-Type': 'application/json'})


@pytest.fixture(scope='module')
def stage(servers, tmp_path_factory, figures):
    """The databases the cases aim at: one per engine on the host backend (its own state_dir) and on the
    API server, and a snapshot of the API's PostgreSQL one. Removed afterwards; the figures are recorded then."""
    state_dir = str(tmp_path_factory.mktemp('hostile-state'))
    for db_type in (PG, MDB):
        done = run_module('wayscloud_database', dict(host_options(servers, db_type, state_dir), customer_id=CUSTOMERS['host'],
                                                     requested_name='target'))
        assert not done.get('failed'), done['msg']
        status, answer = _http(servers, 'POST', '/v1/databases', dict(db_type=db_type, customer_id=CUSTOMERS['api'],
                                                                      requested_name='target'))
        assert status == 200, answer
    status, snapshot = _http(servers, 'POST', '/v1/databases/postgresql/%s/snapshots' % _db('api', PG), dict(description='x'))
    assert status == 200, snapshot
    _LAST.clear()
    yield dict(state_dir=state_dir, snapshot_id=snapshot['snapshot_id'])
    _http(servers, 'DELETE', '/v1/databases/postgresql/%s/snapshots/%s' % (_db('api', PG), snapshot['snapshot_id']))
    for db_type in (PG, MDB):
        run_module('wayscloud_database', dict(host_options(servers, db_type, state_dir), name=_db('host', db_type), state='absent'))
        _http(servers, 'DELETE', '/v1/databases/%s/%s?username=%s' % (db_type, _db('api', db_type), _db('api', db_type)))
    figures('hostile_input', dict(
        cases=len(OUTCOMES), clean_failures=sum(1 for outcome in OUTCOMES.values() if outcome[1]),
        state_changes=sum(1 for outcome in OUTCOMES.values() if outcome[2]),
        by_target=dict(collections.Counter(outcome[0] for outcome in OUTCOMES.values()))))


@pytest.fixture
def unchanged(servers, stage):
    """``check(case_id)`` -> the differences since the last check, taken at the end of a group (always without
    ``case_id``); each check's 'after' is the next one's 'before'. Elsewhere in a group: {}."""
    dirs = [stage['state_dir']]
    if not _LAST.get('fingerprint'):
        _LAST['fingerprint'] = fingerprint(servers, dirs)

    def check(case_id=None):
        if case_id is not None and case_id not in GROUP_ENDS:
            return {}
        before, _LAST['fingerprint'] = _LAST['fingerprint'], fingerprint(servers, dirs)
        return differences(before, _LAST['fingerprint'])
    return check


def _options(servers, stage, backend, db_type, args):
    """The case's module options: the backend's own, then the case's with its placeholders filled in."""
    engine = db_type if db_type in (PG, MDB) else PG
    if backend == 'host':
        options = host_options(servers, engine, stage['state_dir'])
    else:
        options = api_options(servers, engine)
    if db_type is None:
        del options['db_type']
    else:
        options['db_type'] = db_type
    fills = {'@db': _db(backend, engine), '@cust': CUSTOMERS[backend], '@vault': servers['WAYSCLOUD_VAULT_ADDR'],
             '@vault_token': servers['WAYSCLOUD_VAULT_TOKEN']}

    def fill(value):
        if isinstance(value, str):
            for mark, text in fills.items():
                value = value.replace(mark, text)
        elif isinstance(value, list):
            value = [fill(element) for element in value]
        elif isinstance(value, dict):
            value = dict((key, fill(element)) for key, element in value.items())
        return value
    options.update((option, fill(value)) for option, value in args.items())
    return options


def _secrets(servers):
    return [servers[name] for name in ('WAYSCLOUD_TEST_KEY_INTERNAL', 'WAYSCLOUD_TEST_KEY_CUSTOMER', 'WAYSCLOUD_VAULT_TOKEN')]


@pytest.mark.parametrize('case', MODULE_CASES, ids=[case.id for case in MODULE_CASES])
def test_module_refuses(case, servers, stage, unchanged):
    options = _options(servers, stage, case.backend, case.db_type, case.args)
    result = run_module(case.module, options)
    changes = unchanged(case.id)
    message = str(result.get('msg'))
    clean = (result.get('failed') is True and 'Traceback' not in result['_stderr'] + message
             and 'exception' not in result and all(part in message for part in case.expect))
    OUTCOMES[case.id] = (_target(case), clean and not changes, bool(changes))
    assert result.get('failed') is True, 'accepted (changed=%r)' % result.get('changed')  # a result may hold a password
    assert 'Traceback' not in result['_stderr'] + message and 'exception' not in result, result['_stderr'][-2000:]
    for part in case.expect:
        assert part in message, '%r not in %r' % (part, message)
    shown = json.dumps(result)
    shown_secrets = [number for number, secret in enumerate(_secrets(servers) + [options[name] for name in ('api_key',) if options.get(name)])
                     if secret in shown and secret not in json.dumps(case.args)]
    assert shown_secrets == [], 'a secret is in the result'
    assert changes == {}, 'state changed during the cases of %s' % _target(case)


def _fill(value, names):
    if isinstance(value, str):
        return value.format(**names) if '{' in value else value.replace('@snap', names['snap'])
    if isinstance(value, dict):
        return dict((k, _fill(v, names)) for k, v in value.items())
    return value


def _detail(answer):
    """The answer's detail as one line: a string, or FastAPI's list of errors as 'loc: msg'."""
    detail = answer.get('detail') if isinstance(answer, dict) else answer
    if isinstance(detail, list):
        return '; '.join('%s: %s' % ('.'.join(str(part) for part in item.get('loc', ())), item.get('msg')) for item in detail)
    return str(detail)


@pytest.mark.parametrize('case', HTTP_CASES, ids=[case.id for case in HTTP_CASES])
def test_api_refuses(case, servers, stage, unchanged):
    names = dict(pg=_db('api', PG), mdb=_db('api', MDB), snap=stage['snapshot_id'])
    status, answer = _http(servers, case.method, _fill(case.path, names), _fill(case.body, names), case.key)
    changes = unchanged(case.id)
    detail = _detail(answer)
    clean = status in case.status and case.expect.lower() in detail.lower()
    OUTCOMES[case.id] = (_target(case), clean and not changes, bool(changes))
    assert status in case.status, '%d %s' % (status, detail)
    assert case.expect.lower() in detail.lower(), detail
    assert [number for number, secret in enumerate(_secrets(servers)) if secret in json.dumps(answer)] == []
    assert changes == {}, 'state changed during the cases of %s' % _target(case)


def _unrelated(changes, db_name, tables=()):
    """The changes that do not concern ``db_name`` (a catalog's file may change with its rows, and the
    catalog ``tables`` may change as a whole; with ``tables``, a rule change, also the collection's own MariaDB
    schema its first rule makes). Other databases' lines of the pg_hba block stay byte for byte; its accepted line, a
    digest of the whole file, changes with every write."""
    left = {}
    for part, change in changes.items():
        if part == 'files':
            change = dict((d, (b, a)) for d, (b, a) in change.items()
                          if set(k for k in set(b or {}) | set(a or {}) if (b or {}).get(k) != (a or {}).get(k))
                          - set(['catalog.sqlite3']))
        elif part == 'catalogs':
            change = [(table, row) for pair in change.values() for table in set(pair[0] or {}) | set(pair[1] or {})
                      for row in set((pair[0] or {}).get(table, [])) ^ set((pair[1] or {}).get(table, []))
                      if db_name not in repr(row) and table not in tables]
        elif isinstance(change, tuple) and isinstance(change[0], list):
            change = [line for line in set(change[0]) ^ set(change[1]) if db_name not in line
                      and not (tables and line == OWNERS_SCHEMA)]
        elif isinstance(change, tuple):
            change = [line for line in set(change[0].splitlines()) ^ set(change[1].splitlines()) if db_name not in line
                      and not line.startswith(ACCEPTED)]
        if change:
            left[part] = change
    return left


@pytest.mark.parametrize('case', ACCEPTED_CASES, ids=[case.id for case in ACCEPTED_CASES])
def test_accepted_literally(case, servers, stage, unchanged):
    options = _options(servers, stage, case.backend, case.db_type, case.args)
    result = run_module(case.module, options)
    assert not result.get('failed'), result.get('msg')
    stored = result['database'] if case.module == 'wayscloud_database' else result['rule']
    assert stored[case.field] == case.value
    again = run_module(case.module, options)
    assert not again.get('failed') and again['changed'] is False, 'not read back as stored (changed=%r): %s' % (again.get('changed'), again.get('msg'))
    # A host's first rule records its firewall driver, the port it guards and the catalog's id.
    bookkeeping = ('settings', 'guarded_ports') if case.module == 'wayscloud_database_firewall' else ()
    assert _unrelated(unchanged(), options['name'], bookkeeping) == {}
    if case.module == 'wayscloud_database_firewall':
        removed = run_module(case.module, dict(options, state='absent'))
        assert removed['changed'], removed.get('msg')
        _LAST.clear()
