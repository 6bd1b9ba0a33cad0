# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many snapshots a database may hold, and what becomes of them: the per-database caps, the expiry of a
deleted database's snapshots and of a disabled policy's automated ones, and the sweeps that remove them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sqlite3

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import LimitReached
from ansible_collections.wayscloud.databases.plugins.module_utils.host import catalog as catalog_module
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backup_policy import HostBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.host.jobs import run_due
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
from ansible_collections.wayscloud.databases.plugins.module_utils.host.overview import customer_usage
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule
from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import (
    LIMITS_SETTING, SNAPSHOT_LIMITS, check_limits, snapshot_limits, sweep_expired)
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

from commands import run
from test_databases import create

POLICY = dict(enabled=True, frequency='daily', retention_days=7, time_of_day='02:00')


def limit(databases, **limits):
    databases.catalog.set_setting(LIMITS_SETTING, json.dumps(limits))


def on_disk(databases, db_name):
    folder = os.path.join(databases.catalog.state_dir, 'snapshots', databases.db_type, db_name)
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def swept(databases, db_name, snapshot_id):
    return dict(db_type=databases.db_type, db_name=db_name, snapshot_id=snapshot_id)


def backdate(databases, snapshot_ids, at):
    with databases.catalog.transaction() as conn:
        conn.executemany('UPDATE snapshots SET created_at = ? WHERE snapshot_id = ?',
                         [(at, snapshot_id) for snapshot_id in snapshot_ids])


def test_manual_snapshots_stop_at_the_cap_and_the_refusal_changes_nothing(engine):
    databases, state_dir = engine
    db_name = create(databases, 'capped')[0]['db_name']
    limit(databases, manual=2)
    snapshots = databases.snapshots()
    taken = [snapshots.create(db_name, 'by hand')['snapshot_id'] for dummy in range(2)]
    automated = snapshots.create_automated(db_name, None)  # automated ones have their own cap
    rows, files = databases.catalog.snapshots(databases.db_type, db_name), on_disk(databases, db_name)
    with pytest.raises(LimitReached, match=r'has 2 snapshots taken on request, the most a database may keep.*delete'):
        snapshots.create(db_name, 'one too many')
    assert databases.catalog.snapshots(databases.db_type, db_name) == rows and on_disk(databases, db_name) == files
    snapshots.delete(db_name, taken[0])
    assert snapshots.create(db_name, 'room again')['snapshot_id'] not in taken + [automated['snapshot_id']]


def test_the_backup_job_keeps_at_most_the_automated_cap(engine, tmp_path):
    """The host's scheduled job prunes to the cap (oldest first, within retention too); manual ones stay."""
    databases, state_dir = engine
    db_name = create(databases, 'autocap')[0]['db_name']
    HostBackupPolicy(databases, Schedule(run, driver='cron', cron_dir=str(tmp_path / 'cron.d'))).set(db_name, POLICY)
    limit(databases, automated=3)
    snapshots = databases.snapshots()
    manual = snapshots.create(db_name, 'by hand')['snapshot_id']
    old = [snapshots.create_automated(db_name, None)['snapshot_id'] for dummy in range(4)]
    for number, snapshot_id in enumerate(old):
        backdate(databases, [snapshot_id], '2026-11-2%dT02:00:00Z' % number)
    with databases.catalog.transaction() as conn:
        conn.execute("UPDATE backup_policies SET enabled_at = '2026-01-01T00:00:00Z'")
    summary = run_due(state_dir, run, _time('2026-11-27T02:00:00Z'), databases.db_type, db_name)
    assert len(summary['taken']) == 1 and summary['failed'] == []
    assert sorted(item['snapshot_id'] for item in summary['pruned']) == sorted(old[:2])
    kept = [row for row in databases.catalog.snapshots(databases.db_type, db_name) if row['automated']]
    assert [row['snapshot_id'] for row in kept] == [summary['taken'][0]['snapshot_id'], old[3], old[2]]
    assert manual in [snapshot['snapshot_id'] for snapshot in snapshots.list(db_name)]
    assert sorted(on_disk(databases, db_name)) == sorted([manual, old[2], old[3], summary['taken'][0]['snapshot_id']])


def test_a_deleted_databases_snapshots_expire_after_the_grace_and_count_meanwhile(engine):
    databases, state_dir = engine
    db_name = create(databases, 'gone')[0]['db_name']
    limit(databases, deleted_grace_days=3)
    snapshots = databases.snapshots()
    snapshot = snapshots.create(db_name, 'final')
    assert snapshot['expires_at'] is None
    snapshot_bytes = databases.catalog.snapshot(snapshot['snapshot_id'])['size_bytes']
    count, size = customer_usage(databases, 'engtest')
    database_bytes = databases.driver.size_bytes(db_name)
    assert databases.delete(db_name)
    databases.made.remove(db_name)
    listed = snapshots.list(db_name)
    expires_at = listed[0]['expires_at']
    assert [item['snapshot_id'] for item in listed] == [snapshot['snapshot_id']]
    assert _time(expires_at) - _time(snapshot['created_at']) >= _days(3) - _days(0.01)
    assert customer_usage(databases, 'engtest') == (count - 1, size - database_bytes)  # the snapshot still counts
    assert databases.delete(db_name) is False  # a second delete changes nothing, the expiry included
    assert snapshots.list(db_name)[0]['expires_at'] == expires_at
    assert sweep_expired(databases.catalog, '2000-01-01T00:00:00Z') == []
    assert sweep_expired(databases.catalog, expires_at) == [swept(databases, db_name, snapshot['snapshot_id'])]
    assert snapshots.list(db_name) == [] and on_disk(databases, db_name) == []
    assert customer_usage(databases, 'engtest') == (count - 1, size - database_bytes - snapshot_bytes)


