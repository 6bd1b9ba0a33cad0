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
  - Returns a database's credentials from Vault or OpenBao (KV version 2) as a dict in the collection's one
    credentials shape (docs/credentials.md), the same as the credentials files of the C(database) role and
    C(rotate.yml) - C(host), C(port), C(database), C(username), C(password), C(connection_string) and
    C(created_at) (when that password was written to Vault) - or one of those fields with O(field).
  - The engine comes from the name (C(_pg_) or C(_mdb_)); the secret is
    C(<vault_mount>/<vault_path_prefix>/<db_type>/<db_name>).
  - What it can read. Secrets M(wayscloud.databases.wayscloud_database) and
    M(wayscloud.databases.wayscloud_database_credentials) wrote with the Vault options (either backend)
    (under C(wayscloud/databases) unless their C(vault_path_prefix) said otherwise). Secrets an API server wrote
    to a Vault this lookup can reach, in the same layout under the prefix of the server's configuration
    (the reference server of C(scripts/api_server.sh) uses C(wayscloud-api/databases)) - give that prefix as
    O(vault_path_prefix).
  - What it cannot read. Credentials the WaysCloud API itself keeps in its own store - for a database made
    with C(backend=api) without the Vault options, the password comes back once, from the task that created
    the database or rotated its password.
  - A rotation that was interrupted is refused rather than guessed; any task on the database's
    credentials settles it.
  - Runs on the controller and needs the C(hvac) Python library there.
  - Its Vault options come, from the highest precedence, from the lookup's own arguments, Ansible variables,
    environment variables, then C(ansible.cfg) - the variables, environment variables and the
    C([hashi_vault_collection]) section that community.hashi_vault reads (the C(ANSIBLE_HASHI_VAULT_*) ones win over
    Vault's own C(VAULT_*)), so one set of settings serves both collections. Where to find the secrets
    (O(vault_mount), O(vault_path_prefix), O(vault_auth_mount)) comes from the C([wayscloud_databases]) section or
    the C(wayscloud_vault_*) variables.
requirements:
  - C(hvac) for the Python of the controller (the lookup runs there)
options:
  _terms:
    description: Technical names of databases (C(cust_{customer_id}_{pg|mdb}_{requested_name})).
    required: true
    type: list
    elements: str
  field:
    description: Return only this field of each database's credentials.
    type: str
    choices: [host, port, database, username, password, connection_string, created_at]
  vault_url:
    description:
      - The Vault or OpenBao address.
    type: str
    env:
      - name: VAULT_ADDR
      - name: ANSIBLE_HASHI_VAULT_ADDR
    ini:
      - section: hashi_vault_collection
        key: url
    vars:
      - name: ansible_hashi_vault_url
      - name: ansible_hashi_vault_addr
  vault_auth_method:
    description:
      - How to log in - V(token) with O(vault_token), or V(approle) with O(vault_role_id) and O(vault_secret_id).
      - When not set, V(approle) if O(vault_role_id) is set and O(vault_token) is not, else V(token).
    type: str
    choices: [token, approle]
    env:
      - name: VAULT_AUTH_METHOD
      - name: ANSIBLE_HASHI_VAULT_AUTH_METHOD
    ini:
      - section: hashi_vault_collection
        key: auth_method
    vars:
      - name: ansible_hashi_vault_auth_method
  vault_token:
    description:
      - The token to read with (O(vault_auth_method=token)).
    type: str
    env:
      - name: VAULT_TOKEN
      - name: ANSIBLE_HASHI_VAULT_TOKEN
    vars:
      - name: ansible_hashi_vault_token
  vault_role_id:
    description:
      - The AppRole's role ID (O(vault_auth_method=approle)).
    type: str
    env:
      - name: VAULT_ROLE_ID
      - name: ANSIBLE_HASHI_VAULT_ROLE_ID
    ini:
      - section: hashi_vault_collection
        key: role_id
    vars:
      - name: ansible_hashi_vault_role_id
  vault_secret_id:
    description:
      - The AppRole's secret ID (O(vault_auth_method=approle)).
    type: str
    env:
      - name: VAULT_SECRET_ID
      - name: ANSIBLE_HASHI_VAULT_SECRET_ID
    vars:
      - name: ansible_hashi_vault_secret_id
  vault_auth_mount:
    description:
      - Where the AppRole auth method is mounted (C(auth/<vault_auth_mount>)).
    type: str
    default: approle
    ini:
      - section: wayscloud_databases
        key: vault_auth_mount
    vars:
      - name: wayscloud_vault_auth_mount
  vault_namespace:
    description:
      - The Vault namespace (the C(X-Vault-Namespace) header; Vault Enterprise, OpenBao 2.3 and later).
    type: str
    env:
      - name: VAULT_NAMESPACE
      - name: ANSIBLE_HASHI_VAULT_NAMESPACE
    ini:
      - section: hashi_vault_collection
        key: namespace
    vars:
      - name: ansible_hashi_vault_namespace
  vault_mount:
    description:
      - The KV version 2 mount point.
    type: str
    default: secret
    ini:
      - section: wayscloud_databases
        key: vault_mount
    vars:
      - name: wayscloud_vault_mount
  vault_path_prefix:
    description:
      - The path under the mount where the secrets are - where both backends keep them by default, or the prefix
        an API server was configured with (C(wayscloud-api/databases) for the reference server of
        C(scripts/api_server.sh)).
    type: str
    default: wayscloud/databases
    ini:
      - section: wayscloud_databases
        key: vault_path_prefix
    vars:
      - name: wayscloud_vault_path_prefix
  vault_ca_cert:
    description:
      - A CA bundle (PEM file) to verify Vault's TLS certificate with, instead of the system's.
    type: path
    env:
      - name: VAULT_CACERT
      - name: ANSIBLE_HASHI_VAULT_CA_CERT
    ini:
      - section: hashi_vault_collection
        key: ca_cert
    vars:
      - name: ansible_hashi_vault_ca_cert
  vault_validate_certs:
    description:
      - Whether to verify Vault's TLS certificate.
      - When not set, V(true) unless the E(VAULT_SKIP_VERIFY) environment variable says to skip verification.
    type: bool
    ini:
      - section: hashi_vault_collection
        key: validate_certs
    vars:
      - name: ansible_hashi_vault_validate_certs
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

- name: A password an API server kept in this Vault under its own prefix
  ansible.builtin.debug:
    msg: "{{ lookup('wayscloud.databases.credentials', 'cust_6dd1d906_pg_shop', field='created_at',
                    vault_path_prefix='wayscloud-api/databases') }}"
