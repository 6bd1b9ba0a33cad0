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
    it once (with Vault, O(return_password=false) leaves it in Vault alone, with either backend, the
    recommended form, which needs no C(no_log)). The old password stops working at once.
  - In check mode, a task on a database that does not exist yet (an earlier task of the play would create
    it) predicts its credentials (a rotation - a change) and warns that the database does not exist yet; a
    real run fails.
  - With Vault and O(backend=host), a rotation is never left half done. The stored secret and the password the server
    accepts always agree, even when the task is killed midway (the next task on the database's
    credentials settles an interrupted rotation).
  - A rotation that fails after the password changed loses no password; see the notes for what each
    backend leaves.
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=api), nothing beyond ansible-core where the task runs (usually the controller), and C(hvac) with Vault
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - C(hvac) where the module runs, only when Vault is used (O(vault_url)), with either backend
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
notes:
  - With O(backend=host), a rotation that fails after the server changed the password (ending the
    sessions was refused, or on MariaDB the change failed between two of the user's accounts) puts the
    old password back, from the verifiers the server stored before (PostgreSQL's from C(pg_authid), each
    MariaDB account's hash). The task fails, its message says the old password was put back, and the old
    password still works. With Vault, Vault holds the old password again.
  - Only when the server refuses the put-back too does the failed task return the new password, in
    RV(password) (and RV(credentials)), with a message saying so; register the task under C(no_log) to
    read it in a C(rescue) block. With Vault, the new password is kept there as a pending version until
    the next task on the database's credentials settles it; with O(return_password=false) it is only there. On MariaDB some of the user's accounts may
    still take the old password until a rotation succeeds.
  - A process killed midway returns nothing. With Vault, the next task on the database's credentials
    settles such a rotation to whichever password the server has, and Vault holds it. Without Vault, a
    rotation killed after the server changed the password leaves a password nobody was told; rotate again.
  - With O(backend=api), a rotation is one request. When it fails, the task fails with the API's
    message and no password, and the password is what the API server left (the reference server,
    tests/api_server, puts the old one back as the host backend does). When the answer is lost
    (a timeout, a reset connection, a body that is not JSON) the request is not repeated and the message
    says the server may have carried it out; rotate again to get a password that is known.
  - With O(backend=api) and Vault, Vault is read before the request and asked whether the token may write the
    secret (an unreachable Vault, a refused login or a policy without that right fails before anything changes),
    and the new password the API answers is written as the secret's next version. When that write fails all the
    same the task fails with the new password in RV(password) (left out with O(return_password=false)) and Vault
    still holds the old one; rotate again once Vault takes it.
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

- name: Rotate the password on the host, keeping it in Vault alone (VAULT_ADDR and VAULT_TOKEN set)
  wayscloud.databases.wayscloud_database_credentials:
    backend: host
    db_type: mariadb
    name: cust_6dd1d906_mdb_reports
    rotate: true
    return_password: false  # the result holds no secret: no no_log needed

- name: Hand the new password to the application's template, from Vault
  ansible.builtin.template:
    src: reports.env.j2
    dest: /etc/reports/db.env
    mode: "0600"
  vars:
    reports_db: "{{ lookup('wayscloud.databases.credentials', 'cust_6dd1d906_mdb_reports') }}"
  no_log: true  # this task is handed the password

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
  returned: after a rotation made by this task (not in check mode); also in the result of a failed rotation
    whose old password the server refused to take back (see the notes); never with O(return_password=false)
  type: str
queries:
  description: The SQL statements (O(backend=host)) or API requests (O(backend=api)) made.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    ADDRESS_OPTIONS, ADDRESS_RULES, Plan, argument_spec, identify, locate, password_home, run, until_created)
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import credentials_result

OPTIONS = dict(rotate=dict(type='bool', default=False), **ADDRESS_OPTIONS)


def check(params):
    identify(params)  # bad names fail here, before any connection
    if params['rotate']:
        password_home(params)


def plan(backend, params, checked):
    found = locate(backend, params)
    credentials = backend.credentials()
    if found.database is None:  # what an earlier task of the play would create: its details are known
        predicted = dict(changed=params['rotate'], credentials=credentials_result(backend.preview(found.db_name)))
        return until_created(params, found, Plan(predicted), 'a rotation' if params['rotate'] else 'its credentials')
    if params['rotate']:
        def rotate():
            rotated, password = credentials.rotate(found.db_name)
            return dict(changed=True, credentials=rotated, password=password)
        return Plan(dict(changed=True, credentials=credentials_result(found.database)), rotate)
    # Reading settles a rotation a kill interrupted (a write: not in check mode).
    return Plan(lambda: dict(changed=False, credentials=credentials.get(found.db_name, settle=False)),
                lambda: dict(changed=False, credentials=credentials.get(found.db_name)))


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True, **ADDRESS_RULES)
    run(module, check, plan, with_queries=True, vault=True)


if __name__ == '__main__':
    main()
