# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automated backups on real servers: the schedule that is written, and exactly its command, run."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backup_policy import HostBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule

from commands import run
from snapshot_fixtures import populate
from test_databases import create

POLICY = dict(enabled=True, frequency='daily', retention_days=7, time_of_day='02:00')
CRON_FIELD = re.compile(r'^(\*|[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)(/[0-9]+)?$')
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@pytest.fixture
def scheduled(engine, tmp_path):
    """(databases, backups, db_name, cron_dir) with a daily policy whose schedule is a cron file."""
    databases, state_dir = engine
    db_name = create(databases, 'backup')[0]['db_name']
    cron_dir = str(tmp_path / 'cron.d')
    backups = HostBackupPolicy(databases, Schedule(run, driver='cron', cron_dir=cron_dir))
    return databases, backups, db_name, cron_dir


def set_policy(backups, db_name, policy):
    """(result, changed) as a module run gets them: the plan, then the writes when it changes anything."""
    result, changes = backups.plan(db_name, policy)
    return (backups.set(db_name, policy) if changes else result), bool(changes)


def cron_entry(path):
    """(fields, user, argv) of the file's one job, with every field checked as cron reads it."""
    lines = [line for line in open(path).read().splitlines() if line and not line.startswith('#') and '=' not in
             line.split()[0]]
    assert len(lines) == 1, lines
    parts = lines[0].split(None, 6)
    for field, (low, high) in zip(parts[:5], CRON_RANGES):
        assert CRON_FIELD.match(field), field
        assert all(low <= int(number) <= high for number in re.findall(r'[0-9]+', field.split('/')[0]))
    assert parts[5] == 'root'
    assert os.path.basename(path).replace('-', '').replace('_', '').isalnum()  # run-parts' rule for cron.d names
    return parts[:5], parts[5], shlex.split(parts[6])


