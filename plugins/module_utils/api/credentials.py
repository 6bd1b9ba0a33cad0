# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials through the WaysCloud API: the same methods and shapes as host/credentials.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import database_request
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Credentials
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import CREDENTIALS_FIELDS
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import secret_for


class ApiCredentials(Credentials):
    def __init__(self, backend):
        self.client = backend.client
        self.db_type = backend.db_type
        self.vault = backend.vault

    def _request(self, method, db_name, *parts, **kwargs):
        return database_request(self.client, method, self.db_type, db_name, 'credentials', *parts, **kwargs)

    def get(self, db_name, settle=True):
        """``settle`` is the server's business through the API."""
        answer = self._request('GET', db_name)
        return dict((field, answer.get(field)) for field in CREDENTIALS_FIELDS)

    def rotate(self, db_name):
        """Never repeated on an unclear failure: a second rotation would lose the first one's password. With the
        caller's Vault, the new password becomes the secret's next version (Vault checked before rotating, the right
        to write too: once the API has rotated, a refused write leaves the password only in the result)."""
        if self.vault:
            self.vault.check(self.db_type, db_name, write=True)
        answer = self._request('POST', db_name, 'rotate', idempotent=False)
        credentials = dict((field, answer.get(field)) for field in CREDENTIALS_FIELDS)
        credentials['database'] = answer.get('db_name', db_name)
        if self.vault:
            self._keep(credentials, answer['password'])
        return credentials, answer['password']

    def _keep(self, credentials, password):
        """The new password into the caller's Vault; when that fails the error carries it (module.run returns it
        unless return_password is false), since the API has already changed it."""
        database = dict(credentials, db_type=self.db_type, db_name=credentials['database'])
        try:
            self.vault.write(self.db_type, database['db_name'], secret_for(database, password))
        except BackendError as exc:
            raise BackendError('the password of %s was rotated, but storing it in Vault failed (%s): Vault still holds'
                               ' the old one; rotate again once Vault takes it' % (database['db_name'], exc),
                               code=exc.code, result=dict(changed=True, credentials=credentials, password=password))
