# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults between the modules and the API, at every request of every representative operation.

Each operation runs once through the fault proxy to record the requests it makes; then, for every
position in that sequence and every kind of fault (429 with Retry-After, 500, 503, a reset
connection, an answer slower than api_timeout, a truncated body, and an answer lost after the
server acted), the scene is set again, the fault queued for that one request, and the module run.
The run must either fail clearly (msg names the request, no traceback, no secret) or succeed with
the right ``changed``; the API server and the database server must then hold no duplicate, the
credentials must be the ones reported (or the old ones), and a plain rerun must settle everything.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import time

import pymysql
import pytest

from conftest import api_options, run_module
from faults_support import Api, Proxy, catalog_problems, clear_failure, logs_in, record_figures, redacted, scratch_databases

DB_TYPE = 'mariadb'
CUSTOMER = 'faultsapi'
PREFIX = 'cust_%s_' % CUSTOMER
NAME = 'sweep'
COPY = 'sweepcopy'
ADDRESS = '10.9.8.7'
LABEL = 'nightly'
TIMEOUT = 1
SLOW = 2.5  # seconds the proxy holds a request: past api_timeout, and past the client's retry of it
# A snapshot's or a restore's own time limit: past SLOW (they wait it out), and how long the task reads the server
# after one whose answer was lost (tests/hardening/test_long_operations.py has answers later than it).
OPERATION_TIMEOUT = 5
KINDS = ('status:429', 'status:500', 'status:503', 'reset', 'slow', 'malformed', 'lost')
POLICY = dict(enabled=True, frequency='daily', retention_days=3, time_of_day='02:00')
IDS = re.compile(r'/(snap_[0-9a-z_]+|[0-9a-f]{8}-[0-9a-f-]{27})$')
TALLY = dict(injected=0, survived_consistent=0, succeeded=0, failed_clearly=0, operations=0, positions=0)
CASES = []


def idempotent(method, path):
    """As the client treats it: reads, PUT, PATCH, DELETE, and the create POST (its name is deterministic)."""
    return method in ('GET', 'PUT', 'PATCH', 'DELETE') or path == '/v1/databases'


class Scene:
    """The operations' shared world: the API server, one database and what the checks need to know."""

    def __init__(self, servers):
        self.servers = servers
        self.api = Api(servers, DB_TYPE, CUSTOMER)
        self.db = PREFIX + 'mdb_' + NAME
        self.copy = PREFIX + 'mdb_' + COPY
        self.password = None
        self.data_snapshot = None  # the labelled snapshot taken with table t in it

    def database(self):
        """The database with a known password, however the last case left it."""
        known = self.password and logs_in(self.servers, DB_TYPE, self.db, self.password)
        if self.api.database(self.db) is None or not known:
            self.password = self.api.create(NAME)[1]
        return self.db

    def without_copy(self):
        self.api.drop(self.copy)

    def labelled(self):
        return [item for item in self.api.snapshots(self.db) if item['description'] == '[label=%s]' % LABEL]

    def one_snapshot(self):
        """Exactly one labelled snapshot, holding table t (x = 42)."""
        found = self.labelled()
        if [item['snapshot_id'] for item in found] != [self.data_snapshot]:
            for item in found:
                self.api.drop_snapshot(self.db, item['snapshot_id'])
            conn = pymysql.connect(host='127.0.0.1', port=int(self.servers['WAYSCLOUD_MDB_PORT']), database=self.db,
                                   user=self.db, password=self.password)
            with conn.cursor() as cursor:
                cursor.execute('CREATE TABLE IF NOT EXISTS t (x INT)')
                cursor.execute('DELETE FROM t')
                cursor.execute('INSERT INTO t VALUES (42)')
            conn.commit()
            conn.close()
            self.data_snapshot = self.api.snapshot(self.db, '[label=%s]' % LABEL)['snapshot_id']

    def no_snapshots(self):
        for item in self.api.snapshots(self.db):
            self.api.drop_snapshot(self.db, item['snapshot_id'])

    def rules(self, wanted):
        rules = self.api.rules(self.db)
        for rule in rules:
            if rule['ip_address'] not in wanted:
                self.api.remove_rule(self.db, rule['rule_id'])
        for address in wanted:
            if address not in [rule['ip_address'] for rule in rules]:
                self.api.add_rule(self.db, address)


