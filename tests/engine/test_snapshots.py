# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots and restores on real servers: round trips, kills, damage, load and bad input."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import block_groups
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import scram_sha_256_verifier
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from ansible_collections.wayscloud.databases.tests import openbao
from ansible_collections.wayscloud.databases.tests.environment import setting

from commands import run

from snapshot_fixtures import admin, execute, fingerprint, flip_one_byte, hba_block, populate, query, run_script
from test_databases import connect_as, create

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def filled(engine):
    """(databases, snapshots, db_name, password) for a populated database of each engine."""
    databases, state_dir = engine
    database, password = create(databases, 'snap')
    populate(databases, database['db_name'])
    yield databases, databases.snapshots(), database['db_name'], password
    for row in databases.catalog.list(databases.db_type):
        if row['db_name'] != database['db_name']:
            databases.delete(row['db_name'])


def change(databases, db_name):
    """Make the database differ from its snapshot in rows, schema and sequences."""
    if databases.db_type == 'postgresql':
        run_script(databases, db_name, "DELETE FROM public.accounts WHERE id < 100;\nCREATE TABLE public.extra (x int);\n"
                                       "SELECT nextval('public.invoice_numbers')")
    else:
        run_script(databases, db_name, 'DELETE FROM accounts WHERE id < 100;\nCREATE TABLE extra (x int);\n'
                                       'SELECT NEXTVAL(invoice_numbers)')


def server_databases(databases):
    if databases.db_type == 'postgresql':
        return sorted(row[0] for row in databases.driver.execute('SELECT datname FROM pg_database'))
    return sorted(row[0] for row in databases.driver.execute('SHOW DATABASES'))


def test_round_trip_in_place_keeps_everything(filled):
    databases, snapshots, db_name, password = filled
    before = fingerprint(databases, db_name)
    snapshot = snapshots.create(db_name, description='before the change')
    change(databases, db_name)
    assert fingerprint(databases, db_name) != before
    assert snapshots.restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert fingerprint(databases, db_name) == before
    assert databases.get(db_name)['username'] == db_name
    connect_as(databases, db_name, password, db_name).close()  # the user still gets in
    assert [name for name in server_databases(databases) if name.startswith(('wcr_', 'wco_'))] == []


def test_snapshot_files_are_private_and_checksummed(filled):
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    row = databases.catalog.snapshot(snapshot['snapshot_id'])
    folder = os.path.join(databases.catalog.state_dir, 'snapshots', databases.db_type, db_name, snapshot['snapshot_id'])
    for root, dirs, files in os.walk(folder):
        assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o600
    manifest = json.loads(row['manifest'])
    assert manifest and row['size_bytes'] == sum(entry[1] for entry in manifest) > 0
    assert len(row['sha256']) == 64
    assert password not in json.dumps(row)


def test_restore_into_new_database_is_reachable_by_the_same_user(filled):
    databases, snapshots, db_name, password = filled
    before = fingerprint(databases, db_name)
    snapshot = snapshots.create(db_name)
    change(databases, db_name)
    target, changed = snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_copy')
    assert changed and target == db_name.replace('_snap', '_snap_copy')
    assert fingerprint(databases, db_name) != before  # the original keeps its current contents
    copy = fingerprint(databases, target, user=db_name)
    assert copy['tables'] == before['tables'] and copy['views'] == before['views']
    connect_as(databases, db_name, password, target).close()
    assert databases.get(target)['username'] == db_name
    assert snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_copy') == (target, False)
    other = snapshots.create(db_name)
    with pytest.raises(BackendError, match='exists already'):
        snapshots.restore(db_name, other['snapshot_id'], 'snap_copy')
    assert databases.drops_user(target) is False and databases.drops_user(db_name) is False  # each keeps it for the other


def test_deleting_a_database_keeps_its_user_for_the_copies_restored_from_it(filled):
    """The copy stays, and so does the user that reaches it; the last database using the user takes it along.
    Restoring a snapshot of a database whose user is gone is then refused with what to do (an API 400)."""
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    target = snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_copy')[0]
    assert databases.delete(db_name)
    assert databases.warnings[-1] == ('user %s stays: %s (restored from snapshots of %s) still use it; it is dropped'
                                      ' with the last of them' % (db_name, target, db_name))
    assert databases.get(db_name) is None and databases.driver.user_exists(db_name)
    connect_as(databases, db_name, password, target).close()
    assert databases.drops_user(db_name) is False and databases.delete(db_name) is False  # nothing left to do
    assert databases.drops_user(target) is True
    assert databases.delete(target)
    assert not databases.driver.user_exists(db_name)
    with pytest.raises(Conflict, match='user %s of snapshot %s no longer exists .*: create database %s again'
                       % (db_name, snapshot['snapshot_id'], db_name)):
        snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_again')


