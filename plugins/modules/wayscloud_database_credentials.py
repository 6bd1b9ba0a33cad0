#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_credentials
short_description: Read a WaysCloud database's connection details, or rotate its password
version_added: 0.1.0
description:
  - Without O(rotate), returns how to connect to a database (host, port, database, username,
    connection string), never its password.
  - With O(rotate=true), gives the database's user a new generated password, terminates every
    session the old password opened, stores the new password in Vault when configured, and returns
    it once. The old password stops working at once.
  - With Vault, a rotation is never left half done. The stored secret and the password the server
    accepts always agree, even when the task is killed midway (the next task on the database's
    credentials settles an interrupted rotation).
author:
  - WaysCloud Databases developers (@wayscloud)
extends_documentation_fragment:
  - wayscloud.databases.address
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
attributes:
  check_mode:
    support: full
    description: With O(rotate=true), reports a change and changes nothing.
  diff_mode:
    support: none
    description: Credentials hold a secret; there is nothing to show as a diff.
options:
  rotate:
    description:
      - Whether to set a new password. Every run with O(rotate=true) rotates again (and reports a change).
    type: bool
    default: false
seealso:
  - plugin: wayscloud.databases.credentials
    plugin_type: lookup
  - module: wayscloud.databases.wayscloud_database
'''

EXAMPLES = r'''
- name: How to reach a database (no password)
  wayscloud.databases.wayscloud_database_credentials:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
  register: webapp

- name: Rotate the password on the host, keeping it in Vault (VAULT_ADDR and VAULT_TOKEN set)
  wayscloud.databases.wayscloud_database_credentials:
    backend: host
    db_type: mariadb
    name: cust_6dd1d906_mdb_reports
    rotate: true
  no_log: true  # the result holds the new password

- name: Rotate through the API and hand the new password to the application's template
  wayscloud.databases.wayscloud_database_credentials:
    db_type: postgresql
    requested_name: webapp_prod_db
    rotate: true
  register: rotated
  no_log: true
'''

RETURN = r'''
credentials:
  description: How to connect; never the password.
  returned: always
  type: dict
  contains:
    host:
      description: The host name clients connect to.
      type: str
    port:
      description: The port clients connect to.
      type: int
    database:
      description: The database name.
      type: str
    username:
      description: The database's user.
      type: str
    connection_string:
      description: A URL to connect with, without password.
      type: str
    created_at:
      description: When the returned password was set (UTC, ISO 8601); null without a rotation.
      type: str
password:
  description: The new password.
  returned: after a rotation made by this task (not in check mode)
  type: str
queries:
  description: The SQL statements (O(backend=host)) or API requests (O(backend=api)) made.
  returned: always
  type: list
  elements: str
'''

from contextlib import closing

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    ADDRESS_OPTIONS, ADDRESS_RULES, argument_spec, identify, locate, open_databases, run)
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import credentials_result


def manage(module):
    params = module.params
    identify(params)  # bad names fail here, before any connection
    result = dict(changed=bool(params['rotate']))
    with closing(open_databases(module)) as databases:
        db_name, database = locate(databases, params, required=True)[2:]
        credentials = databases.credentials()
        if params['rotate'] and not module.check_mode:
            result['credentials'], result['password'] = credentials.rotate(db_name)
        elif params['rotate']:
            result['credentials'] = credentials_result(database)
        else:
            result['credentials'] = credentials.get(db_name, settle=not module.check_mode)
        result['queries'] = list(databases.queries)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(rotate=dict(type='bool', default=False), **ADDRESS_OPTIONS),
        supports_check_mode=True,
        **ADDRESS_RULES
    )
    run(module, lambda: manage(module))


if __name__ == '__main__':
    main()
