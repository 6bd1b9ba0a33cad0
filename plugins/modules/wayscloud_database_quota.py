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
  - Host only - set O(backend=host); through the API, quota is the provider's to set (the API options
    are accepted, so group defaults for both backends work, and ignored).
author:
  - WaysCloud Databases developers (@wayscloud)
extends_documentation_fragment:
  - wayscloud.databases.api
  - wayscloud.databases.host
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

from contextlib import closing

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils.module import argument_spec, open_databases, run


def manage(module):
    params = module.params
    if params['backend'] != 'host':
        module.fail_json(msg='quota limits are set on a database host: use backend: host')
    with closing(open_databases(module)) as databases:
        overview = databases.overview()
        before = databases.catalog.quota(params['customer_id'])
        quota, changed = overview.set_quota(params['customer_id'], params['databases'], params['storage_gb'],
                                            module.check_mode)
    return dict(changed=changed, quota=quota, diff=dict(before=before or {}, after=quota))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            vault=False,
            db_type=dict(type='str', default='postgresql', choices=['postgresql', 'mariadb']),
            customer_id=dict(type='str', required=True),
            databases=dict(type='int', required=True),
            storage_gb=dict(type='float', required=True),
        ),
        supports_check_mode=True,
    )
    run(module, lambda: manage(module))


if __name__ == '__main__':
    main()
