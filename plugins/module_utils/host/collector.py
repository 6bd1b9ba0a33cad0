# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The metrics collector's schedule on a host: every 5 minutes the host's collector job (host/jobs.py)
stores one sample of every customer database (host/metrics.py), through the runner host/runner.py installs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import COLLECT_JOB, Runner, entry_path

SCHEDULE_NAME = 'wayscloud-metrics'


def check_retention(retention_days):
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or not 1 <= retention_days <= 366:
        raise naming.ValidationError('retention_days of samples must be from 1 to 366 (got %r)' % (retention_days,))
    return retention_days


class HostCollector:
    """``backend``: the task's HostDatabases (its engine's login goes to the runner); ``schedule``: a Schedule."""

    def __init__(self, backend, schedule, python=None):
        self.backend = backend
        self.schedule = schedule
        self.python = python or sys.executable

    def files(self, retention_days):
        state_dir = self.backend.catalog.state_dir
        command = [entry_path(state_dir, COLLECT_JOB), '--state-dir', state_dir, '--retention-days',
                   str(retention_days)]
        return self.schedule.render(SCHEDULE_NAME, 'WaysCloud metrics collector (every 5 minutes, keep %d days)'
                                    % retention_days, '*-*-* *:00/5:00 UTC', '*/5 * * * *', command)

    def schedule_files(self):
        return self.schedule.files(SCHEDULE_NAME)

    def _steps(self, present, retention_days):
        """What bringing the host to the wanted state takes: the runner and the schedule's files to write, or the
        schedule to remove (None / False: nothing to do), and ``drift``: the files that would change, as found and
        as they would be (Schedule.drift)."""
        if not present:
            leftovers = self.schedule.leftovers(SCHEDULE_NAME)
            return dict(runner=None, files=None, remove=bool(leftovers), drift=leftovers)
        files = self.files(check_retention(retention_days))
        runner = Runner(self.backend.catalog.state_dir, self.python, self.schedule.run, self.backend.db_type,
                        self.backend.driver.login)
        runner_drift, files_drift = runner.drift(), self.schedule.drift(files)
        return dict(runner=runner if runner_drift else None, files=files if files_drift else None, remove=False,
                    drift=dict(runner_drift, **files_drift))

    def plan(self, present, retention_days=7):
        """What ``set`` would change: {path: (as found, as it would be)}, empty when nothing."""
        return self._steps(present, retention_days)['drift']

    def set(self, present, retention_days=7):
        """Install (or remove) the collector's schedule and the runner; returns what changed, as ``plan`` does."""
        steps = self._steps(present, retention_days)
        if steps['runner']:
            steps['runner'].install()
        if steps['files']:
            self.schedule.install(SCHEDULE_NAME, steps['files'])
        if steps['remove']:
            self.schedule.remove(SCHEDULE_NAME)
        return steps['drift']
