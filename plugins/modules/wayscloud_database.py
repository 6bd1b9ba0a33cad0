#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database
short_description: Create, update, restart and delete WaysCloud PostgreSQL and MariaDB databases
version_added: 0.1.0
description:
  - Creates a database together with its user, named by the WaysCloud naming scheme
    C(cust_{customer_id}_{pg|mdb}_{requested_name}); the user has the same name, owns the database
    and has no rights on any other database.
  - Changes a database's connection limit and description.
  - Restarts a database, which terminates every session connected to it (the server and other
    databases are not touched).
  - Deletes a database and, unless told otherwise, its user.
  - Works through the WaysCloud Databases API (O(backend=api), the default) or directly on the
    database host (O(backend=host)), with the same result either way.
  - The generated password is returned only by the task that created the database. With Vault (either backend;
    through the API, the module stores the password the API answered), the recommended form is
    O(return_password=false) - the password is kept in Vault alone, the result holds no secret, and the task needs
    no C(no_log) (so C(--diff) shows it all). Otherwise register the result with C(no_log) and store the password.
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=api), nothing beyond ansible-core where the task runs (usually the controller), and C(hvac) with Vault
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - C(hvac) where the module runs, only when Vault is used (O(vault_url)), with either backend
  - With O(backend=host), deleting a database takes its firewall rules away with the command of
    O(firewall_driver) (C(ufw), or C(nft) for V(nftables); none with V(none))
extends_documentation_fragment:
  - wayscloud.databases.address
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
attributes:
  check_mode:
    support: full
    description: Decides exactly as a real run would and changes nothing.
  diff_mode:
    support: full
    description:
      - Shows the database (never a password) before and after.
      - With O(backend=host), C(drift) in the before side names each place on the server that held another value
        than the task declares and than the database shows (see the notes), and what it held.
