# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials in Vault or OpenBao (KV version 2), through hvac, imported only when configured.

Layout: one secret per database at ``{mount}/data/{prefix}/{db_type}/{db_name}`` with the fields
db_type, db_name, database, username, password, host, port, connection_string, and ``pending``.
Each password change is a new version; the secret's first version is the database's creation.
A version with ``pending: true`` (and ``previous_version``) is the journal of a rotation that has
not finished: readers must not use it until the engine settles it (see host/credentials.py).
Deleting a database destroys the secret with all its versions. Both backends keep this layout (with
``backend: api`` the module writes what the API answered), and the credentials lookup reads it.

Logging in is what community.hashi_vault users know: a token, or an AppRole's role_id and secret_id
(``auth_method``), optionally in a namespace (the X-Vault-Namespace header, OpenBao 2.3+ and Vault
Enterprise) and with a CA bundle; the options' environment variables are listed once, in ENVIRONMENT.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import check_service_url
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, MissingLibrary
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError, check_db_type

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


# The environment variables each Vault option falls back to, community.hashi_vault's first (they win).
ENVIRONMENT = dict(
    vault_url=['ANSIBLE_HASHI_VAULT_ADDR', 'VAULT_ADDR'],
    vault_token=['ANSIBLE_HASHI_VAULT_TOKEN', 'VAULT_TOKEN'],
    vault_auth_method=['ANSIBLE_HASHI_VAULT_AUTH_METHOD', 'VAULT_AUTH_METHOD'],
    vault_role_id=['ANSIBLE_HASHI_VAULT_ROLE_ID', 'VAULT_ROLE_ID'],
    vault_secret_id=['ANSIBLE_HASHI_VAULT_SECRET_ID', 'VAULT_SECRET_ID'],
    vault_namespace=['ANSIBLE_HASHI_VAULT_NAMESPACE', 'VAULT_NAMESPACE'],
    vault_ca_cert=['ANSIBLE_HASHI_VAULT_CA_CERT', 'VAULT_CACERT'],
)
AUTH_METHODS = ('token', 'approle')
DEFAULT_AUTH_MOUNT = 'approle'


def skip_verify(environ):
    """Whether VAULT_SKIP_VERIFY (Vault's own variable) asks not to verify TLS; read only when
    vault_validate_certs is not given."""
    return environ.get('VAULT_SKIP_VERIFY', '').strip().lower() in ('1', 'true', 't', 'yes', 'y', 'on')


def store_from(options, environ=None):
    """The VaultStore of a task's or the lookup's ``vault_*`` options (None: vault_validate_certs not given, so
    VAULT_SKIP_VERIFY of ``environ`` decides)."""
    validate = options.get('vault_validate_certs')
    if validate is None:
        validate = not skip_verify(environ or {})
    return VaultStore(options.get('vault_url'), options.get('vault_token'), mount=options.get('vault_mount'),
                      prefix=options.get('vault_path_prefix'), validate_certs=validate,
                      auth_method=options.get('vault_auth_method'), role_id=options.get('vault_role_id'),
                      secret_id=options.get('vault_secret_id'), auth_mount=options.get('vault_auth_mount'),
                      namespace=options.get('vault_namespace'), ca_cert=options.get('vault_ca_cert'))


def auth_method_of(auth_method, token, role_id):
    """The method to log in with: the one given, else approle when a role_id is given, else token."""
    if auth_method:
        if auth_method not in AUTH_METHODS:
            raise ValidationError('vault_auth_method must be one of %s (got %r)' % (', '.join(AUTH_METHODS), auth_method))
        return auth_method
    return 'approle' if role_id and not token else 'token'