def test_postgresql_loader_sessions_load_with_the_collections_settings(filled):
    """The loader's sessions commit asynchronously with at least the server's maintenance_work_mem, whatever the
    owner set for its role; a tenant's CHECK function fails the restore with what the loader's session had."""
    databases, snapshots, db_name, password = filled
    if databases.db_type != 'postgresql':
        pytest.skip('PostgreSQL session settings')
    conn = admin(databases, db_name)
    try:
        execute(conn, "CREATE FUNCTION public.note() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN"
                      " IF session_user LIKE 'wcl\\_%' THEN RAISE EXCEPTION 'loaded with sync=% memory=%',"
                      " current_setting('synchronous_commit'), pg_size_bytes(current_setting('maintenance_work_mem'));"
                      " END IF; RETURN true; END $$;\n"
                      "CREATE TABLE public.watched (x int CHECK (public.note()));\n"
                      "INSERT INTO public.watched VALUES (1);\n"
                      + "ALTER ROLE \"%s\" SET maintenance_work_mem = '1MB';\n"
                      "ALTER ROLE \"%s\" SET synchronous_commit = on" % (db_name, db_name))
    finally:
        conn.close()
    snapshot = snapshots.create(db_name)
    before = fingerprint(databases, db_name)
    server = databases.driver.execute("SELECT pg_size_bytes(current_setting('maintenance_work_mem'))")[0][0]
    with pytest.raises(BackendError) as failed:
        snapshots.restore(db_name, snapshot['snapshot_id'])
    seen = re.search(r'loaded with sync=(\w+) memory=(\d+)', str(failed.value))
    assert seen and seen.group(1) == 'off' and int(seen.group(2)) >= server, str(failed.value)[-2000:]
    assert fingerprint(databases, db_name) == before


def test_a_failed_creation_that_adopted_a_kept_user_gives_it_back_as_it_was(filled):
    """Creating a deleted database again adopts the user kept for its copies (a new password, the new limit). When
    that creation fails afterwards (here Vault refuses the password), only what it did is undone: the database and
    its pg_hba lines go, and the user stays, with the password (the one Vault still holds) and limit it had, so the
    copy's logins keep working; the error is Vault's. So when the database itself fails (PostgreSQL: its template
    is in use)."""
    databases, snapshots, db_name, password = filled
    copy = snapshots.restore(db_name, snapshots.create(db_name)['snapshot_id'], 'snap_copy')[0]
    assert databases.delete(db_name) and databases.driver.user_exists(db_name)
    before = databases.driver.user_state(db_name)
    prefix = openbao.unique('kept')
    role = openbao.read_only_approle(prefix)  # reads (the check before creating) but may not write
    databases.vault = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                                 prefix=prefix)
    with pytest.raises(BackendError) as refused:
        databases.create('engtest', 'snap', connection_limit=17)
    databases.vault = None
    assert 'Vault refused to write' in str(refused.value) and 'undoing' not in str(refused.value), str(refused.value)
    assert databases.get(db_name) is None and databases.driver.user_state(db_name) == before
    if databases.db_type == 'postgresql':
        assert db_name not in block_groups(hba_block(databases))[0]
        with databases.driver.session_in('template1'):  # CREATE DATABASE fails, after the role took the new password
            with pytest.raises(BackendError, match='template1'):
                databases.create('engtest', 'snap', connection_limit=17)
        assert databases.get(db_name) is None and databases.driver.user_state(db_name) == before
    connect_as(databases, db_name, password, copy).close()


def test_restore_ends_connected_sessions(filled):
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    client = connect_as(databases, db_name, password, db_name)
    with client.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM accounts')
    assert snapshots.restore(db_name, snapshot['snapshot_id'])[1]
    with pytest.raises(Exception):
        with client.cursor() as cursor:
            cursor.execute('SELECT count(*) FROM accounts')
    client.close()
    connect_as(databases, db_name, password, db_name).close()


