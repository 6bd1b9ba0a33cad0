# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Automated backups on a host: the policy in the catalog and a schedule on the host.

The schedule (host/schedule.py) runs the host's backup job (host/jobs.py) for the database, as root,
through the runner host/runner.py installs:

    <state_dir>/runner/wayscloud-backup --state-dir DIR --db-type T --db-name N

Disabling a policy takes the schedule away; its automated snapshots then expire ``retention_days``
later (no job prunes them any more), and enabling it again makes them the job's to prune again.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import sys

from ansible_collections.wayscloud.databases.plugins.module_utils import backup_rules
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import BackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import BACKUP_JOB, Runner, entry_path
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule
from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import days_from_now
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now

SCHEDULE_SETTING = 'backup_schedule'


def job_name(db_type, db_name):
    return '%s-%s-%s' % (BACKUP_JOB, db_type, db_name)


class HostBackupPolicy(BackupPolicy):
    """``schedule``: a host/schedule.py Schedule; ``python``: the Python running this (the jobs run its real path)."""

    def __init__(self, backend, schedule, python=None):
        self.backend = backend
        self.db_type = backend.db_type
        self.catalog = backend.catalog
        self.schedule = schedule
        self.python = python or sys.executable

    def get(self, db_name):
        """The contract's fields; a database without a policy has the default one, disabled."""
        self.backend.existing(db_name)
        return self._result(db_name, self.catalog.backup_policy(self.db_type, db_name))

    def _result(self, db_name, row):
        policy = self._fields(row) or dict(backup_rules.DEFAULT_POLICY)
        last = self.backend.snapshots().last_automated(db_name)
        return backup_rules.policy_result(policy, self.db_type, db_name, last['created_at'] if last else None)

    @staticmethod
    def _fields(row):
        return dict((field, row[field]) for field in backup_rules.POLICY_FIELDS) if row else None

    def files(self, db_name, policy):
        """The schedule's files for ``policy``: {path: text}."""
        state_dir = self.catalog.state_dir
        command = [entry_path(state_dir, BACKUP_JOB), '--state-dir', state_dir, '--db-type', self.db_type,
                   '--db-name', db_name]
        description = 'WaysCloud backup of %s database %s (%s, %s UTC, keep %d days)' % (
            self.db_type, db_name, policy['frequency'], policy['time_of_day'], policy['retention_days'])
        return self.schedule.render(job_name(self.db_type, db_name), description, backup_rules.on_calendar(policy),
                                    backup_rules.cron_fields(policy), command)

    def schedule_files(self, db_name):
        return self.schedule.files(job_name(self.db_type, db_name))

    def _steps(self, db_name, policy):
        """What bringing the host to ``policy`` takes: the catalog row now and then, which of the runner, the
        schedule's files and the schedule's removal are needed (None: nothing to do), and ``changes`` (``plan``).
        The files on the host are compared with what the policy wants every time, not with the catalog's memory."""
        policy = backup_rules.check_policy(policy)
        self.backend.existing(db_name)
        row = self.catalog.backup_policy(self.db_type, db_name)
        new_row = dict(policy, db_type=self.db_type, db_name=db_name, updated_at=utc_now(),
                       enabled_at=(row or {}).get('enabled_at'), last_slot=(row or {}).get('last_slot'))
        stored = self._fields(row) or {}
        was_enabled = stored.get('enabled')
        if policy['enabled'] and not was_enabled:
            new_row['enabled_at'] = utc_now()
        steps = dict(policy=policy, row=row, new_row=new_row, was_enabled=was_enabled, runner=None, files=None,
                     remove=False, changes=dict((field, value) for field, value in policy.items()
                                                if stored.get(field) != value))
        if policy['enabled']:
            runner = Runner(self.catalog.state_dir, self.python, self.schedule.run, self.db_type,
                            self.backend.driver.login)
            files = self.files(db_name, policy)
            runner_drift, files_drift = runner.drift(), self.schedule.drift(files)
            steps.update(runner=runner if runner_drift else None, files=files if files_drift else None)
            drift = dict(runner_drift, **files_drift)
        else:
            drift = self.schedule.leftovers(job_name(self.db_type, db_name))
            steps['remove'] = bool(drift)
        if drift:
            steps['changes']['files'] = drift
        return steps

    def _answer(self, db_name, steps):
        """The result and the changes of ``plan`` and ``set``."""
        row = steps['new_row'] if steps['changes'] else steps['row'] or steps['new_row']
        return self._result(db_name, row), steps['changes']

    def plan(self, db_name, policy):
        """(result, changes): the policy's fields that would change, and ``files``, the schedule's and the runner's
        files that would be written or removed, as found and as they would be (a schedule edited by hand too)."""
        return self._answer(db_name, self._steps(db_name, policy))

    def set(self, db_name, policy):
        """Store the policy and make the host's schedule match it."""
        with self.catalog.lock(self.db_type, db_name):
            steps = self._steps(db_name, policy)
            if steps['runner']:
                steps['runner'].install()
            if steps['files']:
                self.catalog.set_setting(SCHEDULE_SETTING, json.dumps(dict(
                    driver=self.schedule.driver, unit_dir=self.schedule.unit_dir, cron_dir=self.schedule.cron_dir)))
                self.schedule.install(job_name(self.db_type, db_name), steps['files'])
            if steps['remove']:
                self.schedule.remove(job_name(self.db_type, db_name))
            if set(steps['changes']) - set(['files']):
                self.catalog.save_backup_policy(steps['new_row'])
                self._fate_of_automated(db_name, steps['policy'], steps['was_enabled'])
        return self._answer(db_name, steps)[0]

    def _fate_of_automated(self, db_name, policy, was_enabled):
        """Disabled: its automated snapshots expire after its retention (no job prunes them any more); enabled
        again: they are the job's to prune again."""
        if was_enabled and not policy['enabled']:
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
