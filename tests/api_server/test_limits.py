# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API's own limits on every path, against a server of this test's own (its configuration below):
permissions of a key, quota on a restore into a new database, snapshot storage and the per-database
cap, the firewall's "every address" rule, and the fate of a deleted database's snapshots. Every refusal
is checked to leave nothing changed (databases, roles, accounts, catalog, files).

Run by the ``api-contract`` gate (scripts/test.sh), which starts PostgreSQL and MariaDB and exports
servers.env.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'hardening'))
from conftest import differences, fingerprint, http_json  # noqa: E402  (the hardening suite's fingerprint)

from app import Config, delete_message  # noqa: E402
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog  # noqa: E402
from ansible_collections.wayscloud.databases.tests.environment import setting  # noqa: E402

EVERYTHING = ['database:create', 'database:read', 'database:update', 'database:delete']
KEYS = {
    'internal': {'customer_id': 'ops', 'permissions': EVERYTHING, 'internal': True},
    'owner': {'customer_id': 'lim1', 'permissions': EVERYTHING},
    'bare': {'customer_id': 'lim1'},
    'restorer': {'customer_id': 'lim1', 'permissions': ['database:read', 'database:update']},
    'opener': {'customer_id': 'lim2', 'permissions': EVERYTHING, 'allow_any_address': True},
}


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture(scope='module')
def api(tmp_path_factory):
    """A server of this test's own: {url, state_dir, servers (for the fingerprint)}; stopped afterwards."""
    folder = tmp_path_factory.mktemp('limits')
    servers = dict((name, setting(name)) for name in ('WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT',
                                                      'WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT'))
    state_dir = str(folder / 'state')
    config = {
        'state_dir': state_dir,
        'engines': {'postgresql': {'unix_socket': servers['WAYSCLOUD_PG_SOCKET_DIR'],
                                   'port': int(servers['WAYSCLOUD_PG_PORT']), 'public_host': '127.0.0.1'},
                    'mariadb': {'unix_socket': servers['WAYSCLOUD_MDB_SOCKET'],
                                'port': int(servers['WAYSCLOUD_MDB_PORT']), 'public_host': '127.0.0.1'}},
        'keys': [dict(entry, key='wc_limits_%s' % name) for name, entry in KEYS.items()],
        'quota': {'default': {'databases': 20, 'storage_gb': 10}, 'customers': {'lim1': {'databases': 2}}},
        'snapshot_limits': {'manual': 2},
        'schedule': {'driver': 'cron', 'cron_dir': str(folder / 'cron.d')},
    }
    path = folder / 'config.json'
    path.write_text(json.dumps(config))
    port = _free_port()
    server = subprocess.Popen([sys.executable, '-m', 'uvicorn', 'app:app', '--app-dir', HERE, '--host', '127.0.0.1',
                               '--port', str(port), '--log-level', 'warning'],
                              env=dict(os.environ, WAYSCLOUD_API_SERVER_CONFIG=str(path)),
                              stdout=open(str(folder / 'api.log'), 'w'), stderr=subprocess.STDOUT)
    url = 'http://127.0.0.1:%d' % port
    deadline = time.time() + 30
    while True:
        try:
            if http_json(url + '/openapi.json', 'GET', timeout=1)[0] == 200:
                break
        except OSError:
            pass
        assert server.poll() is None and time.time() < deadline, (folder / 'api.log').read_text()
        time.sleep(0.2)
    yield dict(url=url, state_dir=state_dir, servers=dict(servers, WAYSCLOUD_API_STATE_DIR=state_dir))
    server.terminate()
    server.wait(timeout=30)


def call(api, key, method, path, body=None):
    return http_json(api['url'] + path, method, body, {'X-API-Key': 'wc_limits_%s' % key}, timeout=300)


def ok(answer):
    status, body = answer
    assert status == 200, body
    return body


def refused(api, status, detail, request):
    """``request()`` answers ``status`` with a detail matching every word of ``detail``, and changes nothing."""
    before = fingerprint(api['servers'])
    answer = request()
    assert answer[0] == status, answer
    assert all(word in json.dumps(answer[1]) for word in detail), answer
    assert differences(before, fingerprint(api['servers'])) == {}
    return answer[1]['detail']


