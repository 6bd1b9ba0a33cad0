#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_info
short_description: Read WaysCloud databases, their metrics, snapshots, rules and policies, engines, quota and history
version_added: 0.1.0
description:
  - Fetches what O(gather) lists, and only that, with the field names of the WaysCloud Databases API.
  - Reads only; never reports a change, and runs the same in check mode. Credentials are read without
    settling an interrupted rotation (M(wayscloud.databases.wayscloud_database_credentials) does that).
  - Every database in RV(databases) carries RV(databases[].params), the options that address it in
    every module of this collection, to pass on unchanged.
  - With O(backend=host), metrics come from the newest samples of the host's collector
    (M(wayscloud.databases.wayscloud_database_collector)), else from a live reading (its rates are then
    null); the notes say where each field comes from.
author:
  - WaysCloud Databases developers (@wayscloud)
extends_documentation_fragment:
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
attributes:
  check_mode:
    support: full
    description:
      - Reads the same in check mode.
      - A named database that does not exist yet (an earlier task of the play would create it) gets, in check
        mode only, what a new database has - no snapshots and no rules, the default backup policy (disabled),
        its credentials, info with null for what only the server knows, and null metrics - and a warning that
        it does not exist yet. A real run reads what there is, or fails.
  diff_mode:
    support: none
    description: Reads only.
options:
  gather:
    description:
      - What to fetch. V(databases), V(engines), V(quota) and V(history) need no database; the others
        need one (O(name), or O(customer_id) with O(requested_name)).
      - Default - V(info) when a database is named, else V(databases).
    type: list
    elements: str
    choices: [databases, info, metrics, snapshots, firewall, backup_policy, credentials, engines, quota, history]
  db_type:
    description:
      - The engine. For V(databases), both engines when left out. With O(backend=host) the login
        options are for this engine (default V(postgresql)).
    type: str
    choices: [postgresql, mariadb]
  name:
    description: A database's full name, like C(cust_6dd1d906_pg_webapp_prod_db).
    type: str
  customer_id:
    description:
      - The customer whose databases, quota or history to read, or who owns O(requested_name).
      - With O(backend=api) and a customer key, the key's customer (only internal keys may name another).
    type: str
  requested_name:
    description: With O(customer_id), the database's requested name.
    type: str
notes:
  - "Metrics on a host: storage_gb, backup_gb and active_connections are per database; max_connections
    is the database's limit, else the server's. total_queries is per database on PostgreSQL
    (transactions in pg_stat_database) and per server on MariaDB (Questions); queries_per_sec is its
    rate between the two newest samples. cache_hit_ratio is per database on PostgreSQL (blocks hit),
    per server on MariaDB (InnoDB buffer pool). cpu_percent and memory_percent are the server's
    processes, read from /proc (the server must run on the host the task runs on)."
  - With O(backend=host), V(engines) and V(quota) (and V(databases) without O(db_type)) also look at the
    other engine, with that engine's entry of O(logins) (and O(login_passwords)), else the login the host's
    scheduled jobs were given, else its default local socket; for V(engines) and V(quota) an engine not
    reached is listed as unavailable, and left out of the quota (RV(quota.engines_not_counted)).
seealso:
  - module: wayscloud.databases.wayscloud_database
  - module: wayscloud.databases.wayscloud_database_collector
  - module: wayscloud.databases.wayscloud_database_quota
'''

EXAMPLES = r'''
- name: A customer's PostgreSQL databases
  wayscloud.databases.wayscloud_database_info:
    db_type: postgresql
    customer_id: 6dd1d906
  register: found

- name: Snapshot each of them (the params address each database in any module)
  wayscloud.databases.wayscloud_database_snapshot: "{{ item.params | combine({'label': 'weekly'}) }}"
  loop: "{{ found.databases }}"
  loop_control:
    label: "{{ item.db_name }}"

- name: Everything about one database
  wayscloud.databases.wayscloud_database_info:
    db_type: mariadb
    name: cust_6dd1d906_mdb_shop
    gather: [info, metrics, snapshots, firewall, backup_policy, credentials]
  register: shop

- name: Quota and history of a customer
  wayscloud.databases.wayscloud_database_info:
    customer_id: 6dd1d906
    gather: [quota, history]
'''

RETURN = r'''
databases:
  description: With V(databases), each database as the API lists it, plus RV(databases[].params).
  returned: when gathered
  type: list
  elements: dict
  contains:
    params:
      description: The options C(db_type) and C(name) that address this database in every module.
      type: dict
      sample: {db_type: postgresql, name: cust_6dd1d906_pg_webapp_prod_db}
info:
  description: With V(info), the API's info fields (db_name, db_type, size_mb, connection_count, connection_limit, created_at, owner).
  returned: when gathered
  type: dict
metrics:
  description:
    - With V(metrics), the API's metrics fields (database_id, storage_gb, backup_gb, active_connections,
      max_connections, total_queries, queries_per_sec, cache_hit_ratio, cpu_percent, memory_percent, measured_at).
  returned: when gathered
  type: dict
snapshots:
  description: With V(snapshots), the database's snapshots, newest first, as wayscloud_database_snapshot returns them.
  returned: when gathered
  type: list
  elements: dict
firewall_rules:
  description: With V(firewall), the database's rules, as wayscloud_database_firewall returns them.
  returned: when gathered
  type: list
  elements: dict
backup_policy:
  description: With V(backup_policy), the policy, as wayscloud_database_backup_policy returns it.
  returned: when gathered
  type: dict
credentials:
  description: With V(credentials), connection metadata (host, port, database, username, connection_string); never a password.
  returned: when gathered
  type: dict
