# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Automated backups on a host: the policy in the catalog, a schedule on the host, and the job it runs.

The job is the host's runner (host/runner.py), which the schedule (host/schedule.py) runs as root:

    <state_dir>/runner/wayscloud-backup --state-dir DIR [--db-type T --db-name N]

It takes the database's backup when a slot is due (backups.py: UTC slots since the policy was
enabled, each taken once), then deletes its automated snapshots older than ``retention_days`` or
beyond the host's cap of automated snapshots (host/snapshots.py SNAPSHOT_LIMITS; manual ones stay).
Without --db-name it does so for every enabled policy on the host (what the backup role runs).
Every run also sweeps the host's expired snapshots: a deleted database's after its grace period, and
a disabled policy's automated ones, which expire ``retention_days`` after it was disabled. One run
at a time per database (a lock; a second run lists it as busy and leaves it alone); every run is
appended to ``<state_dir>/logs/backups.log`` and printed as one JSON line. WAYSCLOUD_NOW (ISO UTC)
sets the clock.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import datetime
import json
import os
import sys

from ansible_collections.wayscloud.databases.plugins.module_utils import backups as rules
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import utc_now
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import (
    append_log, entry_path, failure_text, install_runner, logins)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule

SCHEDULE_SETTING = 'backup_schedule'


def job_name(db_type, db_name):
    return 'wayscloud-backup-%s-%s' % (db_type, db_name)


class HostBackups:
    """``schedule``: a host/schedule.py Schedule; ``python``: the Python running this (the jobs run its real path)."""

    def __init__(self, databases, schedule, python=None):
        self.databases = databases
        self.db_type = databases.db_type
        self.catalog = databases.catalog
        self.schedule = schedule
        self.python = python or sys.executable

    def get(self, db_name, now=None):
        """The contract's fields; a database without a policy has the default one, disabled."""
        self.databases.existing(db_name)
        return self._result(db_name, self.catalog.backup_policy(self.db_type, db_name), now)

    def _result(self, db_name, row, now=None):
        policy = dict((field, row[field]) for field in rules.POLICY_FIELDS) if row else dict(rules.DEFAULT_POLICY)
        last = self.databases.snapshots().last_automated(db_name)
        now = now or datetime.datetime.now(rules.UTC)
        return dict(policy, db_name=db_name, db_type=self.db_type, last_backup=last['created_at'] if last else None,
                    next_backup=rules.format_time(rules.next_slot(policy, now)) if policy['enabled'] else None)

    def files(self, db_name, policy):
        """The schedule's files for ``policy``: {path: text}."""
        state_dir = self.catalog.state_dir
        command = [entry_path(state_dir, 'wayscloud-backup'), '--state-dir', state_dir, '--db-type', self.db_type,
                   '--db-name', db_name]
        description = 'WaysCloud backup of %s database %s (%s, %s UTC, keep %d days)' % (
            self.db_type, db_name, policy['frequency'], policy['time_of_day'], policy['retention_days'])
        return self.schedule.render(job_name(self.db_type, db_name), description, rules.on_calendar(policy),
                                    rules.cron_fields(policy), command)

    def schedule_files(self, db_name):
        return self.schedule.files(job_name(self.db_type, db_name))

    def set(self, db_name, policy, check_mode=False):
        """Store the policy and make the host's schedule match it; returns (result, changed)."""
        policy = rules.check_policy(policy)
        name = job_name(self.db_type, db_name)
        with self.catalog.lock(self.db_type, db_name):
            self.databases.existing(db_name)
            row = self.catalog.backup_policy(self.db_type, db_name)
            current = dict((field, row[field]) for field in rules.POLICY_FIELDS) if row else None
            new_row = dict(policy, db_type=self.db_type, db_name=db_name, updated_at=utc_now(),
                           enabled_at=(row or {}).get('enabled_at'), last_slot=(row or {}).get('last_slot'))
            if policy['enabled'] and not (current or {}).get('enabled'):
                new_row['enabled_at'] = utc_now()
            changed = current != policy
            if policy['enabled']:
                files = self.files(db_name, policy)
                runner = install_runner(self.catalog.state_dir, self.python, self.schedule.run, self.db_type,
                                        self.databases.driver.login, check_mode)
                pending = self.schedule.pending(files)
                changed = changed or runner or pending
                if pending and not check_mode:
                    self.catalog.set_setting(SCHEDULE_SETTING, json.dumps(dict(
                        driver=self.schedule.driver, unit_dir=self.schedule.unit_dir, cron_dir=self.schedule.cron_dir)))
                    self.schedule.install(name, files)
            elif self.schedule.installed(name):
                changed = True
                if not check_mode:
                    self.schedule.remove(name)
            if current != policy and not check_mode:
                self.catalog.save_backup_policy(new_row)
                self._fate_of_automated(db_name, policy, (current or {}).get('enabled'))
        return self._result(db_name, new_row if changed else row or new_row), changed

    def _fate_of_automated(self, db_name, policy, was_enabled):
        """Disabled: its automated snapshots expire after its retention (no job prunes them any more); enabled
        again: they are the job's to prune again."""
        if was_enabled and not policy['enabled']:
            from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import days_from_now
            self.catalog.set_snapshot_expiry(self.db_type, db_name, days_from_now(policy['retention_days']),
                                             automated_only=True)
        elif policy['enabled'] and not was_enabled:
            self.catalog.set_snapshot_expiry(self.db_type, db_name, None, automated_only=True)

    def forget(self, db_name):
        """When the database goes: its policy and its schedule. True if there was either."""
        had = self.catalog.backup_policy(self.db_type, db_name) is not None
        if had:
            self.catalog.delete_backup_policy(self.db_type, db_name)
        return self.schedule.remove(job_name(self.db_type, db_name)) or had


