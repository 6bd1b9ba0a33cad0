# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials in Vault or OpenBao (KV version 2), through hvac, imported only when configured.

Layout: one secret per database at ``{mount}/data/{prefix}/{db_type}/{db_name}`` with the fields
db_type, db_name, database, username, password, host, port, connection_string, and ``pending``.
Each password change is a new version; the secret's first version is the database's creation.
A version with ``pending: true`` (and ``previous_version``) is the journal of a rotation that has
not finished: readers must not use it until the engine settles it (see host/credentials.py).
Deleting a database destroys the secret with all its versions.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import check_service_url
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, MissingLibrary
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

DEFAULT_MOUNT = 'secret'
DEFAULT_PREFIX = 'wayscloud/databases'
_PATH_PART = re.compile(r'[A-Za-z0-9_-][A-Za-z0-9_.-]*')


def check_vault_path(option, value):
    """A mount or prefix made of plain path parts: '..' or an odd character would reach another secret engine."""
    if not isinstance(value, str) or not all(_PATH_PART.fullmatch(part) and part != '..' for part in value.split('/')):
        raise ValidationError('%s must be path parts of letters, digits, _ . or -, separated by / and none of them'
                              ' empty or .. (got %r)' % (option, value))
    return value


def import_hvac():
    try:
        import hvac
        import hvac.exceptions
        import requests.exceptions
    except ImportError as exc:
        raise MissingLibrary('hvac', 'install hvac for the Python that runs the module, to store credentials'
                             ' in Vault (%s)' % exc)
    return hvac, requests.exceptions


def secret_for(database, password, pending=False, previous_version=None):
    """The secret's fields for a database (a result dict of host/databases.py) and its password."""
    data = dict(db_type=database['db_type'], db_name=database['db_name'], database=database['db_name'],
                username=database['username'], password=password, host=database['host'], port=database['port'],
                connection_string=database['connection_string'], pending=pending)
    if previous_version is not None:
        data['previous_version'] = previous_version
    return data


def vault_time(value):
    """Vault's RFC 3339 time with nanoseconds as the collection's YYYY-MM-DDTHH:MM:SSZ."""
    return value[:19] + 'Z' if value else None


class VaultStore:
    def __init__(self, url, token, mount=DEFAULT_MOUNT, prefix=DEFAULT_PREFIX, validate_certs=True, timeout=10):
        if not url:
            raise BackendError('vault_url is required to store credentials in Vault (or set VAULT_ADDR)')
        if not token:
            raise BackendError('vault_token is required with vault_url (or set VAULT_TOKEN)')
        self.url = check_service_url('vault_url', url)
        self.mount = check_vault_path('vault_mount', mount or DEFAULT_MOUNT)
        self.prefix = check_vault_path('vault_path_prefix', (prefix or DEFAULT_PREFIX).strip('/'))
        hvac, self._requests_errors = import_hvac()
        self._errors = hvac.exceptions
        self._client = hvac.Client(url=url, token=token, verify=validate_certs, timeout=timeout)
        self._kv = self._client.secrets.kv.v2

    def path(self, db_type, db_name):
        return '%s/%s/%s' % (self.prefix, db_type, db_name)

    def where(self, db_type, db_name):
        return '%s/%s at %s' % (self.mount, self.path(db_type, db_name), self.url)

    def _call(self, what, db_type, db_name, func, **kwargs):
        """Run one hvac call; every failure becomes a BackendError naming the secret, never the token."""
        try:
            return func(path=self.path(db_type, db_name), mount_point=self.mount, **kwargs)
        except self._errors.InvalidPath:
            return None
        except self._errors.Forbidden:
            raise BackendError('Vault refused to %s %s: permission denied (check vault_token and its policy)'
                               % (what, self.where(db_type, db_name)))
        except self._errors.VaultError as exc:
            where = self.where(db_type, db_name)
            raise BackendError('Vault failed to %s %s: %s' % (what, where, exc.__class__.__name__))
        except self._requests_errors.RequestException as exc:
            raise BackendError('Vault at %s is unreachable (%s)' % (self.url, exc.__class__.__name__))

    def check(self, db_type, db_name):
        """Fail now, before anything changes, when Vault is unreachable or the token may not read the path."""
        self.read(db_type, db_name)

    def read(self, db_type, db_name, version=None):
        """(data, version, when that version was written) of the secret, or (None, None, None)."""
        answer = self._call('read', db_type, db_name, self._kv.read_secret_version, version=version,
                            raise_on_deleted_version=True)
        if not answer:
            return None, None, None
        metadata = answer['data']['metadata']
        return answer['data']['data'], metadata['version'], vault_time(metadata.get('created_time'))

    def first_created(self, db_type, db_name):
        """When the secret (so the database) was first stored, as Vault recorded it."""
        answer = self._call('read the history of', db_type, db_name, self._kv.read_secret_metadata)
        if not answer:
            return None
        return vault_time(answer['data'].get('created_time'))

    def write(self, db_type, db_name, data, cas=None):
        """Store a new version (``cas``: only if the current version is still that one); returns (version, time)."""
        kwargs = {'secret': data}
        if cas is not None:
            kwargs['cas'] = cas
        answer = self._call('write', db_type, db_name, self._kv.create_or_update_secret, **kwargs)
        return answer['data']['version'], answer['data']['created_time']

    def delete(self, db_type, db_name):
        self._call('delete', db_type, db_name, self._kv.delete_metadata_and_all_versions)