@pytest.mark.parametrize('point', [1, 2, 3, 4, 5, 6, 7])
def test_restore_killed_at_any_point_leaves_original_or_snapshot_whole(filled, point):
    databases, snapshots, db_name, password = filled
    if point == 7 and databases.db_type != 'mariadb':
        pytest.skip('only MariaDB imports tablespace files')
    wanted = fingerprint(databases, db_name)
    snapshot = snapshots.create(db_name)
    change(databases, db_name)
    original = fingerprint(databases, db_name)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, os.path.join(HERE, 'restore_and_die.py'), databases.db_type, db_name,
                           databases.catalog.state_dir, snapshot['snapshot_id'], str(point)],
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == -9, done.stderr
    databases.catalog.close()
    # Until settled, the original is already whole (before the swap) or holds the snapshot (after it).
    settled = databases.snapshots()
    with databases.catalog.lock(databases.db_type, db_name):
        settled.settle(db_name)
    assert databases.catalog.restores(databases.db_type) == []
    assert fingerprint(databases, db_name) == (wanted if point in (5, 6) else original)
    time.sleep(0.5)  # an orphaned restore tool ends once its scratch database is gone
    assert [name for name in server_databases(databases) if name.startswith(('wcr_', 'wco_'))] == []
    connect_as(databases, db_name, password, db_name).close()


def test_damaged_snapshot_is_refused_before_anything_is_touched(filled):
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    change(databases, db_name)
    current = fingerprint(databases, db_name)
    folder = os.path.join(databases.catalog.state_dir, 'snapshots', databases.db_type, db_name, snapshot['snapshot_id'])
    largest = max((os.path.join(root, name) for root, dirs, names in os.walk(folder) for name in names),
                  key=os.path.getsize)
    flip_one_byte(largest)
    listed = server_databases(databases)
    with pytest.raises(BackendError, match='damaged'):
        snapshots.restore(db_name, snapshot['snapshot_id'])
    with pytest.raises(BackendError, match='damaged'):
        snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_copy')
    assert server_databases(databases) == listed
    assert fingerprint(databases, db_name) == current


def test_bad_input_fails_clearly_and_changes_nothing(filled, logins, tmp_path):
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    other, other_password = create(databases, 'snapother')
    foreign = snapshots.create(other['db_name'])
    listed, rows = server_databases(databases), databases.catalog.snapshots(databases.db_type)
    cases = [
        (NotFound, 'has no snapshot', (db_name, 'snap_20200101_000000_deadbeef')),
        (NotFound, 'has no snapshot', (db_name, foreign['snapshot_id'])),
        (ValidationError, 'not a snapshot id', (db_name, '../' + snapshot['snapshot_id'])),
        (ValidationError, 'not a snapshot id', (db_name, '/etc/passwd')),
        (ValidationError, 'target_db_name', (db_name, snapshot['snapshot_id'], '../evil')),
        (ValidationError, 'target_db_name', (db_name, snapshot['snapshot_id'], 'a' * 40)),
        (ValidationError, 'belongs to customer', (db_name, snapshot['snapshot_id'],
                                                  other['db_name'].replace('engtest', 'someone'))),
        (ValidationError, 'the database itself', (db_name, snapshot['snapshot_id'], db_name)),
        (BackendError, 'exists already', (db_name, snapshot['snapshot_id'], other['db_name'])),
    ]
    for error, message, args in cases:
        with pytest.raises(error, match=message):
            snapshots.restore(*args)
    with pytest.raises(ValidationError, match='not a snapshot id'):
        snapshots.delete(db_name, '../../catalog.sqlite3')
    assert snapshots.delete(db_name, foreign['snapshot_id']) is False
    assert server_databases(databases) == listed
    assert databases.catalog.snapshots(databases.db_type) == rows
    databases.delete(other['db_name'])


def test_delete_removes_files_and_row(filled):
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    folder = os.path.join(databases.catalog.state_dir, 'snapshots', databases.db_type, db_name, snapshot['snapshot_id'])
    assert os.path.isdir(folder)
    assert snapshots.delete(db_name, snapshot['snapshot_id']) is True
    assert not os.path.exists(folder) and snapshots.list(db_name) == []
    assert snapshots.delete(db_name, snapshot['snapshot_id']) is False