def run_as_cron(argv, now):
    """Exactly the command the schedule runs, with the clock at ``now``."""
    done = subprocess.run(argv, env=dict(os.environ, WAYSCLOUD_NOW=now), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_schedule_runs_due_backups_and_prunes_expired_ones(scheduled):
    databases, backups, db_name, cron_dir = scheduled
    policy, changed = set_policy(backups, db_name, POLICY)
    assert changed and policy['enabled'] and policy['last_backup'] is None and policy['next_backup'].endswith('02:00:00Z')
    assert set_policy(backups, db_name, POLICY) == (backups.get(db_name), False)
    path = os.path.join(cron_dir, 'wayscloud-backup-%s-%s' % (databases.db_type, db_name))
    fields, user, argv = cron_entry(path)
    assert fields == ['0', '*', '*', '*', '*']
    assert os.access(argv[0], os.X_OK) and oct(os.stat(argv[0]).st_mode & 0o777) == '0o700'
    snapshots = databases.snapshots()
    manual = snapshots.create(db_name, 'by hand')
    old = snapshots.create_automated(db_name, 'an old automated one')
    with databases.catalog.transaction() as conn:
        conn.execute("UPDATE snapshots SET created_at = '2026-01-01T02:00:00Z' WHERE snapshot_id IN (?, ?)",
                     (old['snapshot_id'], manual['snapshot_id']))
        conn.execute("UPDATE backup_policies SET enabled_at = '2026-01-01T00:00:00Z'")
    # A slot is due: one snapshot taken, the expired automated one pruned, the manual one kept.
    populate(databases, db_name)
    summary = run_as_cron(argv, '2026-11-27T02:00:00Z')
    assert [item['db_name'] for item in summary['taken']] == [db_name]
    assert summary['taken'][0].get('warnings') == (None if databases.db_type == 'postgresql' else [
        '%s: invoice_numbers (sequence) dumped as SQL, not copied as InnoDB files' % db_name])
    assert [item['snapshot_id'] for item in summary['pruned']] == [old['snapshot_id']]
    ids = [snapshot['snapshot_id'] for snapshot in snapshots.list(db_name)]
    assert manual['snapshot_id'] in ids and old['snapshot_id'] not in ids and len(ids) == 2
    assert backups.get(db_name)['last_backup'] is not None
    # The next hourly cron run in the same slot does nothing.
    summary = run_as_cron(argv, '2026-11-27T03:00:00Z')
    assert summary['taken'] == [] and summary['pruned'] == []
    log = os.path.join(databases.catalog.state_dir, 'logs', 'backups.log')
    assert len(open(log).read().splitlines()) == 2 and oct(os.stat(log).st_mode & 0o777) == '0o600'


def test_a_second_run_at_once_does_nothing(scheduled):
    databases, backups, db_name, cron_dir = scheduled
    backups.set(db_name, POLICY)
    argv = cron_entry(os.path.join(cron_dir, os.listdir(cron_dir)[0]))[2]
    with databases.catalog.transaction() as conn:
        conn.execute("UPDATE backup_policies SET enabled_at = '2026-01-01T00:00:00Z'")
    lock = os.open(os.path.join(databases.catalog.state_dir, 'locks', 'backup-%s-%s.lock' % (databases.db_type, db_name)),
                   os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        summary = run_as_cron(argv, '2026-11-27T02:00:00Z')
    finally:
        os.close(lock)
    assert summary['busy'] == [dict(db_type=databases.db_type, db_name=db_name)] and summary['taken'] == []
    assert databases.snapshots().list(db_name) == []


def test_disabling_and_deleting_remove_the_schedule(scheduled):
    databases, backups, db_name, cron_dir = scheduled
    backups.set(db_name, POLICY)
    assert os.listdir(cron_dir)
    policy, changed = set_policy(backups, db_name, dict(POLICY, enabled=False))
    assert changed and os.listdir(cron_dir) == [] and policy['next_backup'] is None
    backups.set(db_name, POLICY)
    assert os.listdir(cron_dir)
    assert databases.delete(db_name)
    assert os.listdir(cron_dir) == []
    assert databases.catalog.backup_policy(databases.db_type, db_name) is None


def test_check_mode_predicts_and_writes_nothing(scheduled):
    databases, backups, db_name, cron_dir = scheduled
    policy, changed = backups.plan(db_name, POLICY)
    assert changed and policy['enabled']
    assert not os.path.exists(cron_dir) or os.listdir(cron_dir) == []
    assert not os.path.exists(os.path.join(databases.catalog.state_dir, 'runner'))
    assert databases.catalog.backup_policy(databases.db_type, db_name) is None


@pytest.mark.skipif(not shutil.which('systemd-analyze'), reason='systemd-analyze is not installed')
def test_systemd_units_verify(scheduled, tmp_path):
    databases, backups, db_name, cron_dir = scheduled
    schedule = Schedule(run, driver='systemd', unit_dir=str(tmp_path / 'units'))
    os.makedirs(schedule.unit_dir)
    runner = tmp_path / 'runner'
    runner.write_text('#!/bin/sh\n')
    runner.chmod(0o700)
    files = schedule.render('wayscloud-backup-test', 'a test', 'Sun *-*-* 02:00:00 UTC', '0 * * * *',
                            [str(runner), '--state-dir', '/x'])
    for path, text in files.items():
        with open(path, 'w') as handle:
            handle.write(text)
    done = subprocess.run(['systemd-analyze', 'verify'] + sorted(files), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert 'OnCalendar=Sun *-*-* 02:00:00 UTC' in files[sorted(files)[1]]
    calendar = subprocess.run(['systemd-analyze', 'calendar', '*-*-* 02:00:00 UTC'], capture_output=True, text=True,
                              check=False)
    assert calendar.returncode == 0, calendar.stderr


def test_pruning_always_keeps_the_newest_automated_snapshot(scheduled):
    databases, backups, db_name, cron_dir = scheduled
    snapshots = databases.snapshots()
    older, newer = (snapshots.create_automated(db_name, None) for dummy in range(2))
    with databases.catalog.transaction() as conn:
        conn.execute("UPDATE snapshots SET created_at = '2026-01-01T02:00:00Z' WHERE snapshot_id = ?", (older['snapshot_id'],))
        conn.execute("UPDATE snapshots SET created_at = '2026-01-02T02:00:00Z' WHERE snapshot_id = ?", (newer['snapshot_id'],))
    assert snapshots.prune(db_name, '2026-06-01T00:00:00Z') == [older['snapshot_id']]
    assert [snapshot['snapshot_id'] for snapshot in snapshots.list(db_name)] == [newer['snapshot_id']]


def test_the_runner_is_not_installed_where_others_could_change_it(engine, tmp_path):
    databases, state_dir = engine
    db_name = create(databases, 'trusted')[0]['db_name']
    shared = tmp_path / 'shared'
    shared.mkdir()
    shared.chmod(0o777)
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    elsewhere = HostDatabases(databases.db_type, databases.driver.login, str(shared / 'state'), run=run)
    try:
        with pytest.raises(BackendError, match='shared is writable by group or others'):
            HostBackupPolicy(elsewhere, Schedule(run, driver='cron', cron_dir=str(tmp_path / 'cron.d'))).set(db_name, POLICY)
    finally:
        elsewhere.close()
    assert not os.path.exists(str(tmp_path / 'cron.d' / ('wayscloud-backup-%s-%s' % (databases.db_type, db_name))))


def test_the_runner_imports_nothing_from_ansible(scheduled):
    """Cron runs the runner with the host's plain Python, which has no ansible: its library must not need it
    (a check of service URLs that imported ansible's six once broke every scheduled backup)."""
    databases, backups, db_name, cron_dir = scheduled
    backups.set(db_name, POLICY)
    lib = os.path.join(databases.catalog.state_dir, 'runner', 'lib')
    for name in ('jobs', 'backup_policy', 'collector', 'databases', 'metrics', 'runner', 'snapshots'):
        done = subprocess.run([sys.executable, '-I', '-S', '-c', 'import sys; sys.path.insert(0, sys.argv[1]); '
                               'import ansible_collections.wayscloud.databases.plugins.module_utils.host.' + name, lib],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
