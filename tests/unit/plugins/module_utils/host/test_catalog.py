# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog on its own (host/catalog.py): an SQLite file in a temporary folder, no database server."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sqlite3

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host import catalog as catalog_module
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog

RECORD = dict(db_type='postgresql', db_name='cust_a_pg_x', customer_id='a', requested_name='x', username='cust_a_pg_x')


def snapshot_row(snapshot_id, automated, size_bytes=10, db_name='cust_a_pg_x'):
    return dict(snapshot_id=snapshot_id, db_type='postgresql', db_name=db_name, customer_id='a',
                created_at='2026-01-01T00:00:00Z', size_bytes=size_bytes, sha256='', manifest='[]', properties='{}',
                automated=automated)


def schema(conn):
    return conn.execute('SELECT type, name, sql FROM sqlite_master ORDER BY name').fetchall()


@pytest.mark.parametrize('version', range(1, len(catalog_module._MIGRATIONS)))
def test_a_catalog_of_any_released_version_upgrades_keeping_its_rows(tmp_path, version):
    """Opening a file left by an older release applies the missing migrations only, in order, once."""
    state_dir = tmp_path / 'state'
    state_dir.mkdir(mode=0o700)
    conn = sqlite3.connect(str(state_dir / catalog_module.CATALOG_FILE))
    for script in catalog_module._MIGRATIONS[:version]:
        conn.executescript(script)
    conn.execute('PRAGMA user_version = %d' % version)
    conn.execute("INSERT INTO databases (db_type, db_name, customer_id, requested_name, username)"
                 " VALUES ('postgresql', 'cust_a_pg_x', 'a', 'x', 'cust_a_pg_x')")
    conn.commit()
    conn.close()
    old = Catalog(str(state_dir))
    assert old.get('postgresql', 'cust_a_pg_x')['customer_id'] == 'a'
    assert old.conn.execute('PRAGMA user_version').fetchone()[0] == len(catalog_module._MIGRATIONS)
    new = Catalog(str(tmp_path / 'new'))
    assert schema(old.conn) == schema(new.conn)
    old.close()
    again = Catalog(str(state_dir))
    assert again.list() == old.list()
    again.close()
    new.close()


def test_a_read_finds_nothing_and_creates_nothing(tmp_path):
    catalog = Catalog(str(tmp_path / 'state'))
    reads = [catalog.get('postgresql', 'x'), catalog.setting('k'), catalog.snapshot('s'),
             catalog.backup_policy('postgresql', 'x'), catalog.quota('a'), catalog.list(), catalog.history(),
             catalog.lifetimes(), catalog.rules(), catalog.guarded_ports(), catalog.snapshots('postgresql'),
             catalog.expired_snapshots('2999-01-01T00:00:00Z'), catalog.restores('postgresql'),
             catalog.backup_policies(), catalog.samples('postgresql', 'x'),
             catalog.snapshot_bytes('postgresql', 'a', '2026-01-01T00:00:00Z')]
    assert reads == [None] * 5 + [[]] * 10 + [0]
    assert not os.path.exists(str(tmp_path / 'state'))


def test_history_has_one_entry_per_life(tmp_path):
    catalog = Catalog(str(tmp_path / 'state'))
    catalog.record_created(RECORD)
    catalog.record_deleted(RECORD)
    catalog.record_created(RECORD)
    catalog.record_created(dict(RECORD, customer_id='b', db_name='cust_b_pg_x'))
    lives = catalog.lifetimes('a')
    assert [(life['db_name'], life['deleted_at'] is None) for life in lives] == [
        ('cust_a_pg_x', False), ('cust_a_pg_x', True)]
    assert lives[0]['created_at'] <= lives[0]['deleted_at'] <= lives[1]['created_at']
    assert len(catalog.lifetimes()) == 3
    catalog.close()


def test_an_expiry_keeps_a_sooner_one_and_none_takes_it_away(tmp_path):
    catalog = Catalog(str(tmp_path / 'state'))
    catalog.save_snapshot(snapshot_row('manual', 0, size_bytes=1))
    catalog.save_snapshot(snapshot_row('automated', 1, size_bytes=2))
    catalog.save_snapshot(snapshot_row('other', 0, size_bytes=4, db_name='cust_a_pg_y'))

    def expiries():
        return dict((row['snapshot_id'], row['expires_at']) for row in catalog.snapshots('postgresql'))

    assert catalog.set_snapshot_expiry('postgresql', 'cust_a_pg_x', '2026-03-01T00:00:00Z', automated_only=True) == 1
    assert catalog.set_snapshot_expiry('postgresql', 'cust_a_pg_x', '2026-04-01T00:00:00Z') == 1
    assert expiries() == dict(manual='2026-04-01T00:00:00Z', automated='2026-03-01T00:00:00Z', other=None)
    assert [row['snapshot_id'] for row in catalog.expired_snapshots('2026-03-01T00:00:00Z')] == ['automated']
    assert catalog.snapshot_bytes('postgresql', 'a', '2026-03-15T00:00:00Z') == 5
    assert catalog.set_snapshot_expiry('postgresql', 'cust_a_pg_x', None, automated_only=True) == 1
    assert expiries() == dict(manual='2026-04-01T00:00:00Z', automated=None, other=None)
    with pytest.raises(BackendError, match='UNIQUE'):
        catalog.save_snapshot(snapshot_row('manual', 0))
    catalog.close()


def test_a_failed_transaction_leaves_nothing(tmp_path):
    catalog = Catalog(str(tmp_path / 'state'))
    with pytest.raises(RuntimeError):
        with catalog.transaction() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
            raise RuntimeError('stop')
    with pytest.raises(BackendError, match='catalog .*no such table'):
        with catalog.transaction() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
            conn.execute('SELECT * FROM no_table')
    assert catalog.setting('k') is None
    catalog.close()


def test_a_lock_held_elsewhere_is_refused_without_waiting(tmp_path):
    state_dir = str(tmp_path / 'state')
    with Catalog(state_dir).lock('postgresql', 'cust_a_pg_x') as held:
        with Catalog(state_dir).lock('postgresql', 'cust_a_pg_x', wait=False) as again:
            with Catalog(state_dir).lock('postgresql', 'cust_a_pg_y', wait=False) as other:
                assert (held, again, other) == (True, False, True)
    assert oct(os.stat(os.path.join(state_dir, 'locks')).st_mode & 0o777) == '0o700'
