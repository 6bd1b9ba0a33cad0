# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  vault_url:
    description:
      - The address of a Vault or OpenBao server where the database's credentials are kept (KV version 2). Leave
        unset to keep no credentials anywhere but in the task's result.
      - With O(backend=host), the module keeps there the credentials of each database it creates and each password
        it rotates; deleting a database with its user destroys its secret.
      - With O(backend=api), the module writes there the password the API answers when it creates a database or
        rotates a password, in the same layout, so that the C(wayscloud.databases.credentials) lookup reads it
        either way (the API keeps its own copy in its own store besides).
      - Falls back to the E(ANSIBLE_HASHI_VAULT_ADDR), then E(VAULT_ADDR) environment variable (as
        community.hashi_vault does). Like every fallback of a module, these are read where the module runs.
      - Only the modules that keep credentials (M(wayscloud.databases.wayscloud_database),
        M(wayscloud.databases.wayscloud_database_credentials) and M(wayscloud.databases.wayscloud_database_info))
        use the Vault options. The others take them and ignore them, so that they can sit in one
        C(module_defaults) block of the group C(wayscloud.databases.all).
    type: str
  vault_auth_method:
    description:
      - How to log in to Vault - V(token) with O(vault_token), or V(approle) with O(vault_role_id) and
        O(vault_secret_id).
      - Falls back to E(ANSIBLE_HASHI_VAULT_AUTH_METHOD), then E(VAULT_AUTH_METHOD); when none is set, V(approle)
        if O(vault_role_id) is set and O(vault_token) is not, else V(token).
    type: str
    choices: [token, approle]
  vault_token:
    description:
      - With O(vault_url) and O(vault_auth_method=token), the token to use. Falls back to
        E(ANSIBLE_HASHI_VAULT_TOKEN), then E(VAULT_TOKEN).
    type: str
  vault_role_id:
    description:
      - With O(vault_auth_method=approle), the AppRole's role ID. Falls back to E(ANSIBLE_HASHI_VAULT_ROLE_ID),
        then E(VAULT_ROLE_ID).
    type: str
  vault_secret_id:
    description:
      - With O(vault_auth_method=approle), the AppRole's secret ID. Falls back to E(ANSIBLE_HASHI_VAULT_SECRET_ID),
        then E(VAULT_SECRET_ID).
    type: str
  vault_auth_mount:
    description: With O(vault_auth_method=approle), where the AppRole auth method is mounted (C(auth/<vault_auth_mount>)).
    type: str
    default: approle
  vault_namespace:
    description:
      - The Vault namespace the secrets (and the AppRole) are in, sent as the C(X-Vault-Namespace) header (Vault
        Enterprise; OpenBao 2.3 and later). Falls back to E(ANSIBLE_HASHI_VAULT_NAMESPACE), then E(VAULT_NAMESPACE).
    type: str
  vault_mount:
    description: With O(vault_url), the KV version 2 secrets engine's mount point.
    type: str
    default: secret
  vault_path_prefix:
    description:
      - With O(vault_url), the path under O(vault_mount) for the collection's secrets. Each database's
        secret is C(<vault_path_prefix>/<db_type>/<db_name>).
    type: str
    default: wayscloud/databases
  vault_ca_cert:
    description:
      - The CA bundle (a PEM file where the module runs) to verify Vault's TLS certificate with, instead of the
        system's. Falls back to E(ANSIBLE_HASHI_VAULT_CA_CERT), then E(VAULT_CACERT).
    type: path
  vault_validate_certs:
    description:
      - Whether to verify Vault's TLS certificate.
      - When not set, V(true) unless the E(VAULT_SKIP_VERIFY) environment variable says to skip verification.
    type: bool
  return_password:
    description:
      - Whether a password the task sets (a new database's, a rotated one) is returned in its result, under
        C(password) (and C(databases[].password)), also when the task fails after setting one.
      - V(false) leaves the password to Vault alone. It needs O(vault_url), with either backend, and is refused
        before anything is touched otherwise. Read it with the C(wayscloud.databases.credentials) lookup.
      - With V(false) the result holds no secret, so the task needs no C(no_log), and C(--diff) and C(-v)
        show everything it did. This is the recommended form wherever Vault is used.
      - The default stays V(true) so that a task or role that reads the password from the result, with Vault
        or without, keeps working; leaving a password out is a choice the task makes explicitly.
      - Modules that set no password take it and ignore it.
    type: bool
    default: true
notes:
  - With Vault configured, creating a database stores its credentials (host, port, database, username,
    password, connection string) as version 1 of its secret; each rotation adds a version; deleting the
    database together with its user destroys the secret with all its versions. Vault's time of version 1
    is the database's C(created_at) in info.
  - With O(backend=api) and Vault configured, creating a database writes version 1 of its secret from the API's
    answer and each rotation through the module a new version; deleting the database with its user destroys the
    secret once no database uses that user (a user the API keeps for copies restored from the database's snapshots
    keeps its secret; the last copy takes it). Vault is asked before each change (an unreachable Vault stops it,
    and a rotation also needs the token's right to write the secret). When the write fails all the same after the
    API created the database, the database is deleted again; after a rotation, the error carries the new password
    (in the result unless O(return_password=false)); rotate again.
  - The C(hvac) Python library is needed where the module runs only when O(vault_url) is set.
'''
