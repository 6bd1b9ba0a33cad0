#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_quota
short_description: Set a customer's database quota on a host
version_added: 0.1.0
description:
  - Sets how many databases, and how much storage, a customer may use on a database host. The limits
    live in the host's catalog; M(wayscloud.databases.wayscloud_database_info) with C(gather=[quota])
    reports them with the usage, and the reference API server enforces them on a creation, a restore
    into a new database and a snapshot.
  - Without limits set, a customer has the API's defaults (20 databases, 10 GB).
  - Host only - through the API, quota is the provider's to set. O(backend) defaults to V(host) here, and
    V(api) (from a group's C(module_defaults), say) is refused before anything connects; the other API options
    are accepted, so group defaults for both backends work, and ignored.
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
extends_documentation_fragment:
  - wayscloud.databases.host.host_only
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
attributes:
  check_mode:
    support: full
    description: Reports whether the limits would change, and changes nothing.
  diff_mode:
    support: full
    description: The limits before and after.
options:
  db_type:
    description: The engine the login options are for (the limits hold across engines).
    type: str
    choices: [postgresql, mariadb]
    default: postgresql
  customer_id:
    description: The customer.
    type: str
    required: true
  databases:
    description: How many databases the customer may have, across engines (0 to 100000).
    type: int
    required: true
  storage_gb:
    description:
      - How much storage the customer's databases and snapshots may use, in GB (0 to 1000000). A deleted
        database's snapshots count until they expire.
    type: float
    required: true
'''

EXAMPLES = r'''
- name: Customer 6dd1d906 may have 5 databases and 50 GB
  wayscloud.databases.wayscloud_database_quota:
    backend: host
    customer_id: 6dd1d906
    databases: 5
    storage_gb: 50
'''

RETURN = r'''
quota:
  description: The customer's limits after the task.
  returned: always
  type: dict
  sample: {customer_id: 6dd1d906, databases: 5, storage_gb: 50.0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.host.overview import check_quota
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    HOST_ONLY_OPTIONS, Plan, argument_spec, host_only, run)

OPTIONS = dict(
    db_type=dict(type='str', default='postgresql', choices=['postgresql', 'mariadb']),
    customer_id=dict(type='str', required=True),
    databases=dict(type='int', required=True),
    storage_gb=dict(type='float', required=True),
    **HOST_ONLY_OPTIONS
)


def check(params):
    """The limits as the catalog keeps them."""
    host_only(params, 'wayscloud_database_quota', 'through the API, quota is the provider\'s to set')
    database_limit, storage_gb = check_quota(params['databases'], params['storage_gb'])
    return dict(customer_id=naming.check_customer_id(params['customer_id']), databases=database_limit,
                storage_gb=storage_gb)


def plan(backend, params, wanted):
    overview = backend.overview()
    before = overview.limits(wanted['customer_id'])
    result = dict(changed=before != wanted, quota=wanted, diff=dict(before=before or {}, after=wanted))

    def store():
        overview.set_quota(wanted['customer_id'], wanted['databases'], wanted['storage_gb'])
        return result
    return Plan(result, store if result['changed'] else None)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True)
    run(module, check, plan)


if __name__ == '__main__':
    main()