engines:
  description: With V(engines), each engine with db_type, name, version, available and capabilities.
  returned: when gathered
  type: list
  elements: dict
quota:
  description:
    - With V(quota), the customer's used and limit databases, storage_used_gb and storage_limit_gb.
    - storage_used_gb counts the databases and every snapshot not expired yet (a deleted database's too).
  returned: when gathered
  type: dict
  contains:
    engines_not_counted:
      description: With O(backend=host), engines that could not be reached and are left out of the usage.
      type: list
      elements: str
history:
  description:
    - With V(history), every database the customer ever had, deleted ones included - db_type, db_name,
      customer_id, username, created_at and deleted_at (null while it exists), oldest first.
  returned: when gathered
  type: list
  elements: dict
queries:
  description:
    - With O(backend=host), the SQL statements run, with placeholders instead of values.
    - With O(backend=api), the API requests made (method and path).
  returned: always
  type: list
  elements: str
'''

from contextlib import closing

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.backup_rules import DEFAULT_POLICY, policy_result
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import database_missing
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    Plan, argument_spec, identify, locate, run, until_created)
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import credentials_result

OPTIONS = dict(
    gather=dict(type='list', elements='str', choices=['databases', 'info', 'metrics', 'snapshots', 'firewall',
                                                      'backup_policy', 'credentials', 'engines', 'quota', 'history']),
    db_type=dict(type='str', choices=list(naming.DB_TYPES)),
    name=dict(type='str'),
    customer_id=dict(type='str'),
    requested_name=dict(type='str'),
)
PER_DATABASE = ('info', 'metrics', 'snapshots', 'firewall', 'backup_policy', 'credentials')


def with_params(database):
    return dict(database, params=dict(db_type=database['db_type'], name=database['db_name']))


def check(params):
    """What to gather, and from which engines (the first one's backend is opened; the task's db_type is set to
    it, or to the engine of ``name``)."""
    named = bool(params['name'] or params['requested_name'])
    gather = params['gather'] or (['info'] if named else ['databases'])
    if params['customer_id'] is not None:
        naming.check_customer_id(params['customer_id'])
    if any(item in PER_DATABASE for item in gather):
        if not named:
            raise naming.ValidationError('gather %s needs a database: name, or customer_id with requested_name'
                                         % ', '.join(item for item in gather if item in PER_DATABASE))
        if params['db_type'] is None:
            params['db_type'] = naming.db_type_of(params['name']) if params['name'] else None
            if params['db_type'] is None:
                raise naming.ValidationError('db_type is required with requested_name')
        identify(params)
    types = [params['db_type']] if params['db_type'] else list(naming.DB_TYPES)
    params['db_type'] = types[0]
    return dict(named=named, gather=gather, types=types)


def plan(backend, params, checked):
    """Reads only. A named database that is not there: in check mode, what a database an earlier task of the play
    would create has (until_created); in a real run, what there is (a deleted database's snapshots, say) or the
    error."""
    found = locate(backend, params) if checked['named'] else None
    if found is None or found.database is not None:
        return Plan(gather(backend, params, checked, found))
    return until_created(params, found, Plan(gather(backend, params, checked, found, predicted=True)),
                         'what it gathers', lambda: gather(backend, params, checked, found))


def gather(backend, params, checked, found, predicted=False):
    """The result: what ``gather`` lists; with ``predicted``, the named database's items as a new database has them."""
    db_name = found.db_name if found else None
    if found is not None and db_name is None and not predicted:
        raise database_missing(params['db_type'], params['requested_name'])
    customer_id = params['customer_id'] or (naming.parse_technical_name(params['db_type'], db_name)[0]
                                            if db_name else None)
    result = dict(changed=False)
    new = backend.preview(db_name) if predicted else None
    for item in checked['gather']:
        if item == 'databases':
            listed = backend.list(customer_id)
            for other in checked['types'][1:]:
                with closing(backend.sibling(other)) as more:
                    listed += more.list(customer_id)
            result['databases'] = [with_params(database) for database in listed]
        elif item == 'info':
            result['info'] = (dict(db_name=db_name, db_type=params['db_type'], size_mb=None, connection_count=None,
                                   connection_limit=None, owner=new['username'], created_at=None)
                              if predicted else backend.info(db_name))
            if result['info'] is None:
                raise database_missing(params['db_type'], db_name)
        elif item == 'metrics':
            result['metrics'] = None if predicted else backend.metrics(db_name)
        elif item == 'snapshots':
            result['snapshots'] = [] if predicted else backend.snapshots().list(db_name)
        elif item == 'firewall':
            result['firewall_rules'] = [] if predicted else backend.firewall().list(db_name)
        elif item == 'backup_policy':
            result['backup_policy'] = (policy_result(DEFAULT_POLICY, params['db_type'], db_name) if predicted
                                       else backend.backup_policy().get(db_name))
        elif item == 'credentials':
            result['credentials'] = (credentials_result(new) if predicted
                                     else backend.credentials().get(db_name, settle=False))
        elif item == 'engines':
            result['engines'] = backend.overview().engines()
        elif item == 'quota':
            if not customer_id and params['backend'] == 'host':
                raise naming.ValidationError('gather quota with backend=host needs customer_id (or a database)')
            result['quota'] = backend.overview().quota(customer_id)
        elif item == 'history':
            result['history'] = backend.overview().history(customer_id)
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True,
                           mutually_exclusive=[('name', 'requested_name')])
    run(module, check, plan, with_queries=True, vault=True)


if __name__ == '__main__':
    main()
