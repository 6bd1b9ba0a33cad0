# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: credentials
short_description: Stored credentials of WaysCloud databases, from Vault or OpenBao
version_added: 0.1.0
author:
  - WaysCloud Databases developers (@wayscloud)
description:
  - Returns the credentials that M(wayscloud.databases.wayscloud_database) and
    M(wayscloud.databases.wayscloud_database_credentials) keep in Vault (KV version 2) for a database,
    as a dict with C(host), C(port), C(database), C(username), C(password) and C(connection_string),
    or one of those fields with O(field).
  - The engine comes from the name (C(_pg_) or C(_mdb_)); the secret is C(<path_prefix>/<db_type>/<db_name>).
  - A rotation that was interrupted is refused rather than guessed; any task on the database's
    credentials settles it.
  - Runs on the controller and needs the C(hvac) Python library there.
options:
  _terms:
    description: Technical names of databases (C(cust_{customer_id}_{pg|mdb}_{requested_name})).
    required: true
    type: list
    elements: str
  field:
    description: Return only this field of each database's credentials.
    type: str
    choices: [host, port, database, username, password, connection_string]
  vault_url:
    description: The Vault or OpenBao address.
    type: str
    env:
      - name: VAULT_ADDR
  vault_token:
    description: The token to read with.
    type: str
    env:
      - name: VAULT_TOKEN
  vault_mount:
    description: The KV version 2 mount point.
    type: str
    default: secret
  vault_path_prefix:
    description: The path under the mount where the collection keeps its secrets.
    type: str
    default: wayscloud/databases
  vault_validate_certs:
    description: Whether to verify Vault's TLS certificate.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Write the application's settings with the database's current password
  ansible.builtin.template:
    src: app.env.j2
    dest: /etc/webapp/app.env
    mode: "0600"
  vars:
    db: "{{ lookup('wayscloud.databases.credentials', 'cust_6dd1d906_pg_webapp_prod_db') }}"
  no_log: true

- name: Just the connection string (no secret in it)
  ansible.builtin.debug:
    msg: "{{ lookup('wayscloud.databases.credentials', 'cust_6dd1d906_mdb_reports', field='connection_string') }}"
'''

RETURN = r'''
_raw:
  description: One entry per term, the credentials dict or the chosen field.
  type: list
  elements: raw
'''

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.vault import VaultStore

FIELDS = ('host', 'port', 'database', 'username', 'password', 'connection_string')


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        field = self.get_option('field')
        try:
            store = VaultStore(self.get_option('vault_url'), self.get_option('vault_token'),
                               mount=self.get_option('vault_mount'), prefix=self.get_option('vault_path_prefix'),
                               validate_certs=self.get_option('vault_validate_certs'))
            return [self._one(store, term, field) for term in terms]
        except WaysCloudError as exc:
            raise AnsibleLookupError(to_native(exc))

    @staticmethod
    def _one(store, db_name, field):
        db_type = naming.db_type_of(db_name)
        data = store.read(db_type, db_name)[0]
        if data is None:
            raise AnsibleError('no stored credentials for %s: nothing at %s' % (db_name, store.where(db_type, db_name)))
        if data.get('pending'):
            raise AnsibleError('the password rotation of %s was interrupted; run any'
                               ' wayscloud.databases.wayscloud_database_credentials task on it to settle it' % db_name)
        credentials = dict((name, data.get(name)) for name in FIELDS)
        return credentials[field] if field else credentials