def copy_holds_data(scene):
    """A copy restored into a new name is reached by the source's user."""
    conn = pymysql.connect(host='127.0.0.1', port=int(scene.servers['WAYSCLOUD_MDB_PORT']), database=scene.copy,
                           user=scene.db, password=scene.password)
    with conn.cursor() as cursor:
        cursor.execute('SELECT x FROM t')
        rows = cursor.fetchall()
    conn.close()
    return rows == ((42,),)


class Operation:
    """One module task: ``setup`` sets its scene; ``done`` says whether the world is as the task wants it
    (and checks it holds no duplicate); ``after_failure`` what a failed run must still keep true."""

    def __init__(self, name, module, args, setup, done, changed=True, after_failure=None, after_success=None,
                 always=False):
        self.name, self.module, self.args, self.setup, self.done = name, module, args, setup, done
        self.changed = changed
        self.always = always  # it changes something every time (a rotation)
        self.after_failure = after_failure or (lambda scene, result: [])
        self.after_success = after_success or (lambda scene, result, rerun=False: [])


def created_done(scene):
    database = scene.api.database(scene.db)
    return database is not None and database['connection_limit'] == 15


def created_password(scene, result, rerun=False):
    if result.get('password'):
        if not logs_in(scene.servers, DB_TYPE, scene.db, result['password']):
            return ['the password returned does not log in']
        scene.password = result['password']
    elif not rerun and 'rotate' not in json.dumps(result.get('warnings', [])):
        return ['created without a password and without a warning to rotate']
    return []


def rotated(scene, result, rerun=False):
    if not result.get('password') or not logs_in(scene.servers, DB_TYPE, scene.db, result['password']):
        return ['the rotated password does not log in']
    problems = ['the old password still logs in'] if logs_in(scene.servers, DB_TYPE, scene.db, scene.password) else []
    scene.password = result['password']
    return problems


def rotate_failed(scene, result):
    """The old password still works, or the message says the rotation may have happened (then rerun)."""
    if logs_in(scene.servers, DB_TYPE, scene.db, scene.password):
        return []
    if 'may have' in result['msg']:
        return []
    return ['after a failed rotation the old password fails, and the message does not say it may have changed']


def one_rule(scene):
    rules = scene.api.rules(scene.db)
    assert len(rules) <= 1, 'duplicate firewall rules: %s' % rules
    return [rule['ip_address'] for rule in rules] == [ADDRESS + '/32']


def one_labelled(scene):
    found = scene.labelled()
    assert len(found) <= 1, 'duplicate snapshots labelled %s: %s' % (LABEL, found)
    return len(found) == 1


def restored(scene):
    leftovers = scratch_databases(scene.servers, DB_TYPE)
    assert not leftovers, 'scratch databases left: %s' % leftovers
    copy = scene.api.database(scene.copy)
    return copy is not None and copy['description'].startswith('Restored from ') and copy_holds_data(scene)


def policy_done(scene):
    policy = scene.api.policy(scene.db)
    return dict((field, policy[field]) for field in POLICY) == POLICY


def operations(scene):
    db = dict(customer_id=CUSTOMER, requested_name=NAME)

    def fresh():
        scene.api.drop(scene.db)
        scene.password = None

    def limited():
        scene.database()
        scene.api.update(scene.db, connection_limit=10)

    def unpolicied():
        scene.database()
        scene.api.set_policy(scene.db, enabled=False)

    def restorable():
        scene.database()
        scene.one_snapshot()
        scene.without_copy()

    return [
        Operation('create', 'wayscloud_database', dict(db, connection_limit=15), fresh, created_done,
                  after_success=created_password),
        Operation('update limit', 'wayscloud_database', dict(db, connection_limit=20), limited,
                  lambda s: s.api.database(s.db)['connection_limit'] == 20),
        Operation('rotate', 'wayscloud_database_credentials', dict(db, rotate=True), scene.database,
                  lambda s: True, after_success=rotated, after_failure=rotate_failed, always=True),
        Operation('firewall add', 'wayscloud_database_firewall', dict(db, ip_address=ADDRESS),
                  lambda: (scene.database(), scene.rules([])), one_rule),
        Operation('firewall remove', 'wayscloud_database_firewall', dict(db, ip_address=ADDRESS, state='absent'),
                  lambda: (scene.database(), scene.rules([ADDRESS + '/32'])), lambda s: not s.api.rules(s.db)),
        Operation('snapshot take', 'wayscloud_database_snapshot', dict(db, label=LABEL),
                  lambda: (scene.database(), scene.no_snapshots()), one_labelled),
        Operation('snapshot restore into copy', 'wayscloud_database_snapshot',
                  dict(db, label=LABEL, state='restored', target_db_name=COPY), restorable, restored),
        Operation('snapshot delete', 'wayscloud_database_snapshot', dict(db, label=LABEL, state='absent'),
                  lambda: (scene.database(), scene.one_snapshot()), lambda s: not one_labelled(s)),
        Operation('backup policy set', 'wayscloud_database_backup_policy', dict(db, **POLICY), unpolicied,
                  policy_done),
        Operation('info gather', 'wayscloud_database_info', dict(name=PREFIX + 'mdb_' + NAME), scene.database,
                  lambda s: True, changed=False),
        Operation('delete', 'wayscloud_database', dict(db, state='absent'),
                  lambda: (scene.without_copy(), scene.database(), scene.no_snapshots()),
                  lambda s: s.api.database(s.db) is None),
    ]