options:
  connection_limit:
    description:
      - The most simultaneous connections to the database, from 10 to 1000.
      - PostgreSQL sets it on the database and on its user; MariaDB sets the user's C(MAX_USER_CONNECTIONS) on every
        account of the user. With O(backend=host) every run compares each of those places with it (see the notes).
      - When omitted, an existing limit is left alone and a new database gets none (the server's limit applies).
    type: int
  description:
    description:
      - Notes about the database, up to 1024 characters. PostgreSQL also keeps it as the database's comment; with
        O(backend=host) a comment changed by hand is set back to it (the task's description wins).
      - When omitted, an existing description is left alone.
    type: str
  state:
    description:
      - V(present) creates the database if needed and applies O(connection_limit) and O(description).
      - V(absent) deletes it (and its user, see O(drop_user)); with O(backend=host) its firewall rules
        go too, from the catalog and from both layers (see M(wayscloud.databases.wayscloud_database_firewall)).
      - V(restarted) terminates every session connected to the database; it reports a change only
        when there were sessions to terminate.
    type: str
    choices: [present, absent, restarted]
    default: present
  drop_user:
    description:
      - With O(state=absent), whether to drop the database's user too.
      - A user that a copy restored from the database's snapshots still uses stays (with a warning), and goes with
        the last such copy deleted with O(drop_user); see the notes.
    type: bool
    default: true
  databases:
    description:
      - Several databases of O(db_type) in one task, instead of O(name) or O(requested_name). One module
        run over one connection costs a fraction of a loop's run per database.
      - An item's options left out take the task's, so settings common to all are written once.
      - Every item is checked before any database is touched. The result lists each database under
        RV(databases), in the items' order.
      - When an item fails, the task fails with a message that starts with the item, as in C(databases[2] (blog)),
        and names the items created before it; its result still holds RV(databases) for the items before the
        failed one, with the password of each database it created. See the notes.
      - O(state=restarted) acts on one database and is refused with a list.
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      name:
        description: The database's full name, as O(name).
        type: str
      requested_name:
        description: The name the customer asked for, as O(requested_name).
        type: str
      customer_id:
        description: The owning customer, as O(customer_id).
        type: str
      connection_limit:
        description: As O(connection_limit).
        type: int
      description:
        description: As O(description).
        type: str
      state:
        description: V(present) or V(absent), as O(state).
        type: str
        choices: [present, absent]
      drop_user:
        description: As O(drop_user).
        type: bool
notes:
  - With O(backend=host) and O(state=present), each run reads the server, not only the catalog, and repairs what
    was changed by hand - a change, named in the diff (C(drift)), that check mode predicts. The connection limit,
    when given, on every place it lives (the database and its owner role on PostgreSQL, every account of the user
    on MariaDB); the description, when given, as PostgreSQL's comment; and always the owner - the user the
    catalog records (the database's own, or for a copy restored from a snapshot the snapshot's) owns the database
    on PostgreSQL and holds all privileges on it from every account on MariaDB. Giving the database back takes one
    statement as administrator (C(ALTER DATABASE ... OWNER TO), C(GRANT ALL PRIVILEGES ON)); no code of the
    tenant runs. The task refuses, changing nothing, when that user is not one of the database's customer (a
    catalog that would hand the database to another tenant) or no longer exists. Objects inside the database
    that another role created while it owned it stay that role's. Grants on the database given by hand to other
    users are not this module's to take away.
  - Deleting a database keeps its snapshots for a grace period (30 days unless the operator set
    C(snapshot_limits.deleted_grace_days)); they can be restored into a new name meanwhile and count
    toward the customer's storage, then they are deleted; see
    M(wayscloud.databases.wayscloud_database_snapshot).
  - Deleting a database leaves the copies restored from its snapshots (with the C(target_db_name) of
    M(wayscloud.databases.wayscloud_database_snapshot)) as they are, and with them the user that reaches them, the
    user of the database they came from. That user is dropped with the last database that uses it, and the task
    warns when it stays. On MariaDB, with O(backend=host), the database's firewall rules then pass to the copy
    restored first, whose user's accounts keep their addresses (see M(wayscloud.databases.wayscloud_database_firewall)).
    A snapshot whose user is gone is restored into a new name only after the database is created again (the
    refusal says so, HTTP 400 through the API). With O(backend=host), giving a database that is gone already
    O(state=absent) also starts that grace period for its snapshots (a change).
  - With O(backend=api) and no O(customer_id), O(requested_name) is looked up among the key's own databases.
  - With O(backend=api), check mode makes only read requests; a database it would create has no
    host, port or connection string yet.
  - If the answer to a creation is lost and the retried request finds the database made, the task
    reports a change and warns that the password could not be returned; rotate the credentials.
  - When the user of a new database already exists (left by a deletion with O(drop_user=false), or kept for
    copies), it gets a new password, which the task returns; if the creation fails after that, the user gets its
    old password (and connection limit) back, so the copies' logins keep working.
  - No password is lost when an item of O(databases) fails. Items are handled in order; the failed task's
    result (registered even though the task fails) has RV(databases) with one entry per item handled
    before the failed one, in order, each as on success (RV(databases[].password) for a database this task
    created), and C(changed). Items after the failed one are not touched. Register the task under
    C(no_log) and read the passwords in a C(rescue) block (see the examples). With Vault configured, each
    database's password is stored in Vault as it is created, before the next item starts, with either backend
    (with O(backend=api), the API server may keep credentials of its own as well).
  - The message names the failed item and never holds a password; a password reaches the result only in
    RV(password) and RV(databases[].password), and with O(return_password=false) not at all (the message then
    says the passwords are in Vault).
  - In check mode, O(state=restarted) on a database that does not exist yet (an earlier task of the play would
    create it) predicts no session to end and warns that the database does not exist yet; a real run fails.
seealso:
  - name: WaysCloud Databases API
    description: The HTTP contract the api backend speaks.
    link: https://api.wayscloud.services
'''

EXAMPLES = r'''
- name: A database on its host, its password kept in Vault alone (recommended with Vault; no no_log needed)
  wayscloud.databases.wayscloud_database:
    backend: host
    db_type: postgresql
    customer_id: 6dd1d906
    requested_name: webapp_prod_db
    vault_url: https://vault.example.com:8200  # or VAULT_ADDR; the token from VAULT_TOKEN
    return_password: false

- name: Three databases with a limit of 50 in one task (one module run instead of three)
  wayscloud.databases.wayscloud_database:
    backend: host
    db_type: mariadb
    customer_id: 6dd1d906
    connection_limit: 50
    databases:
      - requested_name: shop
      - requested_name: blog
        connection_limit: 20
      - requested_name: legacy
        state: absent
  register: sites
  no_log: true  # the result holds the new passwords once

- name: Many databases; if one fails, the passwords of those created before it are not lost
  block:
    - name: Create them
      wayscloud.databases.wayscloud_database:
        backend: host
        db_type: postgresql
        customer_id: 6dd1d906
        databases:
          - requested_name: shop
          - requested_name: blog
      register: sites
      no_log: true
  rescue:
    - name: Keep the passwords of the databases created before the failure
      ansible.builtin.copy:
        content: "{{ sites.databases | selectattr('password', 'defined') | to_nice_json }}"
        dest: /root/created-before-the-failure.json
        mode: "0600"
      no_log: true
    - name: Fail as the task did
      ansible.builtin.fail:
        msg: "{{ sites.msg }}"

- name: Create a PostgreSQL database for customer 6dd1d906 on this host
  wayscloud.databases.wayscloud_database:
    backend: host
    db_type: postgresql
    customer_id: 6dd1d906
    requested_name: webapp_prod_db
    connection_limit: 50
    description: Web shop, production
  register: webapp_db
  no_log: true  # the result holds the new password once

- name: The same through the WaysCloud API (the key in WAYSCLOUD_API_KEY implies the customer)
  wayscloud.databases.wayscloud_database:
    db_type: postgresql
    requested_name: webapp_prod_db
    connection_limit: 50
  register: webapp_db
  no_log: true

- name: An internal API key acting for a customer
  wayscloud.databases.wayscloud_database:
    api_key: "{{ wayscloud_internal_key }}"
    db_type: mariadb
    customer_id: 6dd1d906
    requested_name: reports
  register: reports
  no_log: true  # a new database's password comes back once, in the result

- name: Raise the connection limit of that database, addressed by its technical name (through the API that made it)
  wayscloud.databases.wayscloud_database:
    api_key: "{{ wayscloud_internal_key }}"
    db_type: mariadb
    name: cust_6dd1d906_mdb_reports
    connection_limit: 200

- name: Drop every session of a database before a schema change
  wayscloud.databases.wayscloud_database:
    backend: host
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    state: restarted

- name: Delete a database but keep its user
  wayscloud.databases.wayscloud_database:
    api_key: "{{ wayscloud_internal_key }}"
    db_type: mariadb
    name: cust_6dd1d906_mdb_reports
    state: absent
    drop_user: false
'''

RETURN = r'''
database:
  description:
    - The database after the task (for O(state=absent), as it was before; empty when it did not exist).
    - The same shape for both backends; it can be passed to the other modules of the collection.
  returned: unless O(databases) is given
  type: dict
  contains:
    db_type:
      description: The engine.
      type: str
      sample: postgresql
    db_name:
      description: The technical name.
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    username:
      description: The database's user (named like the database).
      type: str
      sample: cust_6dd1d906_pg_webapp_prod_db
    customer_id:
      description: The owning customer.
      type: str
      sample: 6dd1d906
    host:
      description: The host name clients connect to.
      type: str
      sample: db1.example.com
    port:
      description: The port clients connect to.
      type: int
      sample: 5432
    connection_limit:
      description: The connection limit, or null when none is set.
      type: int
      sample: 50
    description:
      description: The description, or null.
      type: str
      sample: Web shop, production
    created_at:
      description: When the database was created (UTC, ISO 8601), or null when unknown.
      type: str
      sample: '2026-11-27T20:15:00Z'
    connection_string:
      description: A URL to connect with, without password.
      type: str
      sample: postgresql://cust_6dd1d906_pg_webapp_prod_db@db1.example.com:5432/cust_6dd1d906_pg_webapp_prod_db
password:
  description: The generated password of the database's user; only from the task that created the database.
  returned: when the database was created by this task (not in check mode), unless O(return_password=false)
  type: str
terminated_sessions:
  description:
    - Sessions terminated (in check mode, sessions that would be terminated).
    - With O(backend=api), as the API reports it; an API that does not report a number gives 1.
  returned: when O(state=restarted)
  type: int
  sample: 3
databases:
  description:
    - With O(databases), one entry per item, in their order, each shaped like a one-database result.
    - When an item fails, the failed result has the entries of the items before it (so its length is the
      failed item's index), passwords of the databases created included.
  returned: when O(databases) is given, also when an item failed
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this database changed.
      type: bool
    database:
      description: The database, as RV(database).
      type: dict
    password:
      description: As RV(password), for a database this task created.
      type: str
      returned: when this task created the database (not in check mode), also in the result of a task that
        failed at a later item; never with O(return_password=false)
queries:
  description:
    - With O(backend=host), the SQL statements run, with placeholders instead of values.
    - With O(backend=api), the API requests made (method and path).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    ADDRESS_OPTIONS, LIST_RULES, Plan, argument_spec, databases_option, identify, locate, password_home, run,
    until_created)
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import database_changes

OPTIONS = dict(
    connection_limit=dict(type='int'),
    description=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent', 'restarted']),
    drop_user=dict(type='bool', default=True),
    **dict(ADDRESS_OPTIONS, **databases_option())
)
# What an item of ``databases`` may set (besides the addressing options).
ITEM_OPTIONS = dict(
    connection_limit=dict(type='int'),
    description=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent']),
    drop_user=dict(type='bool'),
)


def check(params):
    """Validated settings of one database; names fail here, before any connection."""
    if params['databases'] is not None and params['state'] == 'restarted':
        raise naming.ValidationError('state restarted acts on one database: give name or requested_name, not databases')
    identify(params)
    if params['state'] == 'present':
        password_home(params)
    return dict(connection_limit=naming.check_connection_limit(params['connection_limit']),
                description=naming.check_description(params['description']))


def outcome(changed, before, after, **more):
    return dict(changed=changed, database=after or before or {}, diff=dict(before=before or {}, after=after or {}),
                **more)


def plan(backend, params, wanted):
    state = params['state']
    found = locate(backend, params)
    before, db_name = found.database, found.db_name
    if state == 'present' and before is None:
        def create():
            after, password, created = backend.create(found.customer_id, found.requested_name, **wanted)
            changes = database_changes(after, wanted)
            if changes:  # another process created it meanwhile, with other settings
                after = backend.update(after['db_name'], changes)
            more = dict(password=password) if password is not None else {}
            return outcome(created or bool(changes), before, after, **more)
        return Plan(outcome(True, before, backend.preview(db_name, **wanted)), create)
    if state == 'present':
        drift = backend.drift(before, wanted)  # what the server holds beyond the view: repaired, and named in the diff
        changes = dict(database_changes(before, wanted), **dict((field, wanted[field]) for field in drift if field in wanted))
        shown = dict(before, drift=drift) if drift else before
        return Plan(outcome(bool(changes or drift), shown, dict(before, **changes)),
                    (lambda: outcome(True, shown, backend.update(db_name, changes))) if changes or drift else None)
    if state == 'absent':
        def predicted():
            return outcome(before is not None or bool(db_name and params['drop_user'] and backend.drops_user(db_name)),
                           before, None)
        return Plan(predicted, (lambda: outcome(backend.delete(db_name, drop_user=params['drop_user']), before, None))
                    if db_name else None)
    if before is None:  # what an earlier task of the play would create has no session yet
        return until_created(params, found, Plan(dict(changed=False, terminated_sessions=0,
                                                      database=backend.preview(db_name))), 'a restart')

    def restarted(sessions):
        return dict(changed=sessions > 0, terminated_sessions=sessions, database=before)
    return Plan(lambda: restarted(backend.count_sessions(db_name)), lambda: restarted(backend.restart(db_name)))


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True, **LIST_RULES)
    run(module, check, plan, item_options=ITEM_OPTIONS, with_queries=True, vault=True)


if __name__ == '__main__':
    main()
