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
      - With O(backend=host), the address of a Vault or OpenBao server where the database's credentials
        are kept (KV version 2). Leave unset to keep no credentials anywhere but in the task's result.
      - Falls back to the E(VAULT_ADDR) environment variable.
      - With O(backend=api) the API server keeps credentials in its own Vault; these options are not used.
      - Only the modules that keep credentials (M(wayscloud.databases.wayscloud_database),
        M(wayscloud.databases.wayscloud_database_credentials) and M(wayscloud.databases.wayscloud_database_info))
        use the Vault options. The others take them and ignore them, so that they can sit in one
        C(module_defaults) block of the group C(wayscloud.databases.all).
    type: str
  vault_token:
    description:
      - With O(vault_url), the token to use. Falls back to the E(VAULT_TOKEN) environment variable.
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
  vault_validate_certs:
    description: With O(vault_url), whether to verify Vault's TLS certificate.
    type: bool
    default: true
  return_password:
    description:
      - Whether a password the task sets (a new database's, a rotated one) is returned in its result, under
        C(password) (and C(databases[].password)), also when the task fails after setting one.
      - V(false) leaves the password to Vault alone. It needs O(backend=host) with O(vault_url), and is refused
        before anything is touched otherwise - with O(backend=api) because the API returns a password only in
        the answer that sets it and keeps no copy the caller can read. Read it with the
        C(wayscloud.databases.credentials) lookup.
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
  - The C(hvac) Python library is needed where the module runs only when O(vault_url) is set.
'''