def test_usage_counts_snapshot_bytes(engine):
    databases, state_dir = engine
    db_name = create(databases, 'usage')[0]['db_name']
    snapshot = databases.snapshots().create(db_name)
    row = databases.catalog.snapshot(snapshot['snapshot_id'])
    listed = databases.list('engtest')
    assert customer_usage(databases, 'engtest') == (len(listed), row['size_bytes'] + sum(
        databases.driver.size_bytes(item['db_name']) for item in listed))


def test_a_disabled_policys_automated_snapshots_expire_after_its_retention(engine, tmp_path):
    databases, state_dir = engine
    db_name = create(databases, 'paused')[0]['db_name']
    backups = HostBackupPolicy(databases, Schedule(run, driver='cron', cron_dir=str(tmp_path / 'cron.d')))
    backups.set(db_name, POLICY)
    snapshots = databases.snapshots()
    manual = snapshots.create(db_name, 'by hand')['snapshot_id']
    automated = snapshots.create_automated(db_name, None)['snapshot_id']
    backups.set(db_name, dict(POLICY, enabled=False, retention_days=2))
    fates = dict((item['snapshot_id'], item['expires_at']) for item in snapshots.list(db_name))
    assert fates[manual] is None and fates[automated] is not None
    assert _days(2) - _days(0.01) <= _time(fates[automated]) - _time(snapshots.get(db_name, automated)['created_at'])
    backups.set(db_name, POLICY)  # enabled again: its automated snapshots are the policy's to prune again
    assert [item['expires_at'] for item in snapshots.list(db_name)] == [None, None]
    backups.set(db_name, dict(POLICY, enabled=False, retention_days=2))
    # The host's job sweeps them though the policy is disabled (it runs for the other databases' policies).
    summary = run_due(state_dir, run, _time(fates[automated]) + _days(1))
    assert summary['expired'] == [swept(databases, db_name, automated)]
    assert [item['snapshot_id'] for item in snapshots.list(db_name)] == [manual]
    assert on_disk(databases, db_name) == [manual]


def test_an_expired_snapshot_is_not_restored_nor_listed(engine):
    databases, state_dir = engine
    db_name = create(databases, 'expired')[0]['db_name']
    snapshots = databases.snapshots()
    snapshot_id = snapshots.create(db_name)['snapshot_id']
    with databases.catalog.transaction() as conn:
        conn.execute("UPDATE snapshots SET expires_at = '2000-01-01T00:00:00Z'")
    with pytest.raises(Exception, match='has no snapshot'):
        snapshots.restore(db_name, snapshot_id, 'expired_copy')
    assert snapshots.list(db_name) == [] and on_disk(databases, db_name) == []


def test_limits_are_checked_and_merged_with_the_defaults(tmp_path):
    assert check_limits({'manual': 5}) == {'manual': 5}
    for bad, field in [({'manual': 0}, 'manual'), ({'automated': 'many'}, 'automated'),
                       ({'deleted_grace_days': -1}, 'deleted_grace_days'), ({'total': 3}, 'total'),
                       ({'manual': True}, 'manual')]:
        with pytest.raises(ValidationError, match='snapshot_limits.*%s' % field):
            check_limits(bad)
    catalog = Catalog(str(tmp_path / 'state'))
    assert snapshot_limits(catalog) == SNAPSHOT_LIMITS and not os.path.exists(catalog.path)
    catalog.set_setting(LIMITS_SETTING, json.dumps({'manual': 4}))
    assert snapshot_limits(catalog) == dict(SNAPSHOT_LIMITS, manual=4)
    catalog.close()


def test_an_older_catalog_gains_snapshot_expiry(tmp_path):
    """The migration is appended: a catalog made before it keeps its snapshots, none of them expiring."""
    state_dir = tmp_path / 'state'
    state_dir.mkdir(mode=0o700)
    conn = sqlite3.connect(str(state_dir / catalog_module.CATALOG_FILE))
    released = catalog_module._MIGRATIONS[:6]
    for script in released:
        conn.executescript(script)
    conn.execute('PRAGMA user_version = %d' % len(released))
    conn.execute("INSERT INTO snapshots (snapshot_id, db_type, db_name, customer_id, created_at, size_bytes, sha256,"
                 " manifest, properties) VALUES ('snap_20260101_000000_00000000', 'postgresql', 'cust_a_pg_b', 'a',"
                 " '2026-01-01T00:00:00Z', 1, '', '[]', '{}')")
    conn.commit()
    conn.close()
    catalog = Catalog(str(state_dir))
    assert catalog.snapshot('snap_20260101_000000_00000000')['expires_at'] is None
    assert sweep_expired(catalog, '2999-01-01T00:00:00Z') == []
    catalog.close()


def _time(text):
    from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import parse_time
    return parse_time(text)


def _days(number):
    import datetime
    return datetime.timedelta(days=number)