@pytest.fixture
def database(api):
    """A database of customer lim1 (made with the owner key), deleted afterwards with every database of lim1
    the test left. Firewall cases use MariaDB: this server's own catalog must not rewrite the PostgreSQL
    server's pg_hba block, which the gates' other servers keep from theirs."""
    def make(name, db_type='postgresql'):
        return ok(call(api, 'owner', 'POST', '/v1/databases', {'db_type': db_type, 'requested_name': name}))['db_name']
    yield make
    for db_type in ('postgresql', 'mariadb'):
        for item in ok(call(api, 'internal', 'GET', '/v1/databases/%s?customer_id=lim1' % db_type))['databases']:
            delete(api, 'internal', item['db_name'], drop_user=item['username'] == item['db_name'])


def kind(db_name):
    return 'mariadb' if '_mdb_' in db_name else 'postgresql'


def delete(api, key, db_name, drop_user=True):
    query = '?username=' + db_name if drop_user else ''
    ok(call(api, key, 'DELETE', '/v1/databases/%s/%s%s' % (kind(db_name), db_name, query)))


def set_quota(api, customer_id, databases, storage_gb):
    """A DBA's limits in the catalog (closed at once, so its file settles before the next fingerprint)."""
    catalog = Catalog(api['state_dir'])
    try:
        catalog.set_quota(customer_id, databases, storage_gb)
    finally:
        catalog.close()


def restore(api, key, db_name, snapshot_id, target):
    return call(api, key, 'POST', '/v1/databases/postgresql/%s/restore' % db_name,
                {'snapshot_id': snapshot_id, 'target_db_name': target})


def snapshot(api, key, db_name):
    return call(api, key, 'POST', '/v1/databases/postgresql/%s/snapshots' % db_name, {'description': 'a test'})


def test_a_key_entry_without_permissions_grants_nothing(api, tmp_path):
    for method, path, body in [('GET', '/v1/databases/postgresql', None), ('GET', '/v1/quota', None),
                               ('POST', '/v1/databases', {'db_type': 'postgresql', 'requested_name': 'bare'})]:
        refused(api, 403, ['lacks', 'database:'], lambda: call(api, 'bare', method, path, body))
    assert _config(tmp_path, keys=[dict(KEYS['bare'], key='k')]).keys[0].permissions == set()


def test_a_restore_into_a_new_database_counts_as_a_creation(api, database):
    """Customer lim1 may have two databases: the restore that would make a third is refused, the one that finds
    its target already restored needs no place, and a key without database:create makes none."""
    db_name = database('restsrc')
    snapshot_id = ok(snapshot(api, 'owner', db_name))['snapshot_id']
    refused(api, 403, ['database:create'], lambda: restore(api, 'restorer', db_name, snapshot_id, 'restcopy'))
    made = ok(restore(api, 'owner', db_name, snapshot_id, 'restcopy'))
    assert made['message'].endswith('restored from %s' % snapshot_id)
    assert ok(call(api, 'owner', 'GET', '/v1/quota'))['used'] == 2
    assert 'already restored' in ok(restore(api, 'owner', db_name, snapshot_id, 'restcopy'))['message']
    refused(api, 403, ['quota exceeded', '2 of 2 databases'],
            lambda: restore(api, 'owner', db_name, snapshot_id, 'restcopy2'))
    refused(api, 403, ['quota exceeded'],
            lambda: call(api, 'owner', 'POST', '/v1/databases', {'db_type': 'postgresql', 'requested_name': 'third'}))