@pytest.fixture(scope='module')
def scene(servers, figures):
    scene = Scene(servers)
    Proxy(servers['WAYSCLOUD_FAULTS_URL']).clear()
    yield scene
    scene.without_copy()
    scene.database()
    scene.no_snapshots()
    scene.api.drop(scene.db)
    record_figures(figures, 'api', dict(TALLY), CASES)


def fault_for(sequence, position, kind):
    """The proxy entry that hits request ``position`` of ``sequence`` (ids cut: a rerun makes new ones)."""
    method, path = sequence[position]
    prefix = IDS.sub('/', path)
    skip = sum(1 for m, p in sequence[:position] if m == method and p.startswith(prefix))
    return dict(method=method, path=prefix, fault=kind, count=1, skip=skip, seconds=SLOW, retry_after=1)


def options(servers, proxy=True):
    return dict(api_options(servers, DB_TYPE, url=servers['WAYSCLOUD_FAULTS_URL'] if proxy else None),
                api_timeout=TIMEOUT, operation_timeout=OPERATION_TIMEOUT, api_retries=1, api_retry_max_delay=1)


def check_case(scene, op, result, method, path, kind, untouched):
    """Problems with one faulted run, and with the rerun that must settle it (``untouched``: the fault came
    before the operation's first write, so the rerun would be the clean run again and is left out)."""
    secrets = [scene.servers['WAYSCLOUD_TEST_KEY_INTERNAL'], scene.password]
    survives = kind == 'status:429' or (idempotent(method, path) and kind in ('status:503', 'reset', 'slow', 'lost'))
    problems = []
    try:
        if not result.get('failed'):
            if result.get('changed') != op.changed:
                problems.append('changed=%s, expected %s' % (result.get('changed'), op.changed))
            if 'Traceback' in result['_stderr']:
                problems.append('traceback on stderr')
            problems += op.after_success(scene, result)
            if op.changed and not op.done(scene):
                problems.append('succeeded, but the server does not hold the result')
            return problems, True
        problems += clear_failure(result, '%s %s' % (method, path), secrets)
        if survives:
            problems.append('failed although the client should have retried: %s' % redacted(result['msg'], secrets))
        problems += op.after_failure(scene, result)
        was_done = op.done(scene)
        if untouched:
            if op.changed and not op.always and was_done:
                problems.append('a run that failed before its first write changed the server')
            return problems, False
        again = run_module(op.module, dict(options(scene.servers, proxy=False), **op.args))
        if again.get('failed'):
            problems.append('the rerun failed: %s' % redacted(again.get('msg'), secrets))
        else:
            if again.get('changed') != (op.changed and (op.always or not was_done)):
                problems.append('the rerun said changed=%s after the world was %sdone'
                                % (again.get('changed'), '' if was_done else 'not '))
            problems += op.after_success(scene, again, rerun=True)
            if not op.done(scene):
                problems.append('the rerun did not settle it')
        return problems, False
    except AssertionError as exc:
        return problems + [str(exc)], False


OPERATIONS = [
    'create', 'update limit', 'rotate', 'firewall add', 'firewall remove', 'snapshot take',
    'snapshot restore into copy', 'snapshot delete', 'backup policy set', 'info gather', 'delete']