def test_killed_dump_leaves_no_snapshot(filled):
    databases, snapshots, db_name, password = filled
    parent = os.path.join(databases.catalog.state_dir, 'snapshots', databases.db_type, db_name)
    os.makedirs(os.path.join(parent, 'snap_20200101_000000_00000000.partial'))
    snapshots.create(db_name)
    assert [name for name in os.listdir(parent) if name.endswith('.partial')] == []


def _writer(databases, db_name, password, stop, errors):
    """Transfers between accounts that keep the total constant, each with a ledger row, until stopped."""
    try:
        conn = connect_as(databases, db_name, password, db_name)
        conn.autocommit = False
        number = 0
        while not stop.is_set():
            number += 1
            with conn.cursor() as cursor:
                cursor.execute('UPDATE accounts SET balance = balance - 1 WHERE id = %s', (number % 400 + 1,))
                cursor.execute('UPDATE accounts SET balance = balance + 1 WHERE id = %s', (number % 399 + 2,))
                cursor.execute('INSERT INTO ledger (amount) VALUES (1)')
            conn.commit()
        conn.close()
    except Exception as exc:  # reported by the test, which would otherwise pass on a dead writer
        errors.append(exc)


def test_snapshot_under_write_load_restores_consistent(filled):
    databases, snapshots, db_name, password = filled
    conn = admin(databases, db_name)
    table = 'public.ledger' if databases.db_type == 'postgresql' else 'ledger'
    execute(conn, 'CREATE TABLE %s (id %s PRIMARY KEY, amount int)' % (
        table, 'serial' if databases.db_type == 'postgresql' else 'int AUTO_INCREMENT'))
    if databases.db_type == 'postgresql':
        execute(conn, 'ALTER TABLE public.ledger OWNER TO %s' % db_name)
    total = query(conn, 'SELECT sum(balance) FROM accounts')[0][0]
    conn.close()
    stop, errors = threading.Event(), []
    writers = [threading.Thread(target=_writer, args=(databases, db_name, password, stop, errors)) for dummy in range(2)]
    for writer in writers:
        writer.start()
    time.sleep(0.5)
    try:
        snapshot = snapshots.create(db_name)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert errors == []
    target = snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_load')[0]
    conn = admin(databases, target)
    try:
        assert query(conn, 'SELECT sum(balance) FROM accounts')[0][0] == total
        assert int(query(conn, 'SELECT count(*) FROM ledger')[0][0]) > 0
    finally:
        conn.close()
    shutil.rmtree(os.path.join(databases.catalog.state_dir, 'work'), ignore_errors=True)


def test_a_copy_is_firewalled_and_credentialled_through_its_user(filled):
    databases, snapshots, db_name, password = filled
    snapshot = snapshots.create(db_name)
    target = snapshots.restore(db_name, snapshot['snapshot_id'], 'snap_fw')[0]
    databases.network = NETWORKS['none'](run)
    with pytest.raises(BackendError, match='manage the credentials through database %s' % db_name):
        databases.credentials().get(target)
    if databases.db_type == 'mariadb':
        with pytest.raises(BackendError, match='give the rule to %s' % db_name):
            databases.firewall().add(target, '198.18.0.9/32')
        return
    rule = databases.firewall().add(target, '198.18.0.9/32')[0]
    assert (target, db_name, '198.18.0.9/32') in databases.driver.access()
    databases.firewall().remove(target, rule['rule_id'])
    assert (target, db_name, '198.18.0.9/32') not in databases.driver.access()


def test_creating_a_database_settles_a_killed_restore_into_its_name(filled):
    databases, snapshots, db_name, password = filled
    target = db_name.replace('_snap', '_snap_late')
    databases.catalog.save_restore(dict(
        restore_id='deadbeef', db_type=databases.db_type, db_name=db_name, snapshot_id='snap_20260101_000000_deadbeef',
        target=target, new_database=1, phase='restoring', started_at='2026-01-01T00:00:00Z',
        detail=json.dumps(dict(scratch='wcr_deadbeef', aside='wco_deadbeef', owner=db_name,
                               workdir=os.path.join(databases.catalog.state_dir, 'work', 'restore-deadbeef')))))
    database, new_password, created = databases.create('engtest', 'snap_late')
    assert created and database['db_name'] == target and databases.catalog.restores(databases.db_type) == []
    connect_as(databases, target, new_password, target).close()