def at_once(*requests):
    """The answers of ``requests`` (functions) sent at the same time, in their order."""
    answers = [None] * len(requests)
    threads = [threading.Thread(target=lambda number=number: answers.__setitem__(number, requests[number]()))
               for number in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_restore_and_a_creation_race_for_the_last_place(api, database):
    """Both take the customer's lock: one of the two gets the last place, the other is refused."""
    db_name = database('racesrc')
    snapshot_id = ok(snapshot(api, 'owner', db_name))['snapshot_id']
    answers = at_once(lambda: restore(api, 'owner', db_name, snapshot_id, 'racecopy'),
                      lambda: call(api, 'owner', 'POST', '/v1/databases',
                                   {'db_type': 'postgresql', 'requested_name': 'racenew'}))
    assert sorted(status for status, body in answers) == [200, 403], answers
    assert ok(call(api, 'owner', 'GET', '/v1/quota'))['used'] == 2


def test_snapshots_count_toward_storage_and_stop_at_its_limit(api, database):
    db_name = database('stored')
    subprocess.run(['psql', '-h', api['servers']['WAYSCLOUD_PG_SOCKET_DIR'], '-p', api['servers']['WAYSCLOUD_PG_PORT'],
                    '-U', 'postgres', '-d', db_name, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c',
                    'SET ROLE %s; CREATE TABLE filler AS SELECT md5(n::text) AS v FROM generate_series(1, 100000) n'
                    % db_name], check=True, capture_output=True)
    before = ok(call(api, 'owner', 'GET', '/v1/quota'))['storage_used_gb']
    taken = ok(snapshot(api, 'owner', db_name))
    after = ok(call(api, 'owner', 'GET', '/v1/quota'))['storage_used_gb']
    assert taken['size_mb'] > 1 and abs(after - before - taken['size_mb'] / 1024.0) < 0.0003, (before, after, taken)
    set_quota(api, 'lim1', 2, after)  # at the limit: nothing more that stores anything
    try:
        refused(api, 403, ['quota exceeded', 'GB'], lambda: snapshot(api, 'owner', db_name))
        refused(api, 403, ['quota exceeded', 'GB'],
                lambda: call(api, 'owner', 'POST', '/v1/databases', {'db_type': 'postgresql', 'requested_name': 'more'}))
        refused(api, 403, ['quota exceeded', 'GB'],
                lambda: restore(api, 'owner', db_name, taken['snapshot_id'], 'more'))
    finally:
        set_quota(api, 'lim1', 2, 10)
    # Deleted, the database's snapshot stays (restorable into a new name) until it expires, and still counts.
    delete(api, 'owner', db_name)
    listed = ok(call(api, 'owner', 'GET', '/v1/databases/postgresql/%s/snapshots' % db_name))['snapshots']
    assert [item['snapshot_id'] for item in listed] == [taken['snapshot_id']] and listed[0]['expires_at']
    assert ok(call(api, 'owner', 'GET', '/v1/quota'))['storage_used_gb'] >= taken['size_mb'] / 1024.0 - 0.0001


def test_a_database_holds_at_most_its_cap_of_snapshots(api, database):
    db_name = database('capped')
    kept = [ok(snapshot(api, 'owner', db_name))['snapshot_id'] for dummy in range(2)]
    detail = refused(api, 403, ['has 2 snapshots', 'the most a database may keep', 'delete'],
                     lambda: snapshot(api, 'owner', db_name))
    assert 'DELETE' in detail
    ok(call(api, 'owner', 'DELETE', '/v1/databases/postgresql/%s/snapshots/%s' % (db_name, kept[0])))
    ok(snapshot(api, 'owner', db_name))


def test_every_address_is_refused_for_customer_keys(api, database):
    path = '/v1/databases/mariadb/%s/firewall' % database('opened', 'mariadb')
    refused(api, 403, ['ip_address', '0.0.0.0/0', 'every address', 'allow_any_address'],
            lambda: call(api, 'owner', 'POST', path, {'ip_address': '0.0.0.0/0'}))
    ok(call(api, 'owner', 'POST', path, {'ip_address': '0.0.0.0/1'}))
    refused(api, 403, ['ip_address', '128.0.0.0/1', '0.0.0.0/1', 'every address'],
            lambda: call(api, 'owner', 'POST', path, {'ip_address': '128.0.0.0/1'}))
    assert ok(call(api, 'internal', 'POST', path, {'ip_address': '0.0.0.0/0'}))['ip_address'] == '0.0.0.0/0'
    other = ok(call(api, 'opener', 'POST', '/v1/databases', {'db_type': 'mariadb', 'requested_name': 'open'}))
    try:
        assert ok(call(api, 'opener', 'POST', '/v1/databases/mariadb/%s/firewall' % other['db_name'],
                       {'ip_address': '0.0.0.0/0'}))['ip_address'] == '0.0.0.0/0'
    finally:
        delete(api, 'opener', other['db_name'])


def test_rules_that_together_cover_everyone_are_checked_one_at_a_time(api, database):
    """With 128.0.0.0/1 in place, 0.0.0.0/2 and 64.0.0.0/2 sent at once: either alone is fine, not both."""
    path = '/v1/databases/mariadb/%s/firewall' % database('halves', 'mariadb')
    ok(call(api, 'internal', 'POST', path, {'ip_address': '128.0.0.0/1'}))
    answers = at_once(*(lambda quarter=quarter: call(api, 'owner', 'POST', path, {'ip_address': quarter})
                        for quarter in ('0.0.0.0/2', '64.0.0.0/2')))
    assert sorted(status for status, body in answers) == [200, 403], answers
    assert ok(call(api, 'owner', 'GET', path))['total'] == 2


def _config(tmp_path, **fields):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(dict(dict(state_dir=str(tmp_path / 'state'), engines={}, keys=[]), **fields)))
    return Config(str(path))