@pytest.mark.parametrize('name', OPERATIONS)
def test_every_fault_at_every_request(scene, name):
    op = [item for item in operations(scene) if item.name == name][0]
    proxy = Proxy(scene.servers['WAYSCLOUD_FAULTS_URL'])
    op.setup()
    proxy.clear()
    clean = run_module(op.module, dict(options(scene.servers), **op.args))
    sequence = [(entry['method'], entry['path']) for entry in proxy.clear()['seen']]
    assert not clean.get('failed'), clean.get('msg')
    assert clean['changed'] == op.changed and sequence
    assert op.after_success(scene, clean) == []
    TALLY['operations'] += 1
    TALLY['positions'] += len(sequence)
    CASES.append('api %s: each fault at each of its %d requests (%s)'
                 % (name, len(sequence), ', '.join(method for method, dummy in sequence)))
    problems = []
    for position, (method, path) in enumerate(sequence):
        for kind in KINDS:
            if method == 'GET' and (kind == 'lost' or (kind == 'slow' and position > 0)):
                continue  # for a read, lost is a reset, and a timeout is the same at every position
            op.setup()
            proxy.clear()
            proxy.queue(fault_for(sequence, position, kind))
            result = run_module(op.module, dict(options(scene.servers), **op.args))
            log = proxy.clear()
            if kind == 'slow' and method != 'GET':
                time.sleep(SLOW)  # the held request reaches the server after the module gave up on it
            hit = [index for index, entry in enumerate(log['seen']) if entry['fault'] == kind]
            where = '%s: %s at #%d %s %s' % (name, kind, position, method, path)
            if not hit or hit[0] != position or log['pending']:
                problems.append('%s: the fault did not hit that request (%s)' % (where, log))
                continue
            TALLY['injected'] += 1
            untouched = all(m == 'GET' for m, p in sequence[:position + 1])
            found, succeeded = check_case(scene, op, result, method, log['seen'][position]['path'], kind, untouched)
            found += catalog_problems(scene.servers, scene.servers['WAYSCLOUD_API_STATE_DIR'], DB_TYPE, PREFIX)
            if found:
                problems.append('%s: %s' % (where, '; '.join(found)))
            else:
                TALLY['survived_consistent'] += 1
                TALLY['succeeded' if succeeded else 'failed_clearly'] += 1
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('fault, method, path_part, attempts', [
    (dict(fault='status:503', count=2), 'GET', '', 2),
    (dict(fault='reset', count=2), 'PATCH', '/{db}', 2),
    (dict(fault='lost', count=2), 'PATCH', '/{db}', 2),
    (dict(fault='status:429', count=1, retry_after=5), 'GET', '', 1),  # a wait longer than api_retry_max_delay
])
def test_retries_exhausted(scene, fault, method, path_part, attempts):
    """Faults that outlast api_retries=1 (or a Retry-After past api_retry_max_delay): a clear failure after
    exactly that many attempts, and the next run settles."""
    proxy = Proxy(scene.servers['WAYSCLOUD_FAULTS_URL'])
    scene.database()
    scene.api.update(scene.db, connection_limit=10)
    path = '/v1/databases/%s%s' % (DB_TYPE, path_part.format(db=scene.db))
    proxy.clear()
    proxy.queue(dict(fault, method=method, path=path, seconds=SLOW))
    args = dict(customer_id=CUSTOMER, requested_name=NAME, connection_limit=20)
    result = run_module('wayscloud_database', dict(options(scene.servers), **args))
    seen = [entry for entry in proxy.clear()['seen'] if entry['fault']]
    problems = [] if result.get('failed') else ['succeeded through faults that outlast the retries']
    problems += clear_failure(result, '%s %s' % (method, path), [scene.servers['WAYSCLOUD_TEST_KEY_INTERNAL']])
    if len(seen) != attempts:
        problems.append('%d attempts, expected %d' % (len(seen), attempts))
    limit = scene.api.database(scene.db)['connection_limit']
    again = run_module('wayscloud_database', dict(options(scene.servers, proxy=False), **args))
    if again.get('failed') or again.get('changed') != (limit != 20) or scene.api.database(scene.db)['connection_limit'] != 20:
        problems.append('the rerun: changed=%s after limit %s (%s)' % (again.get('changed'), limit, again.get('msg')))
    TALLY['injected'] += 1
    if not problems:
        TALLY['survived_consistent'] += 1
        TALLY['failed_clearly'] += 1
    CASES.append('api retries exhausted: %s x%d on %s' % (fault['fault'], fault['count'], method))
    assert not problems, '; '.join(problems)
