# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MariaDB snapshots copy InnoDB tables as tablespace files and dump the rest as SQL; restores import the files.

The round trips, kills, damage and load of tests/engine/test_snapshots.py run on this path too (their database
has InnoDB tables and a sequence); these tests cover what is particular to it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb import tablespaces

from commands import run

from snapshot_fixtures import admin, execute, fingerprint, populate, query, run_script
from test_databases import create

HERE = os.path.dirname(os.path.abspath(__file__))

# Tables that cannot be copied as files, each for its reason, next to two that can (one referencing the other).
MIXED = """
CREATE TABLE parent (id int PRIMARY KEY, name varchar(20)) ENGINE=InnoDB ROW_FORMAT=COMPACT;
CREATE TABLE child (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE=InnoDB;
CREATE TABLE plain_myisam (id int PRIMARY KEY, note text) ENGINE=MyISAM;
CREATE TABLE plain_aria (id int PRIMARY KEY) ENGINE=Aria;
CREATE TABLE parts (id int PRIMARY KEY) ENGINE=InnoDB PARTITION BY HASH (id) PARTITIONS 2;
CREATE TABLE texts (id int PRIMARY KEY, body text, FULLTEXT KEY body (body)) ENGINE=InnoDB;
CREATE TABLE `odd-name` (id int PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE history (id int PRIMARY KEY) WITH SYSTEM VERSIONING;
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
INSERT INTO child VALUES (10, 1), (11, 2);
INSERT INTO plain_myisam VALUES (1, 'kept'), (2, 'too');
INSERT INTO plain_aria VALUES (7);
INSERT INTO parts SELECT seq FROM seq_1_to_10;
INSERT INTO texts VALUES (1, 'full text search');
INSERT INTO `odd-name` VALUES (3);
INSERT INTO history VALUES (5)
"""


@pytest.fixture
def mariadb(logins, tmp_path):
    databases = HostDatabases('mariadb', logins['mariadb'], str(tmp_path / 'state'), run=run)
    databases.made = []
    yield databases
    for db_name in databases.made:
        databases.delete(db_name)
    databases.close()


def properties(databases, snapshot):
    return json.loads(databases.catalog.snapshot(snapshot['snapshot_id'])['properties'])


def files(databases, db_name, snapshot):
    row = databases.catalog.snapshot(snapshot['snapshot_id'])
    return sorted(entry[0] for entry in json.loads(row['manifest']))


def test_innodb_tables_are_copied_as_files_and_the_sequence_dumped(mariadb):
    db_name = create(mariadb, 'tbsp')[0]['db_name']
    populate(mariadb, db_name)
    before = fingerprint(mariadb, db_name)
    snapshot = mariadb.snapshots().create(db_name)
    assert files(mariadb, db_name, snapshot) == [
        'dump.sql.zst', 'objects.json', 'tables.sql.zst', 'tablespaces/accounts.cfg.zst',
        'tablespaces/accounts.ibd.zst', 'tablespaces/audit.cfg.zst', 'tablespaces/audit.ibd.zst']
    recorded = properties(mariadb, snapshot)
    assert recorded['tablespaces'] == ['accounts', 'audit']
    assert 0 <= recorded['tables_locked_seconds'] < 5
    assert mariadb.warnings == ['%s: invoice_numbers (sequence) dumped as SQL, not copied as InnoDB files' % db_name]
    run_script(mariadb, db_name, 'DELETE FROM accounts WHERE id > 10;\nINSERT INTO audit (account) VALUES (1)')
    assert mariadb.snapshots().restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert fingerprint(mariadb, db_name) == before
    folder = os.path.join(mariadb.driver.execute('SELECT @@datadir')[0][0], db_name)
    assert not [name for name in os.listdir(folder) if name.endswith('.cfg')]
    assert all(os.stat(os.path.join(folder, name)).st_uid == os.stat(folder).st_uid for name in os.listdir(folder))