class VaultStore:
    def __init__(self, url, token=None, mount=DEFAULT_MOUNT, prefix=DEFAULT_PREFIX, validate_certs=True, timeout=10,
                 auth_method=None, role_id=None, secret_id=None, auth_mount=None, namespace=None, ca_cert=None):
        if not url:
            raise BackendError('vault_url is required to store credentials in Vault (or set VAULT_ADDR)')
        method = auth_method_of(auth_method, token, role_id)
        if method == 'token' and not token:
            raise BackendError('vault_token is required with vault_url (or set VAULT_TOKEN), or log in with an'
                               ' AppRole: vault_role_id and vault_secret_id')
        if method == 'approle' and not (role_id and secret_id):
            raise BackendError('vault_auth_method approle needs vault_role_id and vault_secret_id (or set'
                               ' VAULT_ROLE_ID and VAULT_SECRET_ID)')
        self.url = check_service_url('vault_url', url)
        self.mount = check_vault_path('vault_mount', mount or DEFAULT_MOUNT)
        self.prefix = check_vault_path('vault_path_prefix', (prefix or DEFAULT_PREFIX).strip('/'))
        auth_mount = check_vault_path('vault_auth_mount', auth_mount or DEFAULT_AUTH_MOUNT)
        if namespace:
            check_vault_path('vault_namespace', namespace.strip('/'))
        hvac, self._requests_errors = import_hvac()
        self._errors = hvac.exceptions
        # A CA bundle replaces the system's; validate_certs false turns verification off altogether.
        verify = (ca_cert or True) if validate_certs else False
        self._client = hvac.Client(url=url, token=token if method == 'token' else None, verify=verify,
                                   timeout=timeout, namespace=namespace or None)
        if method == 'approle':
            self._login(auth_mount, role_id, secret_id)
        self._kv = self._client.secrets.kv.v2

    def _login(self, auth_mount, role_id, secret_id):
        """Trade the AppRole's role_id and secret_id for a token; a failure names the mount, never an id."""
        try:
            self._client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=auth_mount)
        except (self._errors.InvalidRequest, self._errors.Forbidden, self._errors.InvalidPath):
            raise BackendError('Vault at %s refused the AppRole login at auth/%s (check vault_role_id,'
                               ' vault_secret_id, vault_auth_mount and vault_namespace)' % (self.url, auth_mount))
        except self._errors.VaultError as exc:
            raise BackendError('Vault at %s failed the AppRole login at auth/%s: %s'
                               % (self.url, auth_mount, exc.__class__.__name__))
        except self._requests_errors.RequestException as exc:
            raise BackendError('Vault at %s is unreachable (%s)' % (self.url, exc.__class__.__name__))

    def path(self, db_type, db_name):
        """The secret's path; ``db_name`` may come from an API's answer, so it must be one plain path part."""
        check_db_type(db_type)
        if not isinstance(db_name, str) or not _PATH_PART.fullmatch(db_name):
            raise ValidationError('a database name for a Vault path must be letters, digits, _ . or -, not starting'
                                  ' with . (got %r)' % (db_name,))
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
            raise BackendError('Vault refused to %s %s: permission denied (check the policy of the token or AppRole,'
                               ' and vault_namespace)'
                               % (what, self.where(db_type, db_name)))
        except self._errors.VaultError as exc:
            where = self.where(db_type, db_name)
            raise BackendError('Vault failed to %s %s: %s' % (what, where, exc.__class__.__name__))
        except self._requests_errors.RequestException as exc:
            raise BackendError('Vault at %s is unreachable (%s)' % (self.url, exc.__class__.__name__))

    def reach(self):
        """Fail now when Vault is unreachable: the check before a change whose secret's name is not known yet (its
        health answer, whatever it says, is not an error here: a namespace's is 400)."""
        try:
            self._client.sys.read_health_status(method='GET')
        except self._requests_errors.RequestException as exc:
            raise BackendError('Vault at %s is unreachable (%s)' % (self.url, exc.__class__.__name__))

    def check(self, db_type, db_name, write=False):
        """Fail now, before anything changes, when Vault is unreachable or the token may not read the path; with
        ``write``, also when it may not write it (asked of Vault: before a change that cannot be taken back)."""
        data = self.read(db_type, db_name)[0]
        if not write:
            return
        needed = 'update' if data is not None else 'create'
        answer = self._call('check the right to write', db_type, db_name, lambda path, mount_point: (
            self._client.sys.get_capabilities(paths=['%s/data/%s' % (mount_point, path)])))
        if not set(('root', needed)) & set((answer or {}).get('capabilities') or ()):
            raise BackendError('Vault refused to write %s: permission denied (the policy of the token or AppRole'
                               ' lacks %s; check it and vault_namespace)' % (self.where(db_type, db_name), needed))

    def read(self, db_type, db_name, version=None):
        """(data, version, when that version was written) of the secret, or (None, None, None)."""
        answer = self._call('read', db_type, db_name, self._kv.read_secret_version, version=version,
                            raise_on_deleted_version=True)
        if not answer:
            return None, None, None
        metadata = self._kv2('read', db_type, db_name, answer, 'metadata')
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
        written = self._kv2('write', db_type, db_name, answer)
        return written['version'], written['created_time']

    def _kv2(self, what, db_type, db_name, answer, part=None):
        """The ``data`` (or its ``part``) of a KV version 2 answer. Else the mount is no such engine: a write there
        answers 404 (no engine) or a bare 204 (KV version 1), a read finds nothing or a version 1 secret."""
        data = answer.get('data') if isinstance(answer, dict) else None
        found = data.get(part) if part and isinstance(data, dict) else data
        if not isinstance(found, dict):
            raise BackendError('Vault failed to %s %s: no KV version 2 secrets engine at %s (check vault_mount and'
                               ' vault_namespace)' % (what, self.where(db_type, db_name), self.mount))
        return found

    def delete(self, db_type, db_name):
        self._call('delete', db_type, db_name, self._kv.delete_metadata_and_all_versions)
