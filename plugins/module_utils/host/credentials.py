# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials on a host: metadata without password, and rotation that loses no password.

A rotation reads the user's password as the server stores it (PostgreSQL's SCRAM verifier, each MariaDB
account's hash), then:
  1. Vault (when configured): a new version with the new password, ``pending: true`` and
     ``previous_version`` (the journal);
  2. the server: the user's password (PostgreSQL and MariaDB store only its verifier/hash; on MariaDB
     one statement per account of the user, so a failure can come between two of them);
  3. the server: terminate the user's sessions (opened with the old password);
  4. Vault: a new version with the new password, ``pending: false``.
An error in 2 or 3 puts the stored old verifiers back on every account (the server keeps a verifier it is
given as it is), so the old password works again, and Vault settles on it; the error says so. When the
server refuses that too, the error carries the new password in its result (module.run returns it under
``password``): the caller gets the password the server may now have, and with Vault the journal still
holds it. A process killed between steps leaves the pending version behind; the next operation on the
database's credentials (reading, rotating, or the lookup plugin, which refuses to hand it out) settles
it: the server's stored verifier tells, without logging in, which of the two passwords is real, and
Vault is made to hold that one (the new one when any account has it, which is also the password a failed
put-back returned). So the secret a reader may use is always the password the server accepts.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Credentials
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import generate_password
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import secret_for
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import credentials_result
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now


def holds_everywhere(driver, username, password):
    """Whether every account of the user takes ``password`` (a rotation killed between two accounts leaves them
    split)."""
    matching, accounts = driver.password_accounts(username, password)
    return bool(accounts) and matching == accounts


class HostCredentials(Credentials):
    def __init__(self, backend):
        self.backend = backend
        self.driver = backend.driver
        self.vault = backend.vault
        self.db_type = backend.db_type

    def _existing(self, db_name):
        database = self.backend.existing(db_name)
        if database['username'] != db_name:
            raise Conflict('%s is a restored copy reached by user %s: manage the credentials through database %s'
                           % (db_name, database['username'], database['username']))
        return database

    def get(self, db_name, settle=True):
        """Connection metadata, never a password; settles an interrupted rotation first (unless told not to)."""
        database = self._existing(db_name)
        if self.vault and settle:
            with self.backend.catalog.lock(self.db_type, db_name):
                self._settle(db_name, strict=True)
        return credentials_result(database)

    def _settle(self, db_name, strict):
        """Make Vault hold the password the server really has, after a rotation that was killed midway."""
        data, version, dummy = self.vault.read(self.db_type, db_name)
        if not data or not data.get('pending'):
            return
        if self.driver.password_accounts(db_name, data['password'])[0]:  # any account has it
            self.driver.set_password(db_name, data['password'])  # a kill may have left some accounts behind
            self.driver.terminate_user_sessions(db_name)
            settled = dict(data, pending=False)
            settled.pop('previous_version', None)
        else:
            previous = data.get('previous_version')
            if previous is None:  # the first rotation with Vault died before the server changed
                self.vault.delete(self.db_type, db_name)
                return
            settled = self.vault.read(self.db_type, db_name, version=previous)[0]
            if not settled or not holds_everywhere(self.driver, db_name, settled['password']):
                if strict:
                    raise Conflict('the password of %s matches neither the stored one nor the one being rotated'
                                   ' (changed outside this collection?): rotate it to set a known one' % db_name)
                return
        self.vault.write(self.db_type, db_name, settled, cas=version)

    def rotate(self, db_name):
        """A new password on the server and in Vault; returns (credentials with created_at, password)."""
        with self.backend.catalog.lock(self.db_type, db_name):
            database = self._existing(db_name)
            version = None
            if self.vault:
                self._settle(db_name, strict=False)
                version = self.vault.read(self.db_type, db_name)[1]
            stored = self.driver.stored_password(db_name)
            password = generate_password()
            if self.vault:
                journal = secret_for(database, password, pending=True, previous_version=version)
                version = self.vault.write(self.db_type, db_name, journal, cas=version or 0)[0]
            try:
                self.driver.set_password(db_name, password)
                self.driver.terminate_user_sessions(db_name)
            except BackendError as exc:
                raise self._undone(database, stored, password, exc)
            if self.vault:
                self.vault.write(self.db_type, db_name, secret_for(database, password), cas=version)
            self.backend.catalog.record_event('rotated', self.backend.catalog_record(db_name))
        return credentials_result(database, created_at=utc_now()), password

    def _undone(self, database, stored, password, exc):
        """The error to raise after a failed server step, once the old password is back on the server and Vault
        settled on it; if the server refuses that, an error that carries the new password (Vault's journal keeps
        it pending)."""
        db_name = database['db_name']
        try:
            self.driver.restore_password(db_name, stored)
        except BackendError as refused:
            return BackendError(
                'rotating the password of %s failed (%s) and putting the old one back failed too (%s): the new'
                ' password is the one that works%s; rotate again once the server allows it%s'
                % (db_name, exc, refused,
                   ' (Vault keeps it pending until the next credentials task settles it)' if self.vault else '',
                   ' (until then some of the user\'s accounts may still take the old one)'
                   if self.db_type == 'mariadb' else ''),
                code=exc.code, result=dict(changed=True, password=password,
                                           credentials=credentials_result(database, created_at=utc_now())))
        if self.vault:
            self._settle(db_name, strict=False)
        return BackendError('rotating the password of %s failed (%s); the old password was put back and still works'
                            % (db_name, exc), code=exc.code)