def test_tables_that_are_not_innodb_files_are_dumped_as_sql_and_named(mariadb):
    db_name = create(mariadb, 'mixed')[0]['db_name']
    conn = admin(mariadb, db_name)
    try:
        execute(conn, MIXED)
        tables = [row[0] for row in query(conn, 'SHOW TABLES')]
    finally:
        conn.close()
    snapshot = mariadb.snapshots().create(db_name)
    assert properties(mariadb, snapshot)['tablespaces'] == ['child', 'parent']
    note = mariadb.warnings[0]
    for reason in ('history (system versioned)', 'odd-name (name outside [A-Za-z0-9_])', 'parts (partitioned)',
                   'plain_aria (Aria engine)', 'plain_myisam (MyISAM engine)'):
        assert reason in note
    wanted = contents(mariadb, db_name, tables)
    run_script(mariadb, db_name, 'DELETE FROM child;\nDELETE FROM parent;\nDELETE FROM plain_myisam;\nDELETE FROM texts')
    assert mariadb.snapshots().restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert contents(mariadb, db_name, tables) == wanted
    conn = admin(mariadb, db_name)
    try:  # the foreign key holds again after the import
        with pytest.raises(Exception, match='foreign key constraint fails'):
            execute(conn, 'INSERT INTO child VALUES (12, 99)')
    finally:
        conn.close()


def contents(databases, db_name, tables):
    conn = admin(databases, db_name)
    try:
        return dict((table, (query(conn, 'SELECT * FROM `%s` ORDER BY 1' % table),
                             query(conn, 'SHOW CREATE TABLE `%s`' % table)[0][1])) for table in tables)
    finally:
        conn.close()


def test_a_held_lock_makes_the_snapshot_go_the_logical_way(mariadb, monkeypatch):
    """A tenant's transaction left open on a table does not hold the snapshot up for long, nor fail it."""
    monkeypatch.setattr(tablespaces, '_LOCK_WAIT', 1)
    db_name = create(mariadb, 'locked')[0]['db_name']
    populate(mariadb, db_name)
    before = fingerprint(mariadb, db_name)
    conn = admin(mariadb, db_name)
    try:
        execute(conn, 'START TRANSACTION;\nUPDATE accounts SET balance = 0 WHERE id = 1')
        snapshot = mariadb.snapshots().create(db_name)
    finally:
        conn.close()
    assert 'tablespaces' not in properties(mariadb, snapshot)
    assert files(mariadb, db_name, snapshot) == ['dump.sql.zst', 'objects.json']
    assert mariadb.warnings == ['%s: every table was dumped as SQL, not copied as InnoDB files: a session held a'
                                ' lock on its tables for more than 1 s' % db_name]
    run_script(mariadb, db_name, 'DELETE FROM accounts')
    assert mariadb.snapshots().restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert fingerprint(mariadb, db_name) == before


@pytest.mark.parametrize('field, value, message', [
    ('server_version', '99.1.0-MariaDB', 'InnoDB files of MariaDB 99.1, newer than this server'),
    ('default_row_format', 'redundant', 'innodb_default_row_format was redundant'),
])
def test_files_this_server_cannot_take_are_refused_before_anything_is_touched(mariadb, field, value, message):
    db_name = create(mariadb, 'refused')[0]['db_name']
    populate(mariadb, db_name)
    snapshot = mariadb.snapshots().create(db_name)
    run_script(mariadb, db_name, 'DELETE FROM accounts WHERE id < 10')
    current = fingerprint(mariadb, db_name)
    row = mariadb.catalog.snapshot(snapshot['snapshot_id'])
    changed = dict(json.loads(row['properties']), **{field: value})
    mariadb.catalog.conn.execute('UPDATE snapshots SET properties = ? WHERE snapshot_id = ?',
                                 (json.dumps(changed), snapshot['snapshot_id']))
    mariadb.catalog.conn.commit()
    with pytest.raises(Conflict, match=message):
        mariadb.snapshots().restore(db_name, snapshot['snapshot_id'])
    assert fingerprint(mariadb, db_name) == current
    assert not [name for (name,) in mariadb.driver.execute('SHOW DATABASES') if name.startswith('wcr_')]


