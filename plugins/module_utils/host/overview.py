# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a host can tell beyond one database: its engines, a customer's quota and history. Quota limits
live in the catalog (set by wayscloud_database_quota); without them the API's defaults apply."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Overview
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now

DEFAULT_QUOTA = dict(databases=20, storage_gb=10.0)
CAPABILITIES = ['connection_limit', 'description', 'restart', 'credentials', 'firewall', 'snapshots',
                'backup_policy', 'metrics']
NAMES = {'postgresql': 'PostgreSQL', 'mariadb': 'MariaDB'}


def customer_usage(backend, customer_id):
    """(databases, bytes) one customer uses on one engine: the databases' size and every snapshot not expired yet
    (a deleted database's too, during its grace period)."""
    listed = backend.list(customer_id)
    return len(listed), (sum(backend.driver.size_bytes(item['db_name']) for item in listed)
                         + backend.catalog.snapshot_bytes(backend.db_type, customer_id, utc_now()))


def engine_entry(db_type, version):
    """An engine as the API lists it; ``version`` None for one that cannot be reached."""
    return dict(db_type=db_type, name=NAMES[db_type], available=version is not None, version=version,
                capabilities=CAPABILITIES)


def check_quota(database_limit, storage_gb):
    """A customer's limits, checked; a message names the field and its rule."""
    if isinstance(database_limit, bool) or not isinstance(database_limit, int) or not 0 <= database_limit <= 100000:
        raise naming.ValidationError('quota databases must be a whole number from 0 to 100000 (got %r)'
                                     % (database_limit,))
    if isinstance(storage_gb, bool) or not isinstance(storage_gb, (int, float)) or not 0 <= storage_gb <= 1000000:
        raise naming.ValidationError('quota storage_gb must be a number from 0 to 1000000 (got %r)' % (storage_gb,))
    return database_limit, float(storage_gb)


class HostOverview(Overview):
    """``backend``: the task's HostDatabases (its engine, login and catalog); other engines are reached
    with the login the host's runner recorded for them, else their default local socket."""

    def __init__(self, backend):
        self.backend = backend
        self.catalog = backend.catalog

    def _each_engine(self, action):
        """{db_type: action(backend) or the error's text} for every engine."""
        answers = {}
        for db_type in naming.DB_TYPES:
            backend = self.backend.sibling(db_type)
            try:
                answers[db_type] = action(backend)
            except WaysCloudError as exc:
                answers[db_type] = exc
            finally:
                if backend is not self.backend:
                    backend.close()
        return answers

    def engines(self):
        """Each engine with its server version and capabilities; available is false when unreachable."""
        versions = self._each_engine(lambda backend: backend.driver.server_version())
        return [engine_entry(db_type, None if isinstance(version, WaysCloudError) else version)
                for db_type, version in sorted(versions.items())]

    def quota(self, customer_id=None):
        """Databases and storage of one customer on this host, against the limits in the catalog."""
        naming.check_customer_id(customer_id)
        limits = self.catalog.quota(customer_id) or DEFAULT_QUOTA
        used = self._each_engine(lambda backend: customer_usage(backend, customer_id))
        failed = dict((db_type, str(answer)) for db_type, answer in used.items() if isinstance(answer, WaysCloudError))
        if failed.get(self.backend.db_type):
            raise BackendError(failed[self.backend.db_type])
        counted = [answer for answer in used.values() if not isinstance(answer, WaysCloudError)]
        return dict(used=sum(count for count, size in counted), limit=limits['databases'],
                    storage_used_gb=round(sum(size for count, size in counted) / 1024.0 ** 3, 4),
                    storage_limit_gb=limits['storage_gb'], customer_id=customer_id,
                    engines_not_counted=sorted(failed))

    def limits(self, customer_id):
        """The limits the catalog holds for a customer (None: the defaults apply)."""
        return self.catalog.quota(naming.check_customer_id(customer_id))

    def set_quota(self, customer_id, database_limit, storage_gb):
        """Store a customer's limits; returns them."""
        database_limit, storage_gb = check_quota(database_limit, storage_gb)
        self.catalog.set_quota(naming.check_customer_id(customer_id), database_limit, storage_gb)
        return self.limits(customer_id)

    def history(self, customer_id=None):
        if customer_id is not None:
            naming.check_customer_id(customer_id)
        return self.catalog.lifetimes(customer_id)
