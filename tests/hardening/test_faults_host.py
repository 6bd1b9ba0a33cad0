# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults on the database host, with backend: host against the suite's own throwaway servers.

The database server stopped before a run and in the middle of a snapshot or a restore; the module's
own session killed in the middle of a dump or a restore; the disk full under a snapshot (a small
tmpfs as state_dir); the module process killed with SIGKILL at every step of a rotation, a snapshot
and a restore. Each must end in a clear error or a correct success, and once the server is back the
next run must settle: no partial dump, no scratch database, the catalog as the servers are, the
database old or new and its password the one Vault holds.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import host_options, run_module, start_module
from faults_support import (catalog_problems, clear_failure, logs_in, record_figures, run_module_dying, scratch_databases,
                            server_databases, sql)

PG_BIN = '/usr/lib/postgresql/15/bin'
CUSTOMER = 'faultshost'
PREFIX = 'cust_%s_' % CUSTOMER
TAGS = dict(postgresql='pg', mariadb='mdb')
HOST_SNAPSHOTS = 'ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots'
TALLY = dict(injected=0, survived_consistent=0)
CASES = []


# ---------------------------------------------------------------- the servers: stop and start them again
def pg_data(servers):
    return os.environ.get('WAYSCLOUD_PG_DATA') or os.path.join(servers['WAYSCLOUD_PG_SOCKET_DIR'], 'data')


def stop_server(servers, db_type):
    if db_type == 'postgresql':
        subprocess.run(['runuser', '-u', 'postgres', '--', PG_BIN + '/pg_ctl', '-D', pg_data(servers), '-m', 'immediate',
                        '-w', 'stop'], check=True, capture_output=True, timeout=60)
        return
    folder = os.path.dirname(servers['WAYSCLOUD_MDB_SOCKET'])
    with open(os.path.join(folder, 'mysqld.pid')) as handle:
        pid = int(handle.read())
    os.kill(pid, 9)  # as a crash: the server's own pid, from its pid file
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reaps it when an earlier test started it again (a child of this process)
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError('MariaDB %d did not stop' % pid)