def test_writers_wait_only_while_the_files_are_copied(mariadb):
    """A writer of an exported table is held until UNLOCK, and no longer; a reader is never held."""
    db_name = create(mariadb, 'writers')[0]['db_name']
    populate(mariadb, db_name)
    waits = dict(write=[], read=[])
    stop = threading.Event()

    def work(kind):
        conn = admin(mariadb, db_name)
        try:
            while not stop.is_set():
                started = time.monotonic()
                execute(conn, 'INSERT INTO audit (account) VALUES (1)' if kind == 'write' else 'SELECT count(*) FROM audit')
                waits[kind].append(time.monotonic() - started)
        finally:
            conn.close()
    threads = [threading.Thread(target=work, args=(kind,)) for kind in waits]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        snapshot = mariadb.snapshots().create(db_name)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    locked = properties(mariadb, snapshot)['tables_locked_seconds']
    assert max(waits['write']) <= locked + 1.0
    assert max(waits['read']) < 1.0


@pytest.mark.parametrize('change', ['ALTER TABLE audit ENGINE=MyISAM', 'RENAME TABLE audit TO audit2',
                                    'CREATE TABLE late (x int) ENGINE=InnoDB'])
def test_a_tenant_changing_its_tables_as_the_snapshot_begins_gets_a_whole_snapshot(mariadb, monkeypatch, change):
    """Between choosing the tables and freezing them, the tenant changes one: the snapshot still holds every table
    as it was when frozen (the logical way when the chosen ones cannot be frozen as chosen)."""
    db_name = create(mariadb, 'race')[0]['db_name']
    populate(mariadb, db_name)
    split = tablespaces.Tablespaces.split
    calls = []

    def split_then_change(self, schema):
        found = split(self, schema)
        if not calls:
            run_script(mariadb, db_name, change)
        calls.append(found)
        return found
    monkeypatch.setattr(tablespaces.Tablespaces, 'split', split_then_change)
    snapshot = mariadb.snapshots().create(db_name)
    monkeypatch.setattr(tablespaces.Tablespaces, 'split', split)
    wanted = fingerprint(mariadb, db_name)
    run_script(mariadb, db_name, 'DELETE FROM accounts')
    assert mariadb.snapshots().restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert fingerprint(mariadb, db_name) == wanted


@pytest.mark.parametrize('point', ['copy', 'compress'])
def test_a_snapshot_killed_while_it_copies_lets_the_tables_go_and_leaves_nothing(mariadb, point):
    """Killed with the tables frozen or just after: writers go on at once, the server's export files are gone,
    no snapshot is listed, and the next snapshot clears what the killed one left."""
    db_name = create(mariadb, 'killed')[0]['db_name']
    populate(mariadb, db_name)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, os.path.join(HERE, 'snapshot_and_die.py'), db_name,
                           mariadb.catalog.state_dir, point], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == -9, done.stderr
    run_script(mariadb, db_name, 'SET SESSION lock_wait_timeout = 2;\nINSERT INTO audit (account) VALUES (7)')
    folder = os.path.join(mariadb.driver.execute('SELECT @@datadir')[0][0], db_name)
    assert [name for name in os.listdir(folder) if name.endswith('.cfg')] == []
    snapshots = mariadb.snapshots()
    assert snapshots.list(db_name) == []
    parent = os.path.join(mariadb.catalog.state_dir, 'snapshots', 'mariadb', db_name)
    assert [name for name in os.listdir(parent) if name.endswith('.partial')]
    before = fingerprint(mariadb, db_name)
    snapshot = snapshots.create(db_name)
    assert os.listdir(parent) == [snapshot['snapshot_id']]
    assert snapshots.restore(db_name, snapshot['snapshot_id']) == (db_name, True)
    assert fingerprint(mariadb, db_name) == before
