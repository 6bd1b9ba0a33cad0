# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a host can tell beyond one database: its engines, a customer's quota and history, and the
metrics collector's schedule. Quota limits live in the catalog (set by wayscloud_database_quota);
without them the API's defaults apply."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import utc_now
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import entry_path, install_runner

DEFAULT_QUOTA = dict(databases=20, storage_gb=10.0)
CAPABILITIES = ['connection_limit', 'description', 'restart', 'credentials', 'firewall', 'snapshots',
                'backup_policy', 'metrics']
NAMES = {'postgresql': 'PostgreSQL', 'mariadb': 'MariaDB'}
COLLECTOR_JOB = 'wayscloud-metrics'


def customer_usage(databases, customer_id):
    """(databases, bytes) one customer uses on one engine: the databases' size and every snapshot not expired yet
    (a deleted database's too, during its grace period)."""
    listed = databases.list(customer_id)
    return len(listed), (sum(databases.driver.size_bytes(item['db_name']) for item in listed)
                         + databases.catalog.snapshot_bytes(databases.db_type, customer_id, utc_now()))


def engine_entry(db_type, version):
    """An engine as the API lists it; ``version`` None for one that cannot be reached."""
    return dict(db_type=db_type, name=NAMES[db_type], available=version is not None, version=version,
                capabilities=CAPABILITIES)


class HostInfo:
    """``databases``: the task's HostDatabases (its engine, login and catalog); other engines are reached
    with the login the host's runner recorded for them, else their default local socket."""

    def __init__(self, databases):
        self.databases = databases
        self.catalog = databases.catalog

    def _each_engine(self, action):
        """{db_type: action(databases) or the error's text} for every engine."""
        answers = {}
        for db_type in naming.DB_TYPES:
            databases = self.databases.sibling(db_type)
            try:
                answers[db_type] = action(databases)
            except WaysCloudError as exc:
                answers[db_type] = exc
            finally:
                if databases is not self.databases:
                    databases.close()
        return answers

    def engines(self):
        """Each engine with its server version and capabilities; available is false when unreachable."""
        versions = self._each_engine(lambda databases: databases.driver.server_version())
        return [engine_entry(db_type, None if isinstance(version, WaysCloudError) else version)
                for db_type, version in sorted(versions.items())]

    def quota(self, customer_id):
        """Databases and storage of one customer on this host, against the limits in the catalog."""
        naming.check_customer_id(customer_id)
        limits = self.catalog.quota(customer_id) or DEFAULT_QUOTA
        used = self._each_engine(lambda databases: customer_usage(databases, customer_id))
        failed = dict((db_type, str(answer)) for db_type, answer in used.items() if isinstance(answer, WaysCloudError))
        if failed.get(self.databases.db_type):
            raise BackendError(failed[self.databases.db_type])
        counted = [answer for answer in used.values() if not isinstance(answer, WaysCloudError)]
        return dict(used=sum(count for count, size in counted), limit=limits['databases'],
                    storage_used_gb=round(sum(size for count, size in counted) / 1024.0 ** 3, 4),
                    storage_limit_gb=limits['storage_gb'], customer_id=customer_id,
                    engines_not_counted=sorted(failed))

    def set_quota(self, customer_id, databases, storage_gb, check_mode=False):
        """Store a customer's limits; returns (limits, changed)."""
        naming.check_customer_id(customer_id)
        if isinstance(databases, bool) or not isinstance(databases, int) or not 0 <= databases <= 100000:
            raise naming.ValidationError('quota databases must be a whole number from 0 to 100000 (got %r)' % (databases,))
        if isinstance(storage_gb, bool) or not isinstance(storage_gb, (int, float)) or not 0 <= storage_gb <= 1000000:
            raise naming.ValidationError('quota storage_gb must be a number from 0 to 1000000 (got %r)' % (storage_gb,))
        current = self.catalog.quota(customer_id)
        wanted = dict(customer_id=customer_id, databases=databases, storage_gb=float(storage_gb))
        changed = current != wanted
        if changed and not check_mode:
            self.catalog.set_quota(customer_id, databases, float(storage_gb))
        return wanted, changed

    def history(self, customer_id=None):
        if customer_id is not None:
            naming.check_customer_id(customer_id)
        return self.catalog.lifetimes(customer_id)


def collector_files(schedule, state_dir, retention_days):
    command = [entry_path(state_dir, 'wayscloud-collect'), '--state-dir', state_dir,
               '--retention-days', str(retention_days)]
    return schedule.render(COLLECTOR_JOB, 'WaysCloud metrics collector (every 5 minutes, keep %d days)' % retention_days,
                           '*-*-* *:00/5:00 UTC', '*/5 * * * *', command)


def set_collector(databases, schedule, present, retention_days=7, check_mode=False, python=None):
    """Install (or remove) the collector's schedule and the runner; True if anything changed."""
    state_dir = databases.catalog.state_dir
    if not present:
        if not schedule.installed(COLLECTOR_JOB):
            return False
        if not check_mode:
            schedule.remove(COLLECTOR_JOB)
        return True
    if not 1 <= retention_days <= 366:
        raise naming.ValidationError('retention_days of samples must be from 1 to 366 (got %d)' % retention_days)
    files = collector_files(schedule, state_dir, retention_days)
    changed = install_runner(state_dir, python or sys.executable, schedule.run, databases.db_type,
                             databases.driver.login, check_mode)
    pending = schedule.pending(files)
    if pending and not check_mode:
        schedule.install(COLLECTOR_JOB, files)
    return changed or pending