@pytest.fixture
def password_admin(engine):
    """(databases logged in over TCP as an administrator with a password, password, commands run)."""
    databases, state_dir = engine
    admin_password = 'Adm1n-' + os.urandom(12).hex()
    name = 'wc_engadmin'
    if databases.db_type == 'postgresql':
        databases.driver.execute(databases.driver.sql('DROP ROLE IF EXISTS {}', name))
        databases.driver.execute(databases.driver.sql('CREATE ROLE {} SUPERUSER LOGIN PASSWORD %s', name),
                                 (scram_sha_256_verifier(admin_password),))
    else:
        databases.driver.execute('DROP USER IF EXISTS %s@%s', (name, '127.0.0.1'))
        databases.driver.execute('CREATE USER %s@%s IDENTIFIED BY %s', (name, '127.0.0.1', admin_password))
        databases.driver.execute('GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION', (name, '127.0.0.1'))
    commands = []

    def recording(argv, stdin=None, env=None):
        defaults = [part.split('=', 1)[1] for part in argv if part.startswith('--defaults-extra-file=')]
        commands.append(dict(argv=list(argv), env=dict(env or {}), defaults=[
            (path, oct(os.stat(path).st_mode & 0o777), open(path).read()) for path in defaults]))
        return run(argv, stdin=stdin, env=env)
    login = ServerLogin(host='127.0.0.1', port=databases.driver.port, user=name, password=admin_password,
                        public_host='127.0.0.1')
    over_tcp = HostDatabases(databases.db_type, login, state_dir, run=recording)
    yield over_tcp, admin_password, commands
    over_tcp.close()
    if databases.db_type == 'postgresql':
        databases.driver.execute(databases.driver.sql('DROP ROLE IF EXISTS {}', name))
    else:
        databases.driver.execute('DROP USER IF EXISTS %s@%s', (name, '127.0.0.1'))


def test_an_administrator_password_never_reaches_argv_files_or_the_catalog(engine, password_admin):
    """The dump and restore tools get the password through PGPASSWORD or a 0600 defaults file outside the
    snapshot, which is gone afterwards; nothing under state_dir holds it."""
    databases, state_dir = engine
    over_tcp, admin_password, commands = password_admin
    db_name = create(databases, 'snaptcp')[0]['db_name']
    populate(databases, db_name)
    before = fingerprint(databases, db_name)
    # A rule puts the database in PostgreSQL's pg_hba block, whose rejects come before other lines:
    # the administrator who wrote it still gets in over TCP from this host.
    over_tcp.network = NETWORKS['none'](run)
    over_tcp.firewall().add(db_name, '198.18.0.77/32')
    snapshots = over_tcp.snapshots()
    snapshot = snapshots.create(db_name)
    change(databases, db_name)
    assert snapshots.restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert fingerprint(databases, db_name) == before
    tools = [command for command in commands if 'dump' in ' '.join(command['argv'][:4])
             or 'restore' in command['argv'][0] or 'load' in ' '.join(command['argv'][:4])]
    assert len(tools) >= 2
    for command in commands:
        in_argv = any(admin_password in part for part in command['argv'])
        assert not in_argv, command['argv'][0]  # booleans only: pytest would print a compared password
        if command['argv'][0] == 'zstd':  # tablespace files are compressed and placed without a login
            assert not command['defaults'] and admin_password not in ''.join(command['env'].values())
            continue
        # The administrator's tools carry its password; a restore's loader login carries its own.
        loader = any(part.startswith(('--username=wcl_', '--user=wcl_')) for part in command['argv'])
        if databases.db_type == 'postgresql':
            secret = command['env'].get('PGPASSWORD') or ''
            assert secret and not command['defaults']
        else:
            assert len(command['defaults']) == 1, command['argv'][:4]
            path, mode, secret = command['defaults'][0]
            assert mode == '0o600'
            assert os.path.join(state_dir, 'snapshots') not in path
            assert not os.path.exists(path)  # removed once the tool ended
        carries_admin = admin_password in secret
        assert carries_admin != loader, command['argv'][:4]
    for root, dirs, names in os.walk(state_dir):
        for name in names:
            with open(os.path.join(root, name), 'rb') as handle:
                left = admin_password.encode() in handle.read()
                assert not left, os.path.join(root, name)
