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
requirements:
  - With O(backend=api), nothing beyond ansible-core where the task runs (usually the controller), and C(hvac) with Vault
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - C(hvac) where the module runs, only when Vault is used (O(vault_url)), with either backend
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
  description:
    - With V(databases), each database as the API lists it (the fields of a database in the result of
      M(wayscloud.databases.wayscloud_database)), plus RV(databases[].params).
    - Of O(db_type) only when given, else of both engines (PostgreSQL first).
  returned: when gathered
  type: list
  elements: dict
  contains:
    db_type: &engine
      description: The engine.
      type: str
      sample: postgresql
    db_name: &technical_name
      description: The technical name.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    username:
      description: The database's user (for a copy restored from a snapshot, its original's user).
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    customer_id: &customer
      description: The customer owning the database.
      type: str
      sample: 6dd1d906
    host: &host
      description: The host name clients connect to.
      type: str
      sample: db1.wayscloud.services
    port: &port
      description: The port clients connect to.
      type: int
      sample: 5432
    connection_limit: &connection_limit
      description: The database's connection limit; null when it has none.
      type: int
      sample: 50
    description:
      description: The description; null when it has none.
      type: str
      sample: Web shop
    created_at: &created
      description: When the database was created (UTC); null when not known.
      type: str
      sample: '2025-01-01T12:00:00Z'
    connection_string: &connection_string
      description: A connection URL without the password.
      type: str
      sample: postgresql://cust_6dd1d906_pg_webapp_prod_db@db1.wayscloud.services:5432/cust_6dd1d906_pg_webapp_prod_db
    params:
      description: The options C(db_type) and C(name) that address this database in every module.
      type: dict
      sample: {db_type: postgresql, name: cust_6dd1d906_pg_webapp_prod_db}
      contains:
        db_type: *engine
        name:
          description: The technical name.
          type: str
          sample: cust_6dd1d906_pg_webapp_prod_db
info:
  description: With V(info), the API's info fields of the database.
  returned: when gathered
  type: dict
  contains:
    db_name: *technical_name
    db_type: *engine
    size_mb:
      description: The database's size in MB; null in check mode for a database not created yet.
      type: float
      sample: 7.28
    connection_count:
      description: Sessions connected to the database now.
      type: int
      sample: 3
    connection_limit: *connection_limit
    owner:
      description: The role or user owning the database.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    created_at: *created
  sample:
    db_name: cust_6dd1d906_pg_webapp_prod_db
    db_type: postgresql
    size_mb: 7.28
    connection_count: 3
    connection_limit: 50
    owner: cust_6dd1d906_pg_webapp_prod_db
    created_at: '2025-01-01T12:00:00Z'
metrics:
  description:
    - With V(metrics), the API's metrics fields; null in check mode for a database not created yet.
    - Where each comes from on a host, and which are per database or per server, is in the notes.
  returned: when gathered
  type: dict
  contains:
    database_id:
      description: The technical name.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    storage_gb:
      description: The database's size in GB.
      type: float
      sample: 0.0071
    backup_gb:
      description: The size of the database's snapshots in GB.
      type: float
      sample: 0.0002
    active_connections:
      description: Sessions connected to the database now.
      type: int
      sample: 3
    max_connections:
      description: The database's connection limit, else the server's.
      type: int
      sample: 300
    total_queries:
      description: Queries (transactions on PostgreSQL) counted so far.
      type: int
      sample: 15320
    queries_per_sec:
      description: The rate of RV(metrics.total_queries) between the two newest samples; null without two samples.
      type: float
      sample: 2.5
    cache_hit_ratio:
      description: Reads served from memory, in percent; null before anything was read.
      type: float
      sample: 99.2
    cpu_percent:
      description: CPU used by the server's processes, in percent; null without two samples.
      type: float
      sample: 1.5
    memory_percent:
      description: Memory used by the server's processes, in percent of the host's.
      type: float
      sample: 0.12
    measured_at:
      description: When the figures were measured (UTC).
      type: str
      sample: '2025-01-01T12:05:00Z'
snapshots:
  description:
    - With V(snapshots), the database's snapshots, newest first, as M(wayscloud.databases.wayscloud_database_snapshot)
      returns them.
  returned: when gathered
  type: list
  elements: dict
  contains:
    snapshot_id:
      description: The snapshot's id.
      type: str
      sample: snap_20250101_020000_1a2b3c4d
    db_name:
      description: The database the snapshot was taken of.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    db_type: *engine
    size_mb:
      description: The snapshot's size in MB.
      type: float
      sample: 1.25
    created_at:
      description: When it was taken (UTC).
      type: str
      sample: '2025-01-01T02:00:00Z'
    description:
      description: Its description, without the label; null when it has none.
      type: str
      sample: Before the migration
    label:
      description: Its label; null when it has none.
      type: str
      sample: weekly
    expires_at:
      description: When it will be deleted (UTC); null when it is kept until deleted.
      type: str
      sample: null