def recorded_schedule(catalog, run):
    """The Schedule the host's policies were installed with (or the default one)."""
    setting = catalog.setting(SCHEDULE_SETTING)
    return Schedule(run, **json.loads(setting)) if setting else Schedule(run)


# ---------------------------------------------------------------- the job
def run_due(state_dir, run, now, db_type=None, db_name=None):
    """Take due backups and prune, for one database or every enabled policy; returns the summary."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import sweep_expired
    catalog = Catalog(state_dir)
    policies = [p for p in catalog.backup_policies()
                if p['enabled'] and (db_name is None or (p['db_type'], p['db_name']) == (db_type, db_name))]
    expired = sweep_expired(catalog, rules.format_time(now))
    catalog.close()
    known = logins(state_dir)
    summary = dict(at=rules.format_time(now), taken=[], pruned=[], failed=[], busy=[], checked=len(policies),
                   expired=expired)
    for policy in policies:
        databases = HostDatabases(policy['db_type'], known[policy['db_type']], state_dir, run=run)
        # One run per database at a time: every database's own timer may fire at the same minute.
        with databases.catalog.lock('backup', '%s-%s' % (policy['db_type'], policy['db_name']), wait=False) as held:
            if held:
                _back_up(databases, policy, now, summary)
            else:
                summary['busy'].append(dict(db_type=policy['db_type'], db_name=policy['db_name']))
        databases.close()
    return summary


def _back_up(databases, policy, now, summary):
    """One policy's due backup and pruning, into ``summary``; an error is recorded there, not raised."""
    try:
        snapshots = databases.snapshots()
        last_slot = rules.parse_time(policy['last_slot']) if policy['last_slot'] else None
        due = rules.is_due(policy, rules.parse_time(policy['enabled_at']), last_slot, now)
        if due and databases.get(policy['db_name']) is not None:
            snapshot = snapshots.create(policy['db_name'], 'Automated %s backup' % policy['frequency'],
                                        automated=True)
            databases.catalog.set_last_slot(policy['db_type'], policy['db_name'],
                                            rules.format_time(rules.latest_slot(policy, now)))
            summary['taken'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'],
                                         snapshot_id=snapshot['snapshot_id'], size_mb=snapshot['size_mb']))
        cutoff = rules.format_time(now - datetime.timedelta(days=policy['retention_days']))
        for snapshot_id in snapshots.prune(policy['db_name'], cutoff):
            summary['pruned'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'],
                                          snapshot_id=snapshot_id))
    except Exception as exc:  # one database's failure must not cost the others their backups
        summary['failed'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'], error=failure_text(exc)))


def main(argv, run, say):
    """The job's entry point (see the module docstring): ``say`` prints a line; exit status 1 when any
    database failed."""
    parser = argparse.ArgumentParser(prog='wayscloud-backup', description='Take due backups and prune old ones.')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--db-type')
    parser.add_argument('--db-name')
    args = parser.parse_args(argv)
    now = os.environ.get('WAYSCLOUD_NOW')
    now = rules.parse_time(now) if now else datetime.datetime.now(rules.UTC).replace(microsecond=0)
    try:
        summary = run_due(args.state_dir, run, now, args.db_type, args.db_name)
    except (BackendError, OSError, ValueError, KeyError) as exc:
        summary = dict(at=rules.format_time(now), taken=[], pruned=[], failed=[dict(error=str(exc))], busy=[],
                       expired=[])
    say(append_log(args.state_dir, 'backups', summary))
    return 1 if summary['failed'] else 0