def start_server(servers, db_type):
    """The server again, with the options scripts/servers.sh gave it (it keeps them next to the server)."""
    if db_type == 'postgresql':
        socket_dir = servers['WAYSCLOUD_PG_SOCKET_DIR']
        with open(os.path.join(socket_dir, 'options')) as handle:
            options = handle.read().strip()
        subprocess.run(['runuser', '-u', 'postgres', '--', PG_BIN + '/pg_ctl', '-D', pg_data(servers), '-l',
                        os.path.join(socket_dir, 'log'), '-w', '-o', options, 'start'],
                       check=True, capture_output=True, timeout=60)
        return
    with open(os.path.join(os.path.dirname(servers['WAYSCLOUD_MDB_SOCKET']), 'options')) as handle:
        options = handle.read().splitlines()
    subprocess.Popen(['mariadbd'] + options, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while subprocess.run(['mariadb', '--no-defaults', '-S', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-e', 'SELECT 1'],
                         capture_output=True, check=False).returncode != 0:
        assert time.time() < deadline, 'MariaDB did not come back'
        time.sleep(0.2)


def fill(servers, db_type, db_name, megabytes, value=1):
    """Table t (v) with one row of ``value``, and table big with about ``megabytes`` of hardly compressible text. On
    MariaDB big is an Aria table: a restore loads it as SQL through the loader's session for a while (an InnoDB
    table's file is placed in an instant), so a fault during the load lands."""
    rows = megabytes * 1024 * 1024 // 64
    if db_type == 'postgresql':
        sql(servers, db_type, 'CREATE TABLE t (v int); INSERT INTO t VALUES (%d); CREATE TABLE big AS SELECT md5(random()::text)'
            ' || md5(random()::text) AS x FROM generate_series(1, %d)' % (value, rows), db_name)
    else:
        sql(servers, db_type, 'CREATE TABLE t (v int); INSERT INTO t VALUES (%d); CREATE TABLE big (x char(64)) ENGINE=Aria;'
            ' INSERT INTO big SELECT concat(md5(rand()), md5(rand())) FROM seq_1_to_%d' % (value, rows), db_name)


# ---------------------------------------------------------------- the scene
@pytest.fixture(scope='module')
def tally(figures):
    yield TALLY
    record_figures(figures, 'host', dict(TALLY), CASES)


@pytest.fixture
def scene(servers, tally):
    """A state_dir of its own; afterwards every database of this test's customer is gone and both servers run."""
    state_dir = tempfile.mkdtemp(prefix='wayscloud-faults-host-')
    made = []

    def options(db_type, **more):
        return dict(host_options(servers, db_type, state_dir), customer_id=CUSTOMER, **more)

    def database(db_type, name, megabytes=0):
        result = run_module('wayscloud_database', options(db_type, requested_name=name))
        assert result.get('changed') and result.get('password'), result.get('msg')
        made.append((db_type, name))
        if megabytes:
            fill(servers, db_type, result['database']['db_name'], megabytes)
        return result['database']['db_name'], result['password']

    yield dict(state_dir=state_dir, options=options, database=database)
    for db_type in ('postgresql', 'mariadb'):
        try:
            sql(servers, db_type, 'SELECT 1')
        except subprocess.CalledProcessError:
            start_server(servers, db_type)
        for name in server_databases(servers, db_type):
            if name.startswith(('wcr_', 'wco_')):
                sql(servers, db_type, 'DROP DATABASE %s' % name)
        for name in sorted(server_databases(servers, db_type), key=lambda name: 'copy' not in name):  # copies first
            if name.startswith(PREFIX):
                run_module('wayscloud_database', options(db_type, name=name, state='absent'))
    shutil.rmtree(state_dir, ignore_errors=True)


def settled(servers, scene, db_type, problems=None):
    """Problems left once things are settled: partial dumps, scratch databases, catalog against server."""
    problems = list(problems or [])
    problems += catalog_problems(servers, scene['state_dir'], db_type, PREFIX)
    leftovers = scratch_databases(servers, db_type)
    if leftovers:
        problems.append('scratch databases left: %s' % leftovers)
    return problems


def record(case, problems):
    TALLY['injected'] += 1
    TALLY['survived_consistent'] += 0 if problems else 1
    CASES.append('host ' + case)
    assert not problems, '%s: %s' % (case, '; '.join(problems))


def wait_for(what, seconds=60):
    deadline = time.time() + seconds
    while not what():
        assert time.time() < deadline, 'timed out waiting'
        time.sleep(0.02)


def snapshot_rows(scene):
    import sqlite3
    conn = sqlite3.connect(os.path.join(scene['state_dir'], 'catalog.sqlite3'))
    try:
        return conn.execute('SELECT count(*) FROM snapshots').fetchone()[0]
    finally:
        conn.close()


def partial_dumps(scene):
    for dummy, dirs, dummy2 in os.walk(os.path.join(scene['state_dir'], 'snapshots')):
        if any(name.endswith('.partial') for name in dirs):
            return True
    return False


# ---------------------------------------------------------------- the tests
@pytest.mark.parametrize('db_type', ['postgresql', 'mariadb'])
def test_server_stopped_before_a_run(servers, scene, db_type):
    db_name, password = scene['database'](db_type, 'down')
    stop_server(servers, db_type)
    try:
        created = run_module('wayscloud_database', scene['options'](db_type, requested_name='downnew'))
        rotated = run_module('wayscloud_database_credentials', scene['options'](db_type, name=db_name, rotate=True))
    finally:
        start_server(servers, db_type)
    problems = []
    for result in (created, rotated):
        if not result.get('failed'):
            problems.append('succeeded with the server down')
        problems += clear_failure(result, None, [password])
    if not logs_in(servers, db_type, db_name, password):
        problems.append('the password no longer works')
    again = run_module('wayscloud_database', scene['options'](db_type, requested_name='downnew'))
    if not again.get('changed') or not logs_in(servers, db_type, again['database']['db_name'], again.get('password')):
        problems.append('creating after the restart: %s' % again.get('msg'))
    record('%s stopped before a run' % db_type, settled(servers, scene, db_type, problems))


def test_postgresql_stopped_during_a_snapshot(servers, scene):
    db_name, password = scene['database']('postgresql', 'dumpdown', megabytes=40)
    process, finish = start_module('wayscloud_database_snapshot', scene['options']('postgresql', name=db_name, label='a'))
    try:
        wait_for(lambda: partial_dumps(scene) or process.poll() is not None)
        stop_server(servers, 'postgresql')
        result = finish()
    finally:
        start_server(servers, 'postgresql')
    problems = [] if result.get('failed') else ['the snapshot succeeded: the server was stopped too late']
    problems += clear_failure(result, None, [password])
    if partial_dumps(scene) or snapshot_rows(scene):
        problems.append('partial dump or snapshot row left')
    again = run_module('wayscloud_database_snapshot', scene['options']('postgresql', name=db_name, label='a'))
    if not again.get('changed') or snapshot_rows(scene) != 1:
        problems.append('the next snapshot: %s' % again.get('msg'))
    record('PostgreSQL stopped during a snapshot', settled(servers, scene, 'postgresql', problems))


def interrupted_restore(servers, scene, requested_name, interrupt, too_late):
    """The problems of a MariaDB restore (a 20 MB database's snapshot into loadcopy) that ``interrupt(process, finish)``
    breaks, returning the module's result: it must fail cleanly (``too_late`` says why it did not), the next one work."""
    db_name, password = scene['database']('mariadb', requested_name, megabytes=20)
    taken = run_module('wayscloud_database_snapshot', scene['options']('mariadb', name=db_name, label='a'))
    assert taken.get('changed'), taken.get('msg')
    restore = scene['options']('mariadb', name=db_name, label='a', state='restored', target_db_name='loadcopy')
    result = interrupt(*start_module('wayscloud_database_snapshot', restore))
    problems = [] if result.get('failed') else ['the restore succeeded: %s' % too_late]
    problems += clear_failure(result, None, [password])
    again = run_module('wayscloud_database_snapshot', restore)
    if again.get('failed') or sql(servers, 'mariadb', 'SELECT v FROM t', PREFIX + 'mdb_loadcopy') != '1':
        problems.append('the next restore: %s' % again.get('msg'))
    return problems


def test_mariadb_stopped_during_a_restore(servers, scene):
    def stop(process, finish):
        try:
            wait_for(lambda: scratch_databases(servers, 'mariadb') or process.poll() is not None)
            stop_server(servers, 'mariadb')
            return finish()
        finally:
            start_server(servers, 'mariadb')
    problems = interrupted_restore(servers, scene, 'loaddown', stop, 'the server was stopped too late')
    record('MariaDB stopped during a restore', settled(servers, scene, 'mariadb', problems))


def test_session_killed_during_a_dump(servers, scene):
    """pg_dump waits for a lock another session holds on its table, and its session is terminated there."""
    db_name, password = scene['database']('postgresql', 'dumpkill', megabytes=1)
    locker = subprocess.Popen(['psql', '-h', servers['WAYSCLOUD_PG_SOCKET_DIR'], '-p', servers['WAYSCLOUD_PG_PORT'], '-U',
                               'postgres', '-d', db_name, '-AtX', '-c',
                               'BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120)'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: sql(servers, 'postgresql', "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                             " WHERE d.datname = '%s' AND l.mode = 'AccessExclusiveLock' AND l.granted" % db_name) != '0')
        process, finish = start_module('wayscloud_database_snapshot', scene['options']('postgresql', name=db_name, label='a'))
        query = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
                 " AND application_name = 'wayscloud.databases' AND wait_event_type = 'Lock'" % db_name)
        wait_for(lambda: 't' in sql(servers, 'postgresql', query) or process.poll() is not None)
        result = finish()
    finally:
        locker.terminate()
        locker.wait()
    problems = [] if result.get('failed') else ['the dump succeeded: its session was killed too late']
    problems += clear_failure(result, None, [password])
    if partial_dumps(scene) or snapshot_rows(scene):
        problems.append('partial dump or snapshot row left')
    record('pg_terminate_backend of pg_dump', settled(servers, scene, 'postgresql', problems))


def test_session_killed_during_a_restore(servers, scene):
    query = "SELECT id FROM information_schema.processlist WHERE db LIKE 'wcr\\_%' AND command <> 'Sleep'"

    def kill():
        ids = sql(servers, 'mariadb', query).split()
        for session in ids:
            subprocess.run(['mariadb', '--no-defaults', '-S', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-e',
                            'KILL %s' % session], capture_output=True, check=False)
        return bool(ids)

    def kill_sessions(process, finish):
        """Until the restore ends, kill every session working in its scratch database: the first one seen may be a
        short one (making the tables), ending as it is killed."""
        def killing():
            kill()
            return process.poll() is not None
        wait_for(killing)
        return finish()
    problems = interrupted_restore(servers, scene, 'loadkill', kill_sessions, 'its session was killed too late')
    record('KILL of the restore session', settled(servers, scene, 'mariadb', problems))


def test_disk_full_during_a_snapshot(servers, scene):
    """state_dir on a 3 MB tmpfs, a database of 20 MB: the dump cannot fit."""
    mount = tempfile.mkdtemp(prefix='wayscloud-faults-tmpfs-')
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', mount], check=True)
    try:
        state = dict(scene, state_dir=mount)
        options = dict(host_options(servers, 'postgresql', mount), customer_id=CUSTOMER)
        made = run_module('wayscloud_database', dict(options, requested_name='full'))
        assert made.get('changed'), made.get('msg')
        fill(servers, 'postgresql', made['database']['db_name'], 20)
        result = run_module('wayscloud_database_snapshot', dict(options, name=made['database']['db_name'], label='a'))
        problems = [] if result.get('failed') else ['a 20 MB dump fit on 3 MB']
        problems += clear_failure(result, None, [made['password']])
        if 'space' not in result.get('msg', ''):
            problems.append('the message does not say the disk is full: %s' % result.get('msg'))
        if partial_dumps(state) or snapshot_rows(state):
            problems.append('partial dump or snapshot row left')
        problems += catalog_problems(servers, mount, 'postgresql', PREFIX)
        run_module('wayscloud_database', dict(options, name=made['database']['db_name'], state='absent'))
    finally:
        subprocess.run(['umount', mount], check=True)
        os.rmdir(mount)
    record('disk full during a snapshot', problems)


def kill_at_every_step(run, check):
    """run(step) -> (killed, result); check() -> problems after the next run; until a run is not killed."""
    problems, step = [], 1
    while True:
        killed, result = run(step)
        found = check(step, killed, result)
        problems += ['step %d: %s' % (step, problem) for problem in found]
        if not killed:
            # A run never killed means the hooks no longer meet the operation: that would test nothing.
            assert step > 1, 'the first run was not killed: none of the counted calls happened'
            return problems, step - 1
        step += 1


@pytest.mark.parametrize('db_type', ['postgresql', 'mariadb'])
def test_killed_during_a_rotation(servers, scene, db_type):
    from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
    vault = dict(vault_url=servers['WAYSCLOUD_VAULT_ADDR'], vault_token=servers['WAYSCLOUD_VAULT_TOKEN'],
                 vault_path_prefix='faultshost')
    store = VaultStore(servers['WAYSCLOUD_VAULT_ADDR'], servers['WAYSCLOUD_VAULT_TOKEN'], prefix='faultshost')
    db_name = scene['database'](db_type, 'rot')[0]
    options = scene['options'](db_type, name=db_name, **vault)
    first = run_module('wayscloud_database_credentials', dict(options, rotate=True))
    assert first.get('changed'), first.get('msg')
    driver = 'ansible_collections.wayscloud.databases.plugins.module_utils.host.%s.database' % db_type
    cls = 'PostgreSQLDriver' if db_type == 'postgresql' else 'MariaDBDriver'
    counted = [('ansible_collections.wayscloud.databases.plugins.module_utils.vault', 'VaultStore.write'),
               (driver, cls + '.set_password'), (driver, cls + '.terminate_user_sessions'),
               ('ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog', 'Catalog.record_event')]
    known = [first['password']]

    def check(step, killed, result):
        found = []
        if not killed:
            if result.get('failed') or not logs_in(servers, db_type, db_name, result.get('password')):
                found.append('the rotation that was not killed: %s' % result.get('msg'))
            return found
        read = run_module('wayscloud_database_credentials', options)  # the next run settles
        if read.get('failed'):
            found.append('the next run: %s' % read.get('msg'))
        stored = store.read(db_type, db_name)[0] or {}
        if stored.get('pending') or not logs_in(servers, db_type, db_name, stored.get('password')):
            found.append('Vault does not hold the password the server accepts')
        known.append(stored.get('password'))
        return found
    problems, steps = kill_at_every_step(
        lambda step: run_module_dying('wayscloud_database_credentials', dict(options, rotate=True), step, counted), check)
    if store.read(db_type, db_name)[0]:
        store.delete(db_type, db_name)
    record('kill -9 at each of %d steps of a %s rotation' % (steps, db_type),
           settled(servers, scene, db_type, problems))


def test_killed_during_a_snapshot(servers, scene):
    db_name, password = scene['database']('postgresql', 'snapkill', megabytes=2)
    options = scene['options']('postgresql', name=db_name, label='a')
    engine = 'ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.snapshot'
    counted = [(engine, 'PostgreSQLSnapshotEngine.properties'), (engine, 'PostgreSQLSnapshotEngine.dump'),
               (HOST_SNAPSHOTS, 'build_manifest'), ('os', 'rename'),
               ('ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog', 'Catalog.save_snapshot')]

    def check(step, killed, result):
        if not killed:
            return [] if result.get('changed') else ['the snapshot that was not killed: %s' % result.get('msg')]
        again = run_module('wayscloud_database_snapshot', options)  # the next run settles, and takes it
        found = [] if again.get('changed') and snapshot_rows(scene) == 1 else ['the next run: %s' % again.get('msg')]
        found += catalog_problems(servers, scene['state_dir'], 'postgresql', PREFIX)
        run_module('wayscloud_database_snapshot', dict(options, state='absent'))
        return found
    problems, steps = kill_at_every_step(lambda step: run_module_dying('wayscloud_database_snapshot', options, step, counted),
                                         check)
    record('kill -9 at each of %d steps of a snapshot' % steps, settled(servers, scene, 'postgresql', problems))


def test_killed_during_a_restore(servers, scene):
    """In place (force): afterwards the database holds the old contents or the snapshot's, never a mix or nothing."""
    db_name, password = scene['database']('mariadb', 'restkill', megabytes=1)
    options = scene['options']('mariadb', name=db_name, label='a')
    assert run_module('wayscloud_database_snapshot', options).get('changed')
    engine = 'ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.snapshot'
    counted = [(HOST_SNAPSHOTS, 'HostSnapshots._journal'), (engine, 'MariaDBSnapshotEngine.restore_into'),
               (engine, 'MariaDBSnapshotEngine.swap'), (engine, 'MariaDBSnapshotEngine.swapped')]
    restore = dict(options, state='restored', force=True)

    def check(step, killed, result):
        if not killed:
            found = [] if result.get('changed') else ['the restore that was not killed: %s' % result.get('msg')]
        else:
            again = run_module('wayscloud_database_snapshot', restore)  # the next run settles, and restores
            found = [] if again.get('changed') else ['the next run: %s' % again.get('msg')]
        value = sql(servers, 'mariadb', 'SELECT v FROM t', db_name)
        if value != '1':
            found.append('the database holds %r, not the snapshot\'s contents' % value)
        found += [] if logs_in(servers, 'mariadb', db_name, password) else ['the password no longer works']
        found += settled(servers, scene, 'mariadb')
        sql(servers, 'mariadb', 'UPDATE t SET v = 2', db_name)  # new contents, so a restore shows
        return found
    sql(servers, 'mariadb', 'UPDATE t SET v = 2', db_name)
    problems, steps = kill_at_every_step(lambda step: run_module_dying('wayscloud_database_snapshot', restore, step, counted),
                                         check)
    record('kill -9 at each of %d steps of an in-place restore' % steps, settled(servers, scene, 'mariadb', problems))
