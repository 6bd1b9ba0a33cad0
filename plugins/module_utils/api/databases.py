# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Database lifecycle through the WaysCloud API: the same methods and result shapes as host/databases.py.

Reads answer check mode; writes follow the contract. A database's full shape comes from the list
endpoint (one GET), since the info endpoint lacks host, port and description. With a caller's Vault (a
VaultStore), a password the API answers goes there in the host backend's layout (module_utils/vault.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wayscloud.databases.plugins.module_utils import backend, naming
from ansible_collections.wayscloud.databases.plugins.module_utils.api.backup_policy import ApiBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import ApiNotFound, database_request, path
from ansible_collections.wayscloud.databases.plugins.module_utils.api.credentials import ApiCredentials
from ansible_collections.wayscloud.databases.plugins.module_utils.api.firewall import ApiFirewall
from ansible_collections.wayscloud.databases.plugins.module_utils.api.overview import ApiOverview
from ansible_collections.wayscloud.databases.plugins.module_utils.api.snapshots import ApiSnapshots
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, database_missing
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import DATABASE_FIELDS, database_result
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import secret_for


class ApiDatabases(backend.Databases):
    def __init__(self, db_type, client, customer_id=None, vault=None):
        """``vault``: the caller's VaultStore, where the passwords the API answers are kept (None: nowhere)."""
        self.db_type = naming.check_db_type(db_type)
        self.client = client
        self.customer_id = customer_id  # only internal keys may name one; a customer key's is ignored
        self.vault = vault
        self._warnings = []

    @property
    def warnings(self):
        return self._warnings

    def close(self):
        """Nothing to release: every request has its own connection."""

    def credentials(self):
        return ApiCredentials(self)

    def firewall(self):
        return ApiFirewall(self)

    def sibling(self, db_type):
        """This backend for ``db_type`` (the same client)."""
        return self if db_type == self.db_type else ApiDatabases(db_type, self.client, customer_id=self.customer_id,
                                                                 vault=self.vault)

    def overview(self):
        return ApiOverview(self)

    def metrics(self, db_name):
        return database_request(self.client, 'GET', self.db_type, db_name, 'metrics')

    def backup_policy(self):
        return ApiBackupPolicy(self)

    def snapshots(self):
        return ApiSnapshots(self)

    @property
    def queries(self):
        return self.client.requests

    def list(self, customer_id=None):
        customer_id = customer_id or self.customer_id
        answer = self.client.request('GET', path('v1', 'databases', self.db_type),
                                     query={'customer_id': customer_id} if customer_id else None)
        return [self._shape(item) for item in (answer or {}).get('databases', [])]

    def _shape(self, item):
        """A list item as the collection's database dict; fields the API leaves out are asked of /info."""
        fields = dict((field, item.get(field)) for field in DATABASE_FIELDS)
        if 'connection_limit' not in item:
            fields['connection_limit'] = (self.info(item['db_name']) or {}).get('connection_limit')
        fields['db_type'] = self.db_type
        fields['username'] = fields['username'] or fields['db_name']
        if not fields['customer_id']:
            fields['customer_id'] = naming.parse_technical_name(self.db_type, fields['db_name'])[0]
        return database_result(**fields)

    def get(self, db_name):
        customer_id = naming.parse_technical_name(self.db_type, db_name)[0]
        for database in self.list(customer_id):
            if database['db_name'] == db_name:
                return database
        return None

    def find(self, requested_name):
        """The key's own database with this requested_name (the key implies the customer)."""
        pattern = re.compile(r'cust_[A-Za-z0-9]+_%s_%s' % (naming.TYPE_TAGS[self.db_type], re.escape(requested_name)))
        matches = [database for database in self.list() if pattern.fullmatch(database['db_name'])]
        return matches[0] if matches else None

    def info(self, db_name):
        try:
            return self.client.request('GET', path('v1', 'databases', self.db_type, db_name, 'info'))
        except ApiNotFound:
            return None

    def preview(self, db_name, connection_limit=None, description=None):
        """What ``create`` would return, as far as it is known before the server answers."""
        customer_id = naming.parse_technical_name(self.db_type, db_name)[0] if db_name else self.customer_id
        return database_result(db_type=self.db_type, db_name=db_name, username=db_name, customer_id=customer_id,
                               connection_limit=connection_limit, description=description)

    def create(self, customer_id, requested_name, connection_limit=None, description=None):
        """POST (safe to repeat: the name is deterministic), then PATCH what creation does not take.

        Returns (database, password, created); password is None when the database existed already.
        """
        naming.check_requested_name(requested_name)
        naming.check_connection_limit(connection_limit)
        naming.check_description(description)
        body = {'db_type': self.db_type, 'requested_name': requested_name}
        if customer_id or self.customer_id:
            body['customer_id'] = customer_id or self.customer_id
            if self.vault:  # an unreachable Vault or a token that may not read the path fails before creating
                self.vault.check(self.db_type, naming.technical_name(self.db_type, body['customer_id'], requested_name))
        elif self.vault:  # the key implies the customer, so the name comes with the answer: Vault must be there
            self.vault.reach()
        created = self.client.request('POST', '/v1/databases', body=body, idempotent=True)
        db_name = created['db_name']
        if body.get('customer_id') and db_name != naming.technical_name(self.db_type, body['customer_id'], requested_name):
            # A customer key's customer_id is ignored by the API: it made the key's own database instead.
            if not created.get('idempotent'):
                self._drop(db_name)
            raise BackendError('this API key acts for the customer of %s, not for customer %s; only an internal'
                               ' key may act for another customer' % (db_name, body['customer_id']))
        changes = dict(connection_limit=connection_limit, description=description)
        changes = dict((key, value) for key, value in changes.items() if value is not None)
        if created.get('idempotent'):
            if not self.client.last_request_unclear:
                return self.get(db_name), None, False
            self.warnings.append('the answer to creating %s was lost and a retry found the database made; its'
                                 ' password could not be returned: rotate it with wayscloud_database_credentials'
                                 ' rotate=true' % db_name)
            password = None
        else:
            password = created['password']
        try:
            if changes:
                self._patch(db_name, changes)
            database = self.get(db_name)
        except BackendError as exc:
            # The database exists now and this is the only time its password is known: return it.
            self.warnings.append('%s was created, but setting %s failed (%s); the next run applies it'
                                 % (db_name, ', '.join(sorted(changes)) or 'it up', exc))
            database = None
        database = database or self._shape(dict(created, connection_limit=None, description=None))
        if password is not None and self.vault:
            self._keep(database, password)
        return database, password, True

    def _keep(self, database, password):
        """Store a new database's password in the caller's Vault; when that fails, delete the database again, as a
        host does: nobody would have its password."""
        try:
            self.vault.write(self.db_type, database['db_name'], secret_for(database, password))
        except BackendError as exc:
            try:
                self._drop(database['db_name'])
            except BackendError as refused:
                raise BackendError('%s was created but its password could not be stored in Vault (%s), and deleting it'
                                   ' again failed (%s)' % (database['db_name'], exc, refused),
                                   result=dict(changed=True, database=database, password=password))
            raise BackendError('%s was created but its password could not be stored in Vault (%s), so it was deleted'
                               ' again' % (database['db_name'], exc))

    def drift(self, database, wanted):
        """The contract shows one value per setting: what the API's servers hold beyond it is the API's to keep."""
        return {}

    def _patch(self, db_name, changes):
        self.client.request('PATCH', path('v1', 'databases', self.db_type, db_name), body=changes)

    def update(self, db_name, changes):
        naming.check_connection_limit(changes.get('connection_limit'))
        naming.check_description(changes.get('description'))
        self._patch(db_name, changes)
        return self.get(db_name)

    def count_sessions(self, db_name):
        info = self.info(db_name)
        if info is None:
            raise database_missing(self.db_type, db_name)
        return info.get('connection_count') or 0

    def restart(self, db_name):
        """Not repeated on an unclear failure: a second restart would cut the clients' new sessions."""
        answer = self.client.request('POST', path('v1', 'databases', self.db_type, db_name, 'restart'),
                                     idempotent=False)
        return (answer or {}).get('terminated_sessions', 1)

    def drops_user(self, db_name):
        """The API manages users only with their databases."""
        return False

    def delete(self, db_name, drop_user=True):
        """True when this call deleted it. With the user goes its secret in the caller's Vault (checked before
        anything is deleted), once no database lists that user: the API keeps a user for the copies restored from
        the database's snapshots, and a copy's user is its source's (as on a host, host/databases.py delete)."""
        forget = drop_user and self.vault
        username = db_name
        if forget:
            username = (self.get(db_name) or {}).get('username') or db_name
            self.vault.check(self.db_type, username)
        deleted = self._drop(db_name, drop_user)
        if deleted and forget and not any(
                database['username'] == username
                for database in self.list(naming.parse_technical_name(self.db_type, db_name)[0])):
            self.vault.delete(self.db_type, username)
        return deleted

    def _drop(self, db_name, drop_user=True):
        """DELETE; True when it deleted: a retry answered 404 after an unclear attempt means that attempt did."""
        try:
            answer = self.client.request('DELETE', path('v1', 'databases', self.db_type, db_name),
                                         query={'username': db_name} if drop_user else None)
        except ApiNotFound:
            return self.client.last_request_unclear
        kept = (answer or {}).get('message', '').partition('; ')[2]
        if kept:  # the user stays for copies restored from the database's snapshots (host/databases.py delete)
            self.warnings.append(kept)
        return True