'''

RETURN = r'''
_raw:
  description: One entry per term, the credentials dict (docs/credentials.md) or the chosen field.
  type: list
  elements: raw
'''

import os

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import store_from
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import CREDENTIALS_FIELDS

# The collection's one credentials shape: the credentials result with its password.
FIELDS = CREDENTIALS_FIELDS + ('password',)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        field = self.get_option('field')
        try:
            store = store_from(self.get_options(), os.environ)
            return [self._one(store, term, field) for term in terms]
        except WaysCloudError as exc:
            raise AnsibleLookupError(to_native(exc))

    @staticmethod
    def _one(store, db_name, field):
        db_type = naming.db_type_of(db_name)
        data, dummy, written = store.read(db_type, db_name)
        if data is None:
            raise AnsibleError('no stored credentials for %s: nothing at %s. This lookup reads what backend host'
                               ' stored with these Vault settings, or an API server in this Vault under the prefix'
                               ' of its configuration (give it as vault_path_prefix); it cannot read what the'
                               ' WaysCloud API keeps in its own store' % (db_name, store.where(db_type, db_name)))
        if data.get('pending'):
            raise AnsibleError('the password rotation of %s was interrupted; run any'
                               ' wayscloud.databases.wayscloud_database_credentials task on it to settle it' % db_name)
        credentials = dict((name, data.get(name)) for name in FIELDS)
        credentials['created_at'] = written
        return credentials[field] if field else credentials