firewall_rules:
  description: With V(firewall), the database's rules, as M(wayscloud.databases.wayscloud_database_firewall) returns them.
  returned: when gathered
  type: list
  elements: dict
  contains:
    rule_id:
      description: The rule's id.
      type: str
      sample: d438ba27-698b-4d84-8cca-24d51f57128d
    db_name:
      description: The database the rule is for.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    db_type: *engine
    ip_address:
      description: The address or network allowed, in CIDR form.
      type: str
      sample: 203.0.113.10/32
    port:
      description: The database port the rule opens.
      type: int
      sample: 5432
    description:
      description: The rule's description; null when it has none.
      type: str
      sample: Office
    created_at:
      description: When the rule was added (UTC).
      type: str
      sample: '2025-01-01T12:00:00Z'
backup_policy:
  description: With V(backup_policy), the policy, as M(wayscloud.databases.wayscloud_database_backup_policy) returns it.
  returned: when gathered
  type: dict
  contains:
    db_name:
      description: The database.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    db_type: *engine
    enabled:
      description: Whether automated backups are taken.
      type: bool
      sample: false
    frequency:
      description: How often - C(hourly), C(daily) or C(weekly).
      type: str
      sample: daily
    time_of_day:
      description: The time of the backups (UTC, HH:MM; for C(hourly) only the minutes count).
      type: str
      sample: '02:00'
    retention_days:
      description: How many days automated snapshots are kept.
      type: int
      sample: 7
    last_backup:
      description: When the newest automated snapshot was taken (UTC); null when there is none.
      type: str
      sample: null
    next_backup:
      description: The next slot (UTC); null while disabled.
      type: str
      sample: null
credentials:
  description: With V(credentials), connection metadata; never a password.
  returned: when gathered
  type: dict
  contains:
    host: *host
    port: *port
    database:
      description: The database name.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    username:
      description: The database's user.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    connection_string: *connection_string
    created_at:
      description: Through the API, when the service says the password was set (UTC), if it says; null with O(backend=host).
      type: str
      sample: null
engines:
  description: With V(engines), each engine (PostgreSQL and MariaDB).
  returned: when gathered
  type: list
  elements: dict
  contains:
    db_type: *engine
    name:
      description: The engine's display name.
      type: str
      sample: PostgreSQL
    version:
      description: The server's version; null when it cannot be reached.
      type: str
      sample: 15.10 (Debian 15.10-0+deb12u1)
    available:
      description: Whether the server answered.
      type: bool
      sample: true
    capabilities:
      description: What the collection can do with the engine.
      type: list
      elements: str
      sample: [connection_limit, description, restart, credentials, firewall, snapshots, backup_policy, metrics]
quota:
  description: With V(quota), the customer's usage and limits.
  returned: when gathered
  type: dict
  contains:
    customer_id:
      description: The customer.
      type: str
      sample: 6dd1d906
    used:
      description: The customer's databases.
      type: int
      sample: 3
    limit:
      description: How many databases the customer may have.
      type: int
      sample: 20
    storage_used_gb:
      description: GB used by the databases and every snapshot not expired yet (a deleted database's too).
      type: float
      sample: 1.2345
    storage_limit_gb:
      description: GB the customer may use.
      type: float
      sample: 10.0
    engines_not_counted:
      description: With O(backend=host), engines that could not be reached and are left out of the usage.
      type: list
      elements: str
      sample: []
history:
  description: With V(history), every database the customer ever had, deleted ones included, oldest first.
  returned: when gathered
  type: list
  elements: dict
  contains:
    db_type: *engine
    db_name: *technical_name
    customer_id:
      description: The customer.
      type: str
      sample: 6dd1d906
    username:
      description: The database's user.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    created_at:
      description: When it was created (UTC).
      type: str
      sample: '2025-01-01T12:00:00Z'
    deleted_at:
      description: When it was deleted (UTC); null while it exists.
      type: str
      sample: null
queries:
  description:
    - With O(backend=host), the SQL statements run, with placeholders instead of values.
    - With O(backend=api), the API requests made (method and path).
  returned: always
  type: list
  elements: str
  sample: [GET /v1/databases/postgresql, GET /v1/databases/postgresql/cust_6dd1d906_pg_webapp_prod_db/info]
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