def test_the_operator_decides_who_may_open_a_database_to_everyone(tmp_path):
    """Internal keys always; customer keys only where the key, or else the configuration, allows it."""
    keys = [dict(key='a', customer_id='c1'), dict(key='b', customer_id='c1', allow_any_address=False),
            dict(key='c', customer_id='c1', allow_any_address=True), dict(key='d', customer_id='ops', internal=True)]
    assert [key.allow_any_address for key in _config(tmp_path, keys=keys).keys] == [False, False, True, True]
    assert [key.allow_any_address for key in _config(tmp_path, keys=keys, allow_any_address=True).keys] == [
        True, False, True, True]
    with pytest.raises(ValueError, match='allow_any_address'):
        _config(tmp_path, keys=[dict(key='a', customer_id='c1', allow_any_address='yes')])
    with pytest.raises(ValueError, match='snapshot_limits.manual'):
        _config(tmp_path, snapshot_limits={'manual': 0})


def roles(api):
    """The PostgreSQL roles of customer lim1."""
    done = subprocess.run(['psql', '-h', api['servers']['WAYSCLOUD_PG_SOCKET_DIR'], '-p', api['servers']['WAYSCLOUD_PG_PORT'],
                           '-U', 'postgres', '-d', 'postgres', '-qAtX', '-c',
                           "SELECT rolname FROM pg_roles WHERE rolname LIKE 'cust_lim1_%' ORDER BY 1"],
                          check=True, capture_output=True, text=True)
    return done.stdout.split()


def test_deleting_a_database_keeps_the_user_its_copies_use(api, database):
    """The contract's DELETE example (with username) after a restore into a new database: the database goes, the
    copy restored from it stays and so does the user that reaches it, as the answer says; the copy's DELETE then
    takes that user along. What the copy's user blocks, and a restore from a snapshot whose user is gone, are 400s
    that say what to do instead, and change nothing."""
    db_name = database('delsrc')
    snapshot_id = ok(snapshot(api, 'owner', db_name))['snapshot_id']
    copy = ok(restore(api, 'owner', db_name, snapshot_id, 'delcopy'))['db_name']
    refused(api, 400, ['%s is a restored copy reached by user %s' % (copy, db_name), 'through database %s' % db_name],
            lambda: call(api, 'owner', 'POST', '/v1/databases/postgresql/%s/credentials/rotate' % copy))
    answer = ok(call(api, 'owner', 'DELETE', '/v1/databases',
                     {'db_type': 'postgresql', 'db_name': db_name, 'username': db_name}))
    assert answer['message'] == ('database %s deleted; user %s stays: %s (restored from snapshots of %s) still use it;'
                                 ' it is dropped with the last of them' % (db_name, db_name, copy, db_name))
    listed = ok(call(api, 'owner', 'GET', '/v1/databases/postgresql'))['databases']
    assert [(item['db_name'], item['username']) for item in listed] == [(copy, db_name)]
    assert roles(api) == [db_name]
    assert ok(call(api, 'owner', 'DELETE', '/v1/databases/postgresql/%s?username=%s' % (copy, copy)))['message'] == (
        'database %s deleted with its user' % copy)
    assert roles(api) == []
    refused(api, 400, ['user %s of snapshot %s no longer exists' % (db_name, snapshot_id),
                       'create database %s again' % db_name],
            lambda: restore(api, 'owner', db_name, snapshot_id, 'delagain'))


def test_a_delete_answers_the_kept_user_and_no_other_warning_of_the_engine():
    """What follows '; ' in a delete's answer is what the client warns its user of (a user kept for copies); any
    other warning of the engine is the server's own business (it may name the server's files), so it stays out."""
    kept = 'user cust_a_pg_b stays: cust_a_pg_c (restored from snapshots of cust_a_pg_b) still use it'
    internal = 'catalog /var/lib/wayscloud/catalog.sqlite3 was locked; retried'
    assert delete_message('cust_a_pg_b', 'cust_a_pg_b', [internal, kept]) == 'database cust_a_pg_b deleted; ' + kept
    assert delete_message('cust_a_pg_b', 'cust_a_pg_b', [internal]) == 'database cust_a_pg_b deleted with its user'
    assert delete_message('cust_a_pg_b', None, []) == 'database cust_a_pg_b deleted'
