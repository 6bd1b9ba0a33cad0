#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_snapshot
short_description: Snapshot a WaysCloud database, delete snapshots, and restore one
version_added: 0.1.0
description:
  - Takes a snapshot of a PostgreSQL or MariaDB database (O(state=present)), deletes one
    (O(state=absent)), or restores one (O(state=restored)) over the database itself or into a new
    database of the same customer.
  - Every result lists the database's snapshots, newest first.
  - A restore never leaves the database half restored. The snapshot goes into a scratch database
    first; only a complete restore without a single error replaces the original, in one step
    (PostgreSQL renames both databases in one transaction; MariaDB moves every table in one
    C(RENAME TABLE)). A restore that fails, or whose process is killed, before that step leaves the
    original exactly as it was; the next snapshot task on the database cleans up after a killed one.
  - With O(backend=host) the snapshot is C(pg_dump) in directory format (parallel with O(jobs),
    gzip level 1). On MariaDB, InnoDB tables in files of their own are copied as those files
    (C(FLUSH TABLES ... FOR EXPORT), compressed with C(zstd)) and imported again with
    C(ALTER TABLE ... IMPORT TABLESPACE), at disk speed; writers of those tables wait while their files
    are copied (readers do not). The other tables (other engines, sequences, partitioned or
    system-versioned tables, FULLTEXT indexes, names beyond letters, digits and C(_)) go through
    C(mariadb-dump --single-transaction) while the InnoDB ones are held, so both parts are of one
    moment, and the task warns which tables went that way and why; when a session holds a table for more
    than 10 seconds, every table is dumped that way. The routines, views, triggers and events are kept as
    the server describes them (C(objects.json)). A snapshot with InnoDB files restores on MariaDB of the
    same version or newer, with the same C(innodb_default_row_format); anything else is refused before
    anything is touched. Files live under
    O(state_dir)C(/snapshots/<db_type>/<db_name>/<snapshot_id>/) (folders 0700, files 0600); the
    catalog keeps their size and SHA-256, and every file is checked before a restore, so a damaged
    snapshot is refused before anything is touched. Passwords reach the tools in the environment or
    a 0600 defaults file, never on a command line.
  - Everything inside a database is its tenant's, so with O(backend=host) a restore never loads it
    with the administrator's rights. It logs in as a short-lived login that may act only as the
    database's owner (PostgreSQL C(pg_restore --role=<owner> --no-owner); MariaDB an account with rights
    on the scratch schema alone, the client in C(--sandbox) mode), so a function in a CHECK
    constraint, an index or a default runs with the tenant's rights. Every restored object belongs to
    the tenant - on MariaDB views, triggers, routines and events come back with the tenant's own
    account as their DEFINER, whatever the snapshot said. What the tenant could not have made itself
    (an untrusted extension, say) fails the restore and leaves the original as it was. MariaDB
    snapshots taken before this rule are refused for restore; take a new one. docs/security.md has
    the whole threat model.
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=api), nothing beyond ansible-core where the task runs (usually the controller)
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - With O(backend=host), the client tools on the database host - for PostgreSQL C(pg_dump) and C(pg_restore) of the
    server's major version or newer (C(postgresql-client-<major>)); for MariaDB C(mariadb-dump) and C(mariadb) (or
    C(mysqldump) and C(mysql)), C(zstd) and C(bash)
extends_documentation_fragment:
  - wayscloud.databases.address
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
attributes:
  check_mode:
    support: full
    description:
      - Decides as a real run would and changes nothing. With O(backend=host), a restore in check
        mode also checks the snapshot's files, so a damaged snapshot fails there too.
      - With O(state=present) on a database that does not exist yet (an earlier task of the play would create
        it), predicts one snapshot taken and warns that the database does not exist yet; a real run fails.
  diff_mode:
    support: full
    description: Shows the snapshot created or deleted, or which snapshot the restored database will hold.
options:
  state:
    description:
      - V(present) takes a snapshot. Without O(label) every run takes a new one (and reports a
        change); with O(label) none is taken when the database has a snapshot with that label.
      - V(absent) deletes the snapshot O(snapshot_id) (or the snapshots labelled O(label)); one that is
        gone already is no change.
      - V(restored) restores O(snapshot_id) (or the newest snapshot labelled O(label)). In place it
        replaces the database's contents and ends its sessions; this cannot be undone, so it needs
        O(force=true), and it reports a change every time it runs, like a command. With
        O(target_db_name) it creates a new database instead; that is done once (a target already
        restored from this snapshot is no change, any other existing database is an error).
    type: str
    choices: [present, absent, restored]
    default: present
  snapshot_id:
    description:
      - The snapshot to delete or restore, like C(snap_20261126_143000_a1b2c3d4). A snapshot of
        another database is treated as unknown.
    type: str
  label:
    description:
      - A name for the snapshot that makes O(state=present) idempotent and lets O(state=absent) and
        O(state=restored) find it without its id.
      - 1 to 63 letters, digits, C(_), C(.) or C(-). Stored at the end of the description as
        C([label=NAME]) (the API has no label field), and returned apart as RV(snapshot.label).
    type: str
  description:
    description: With O(state=present), a description of the snapshot (at most 1024 characters).
    type: str
  target_db_name:
    description:
      - With O(state=restored), restore into this new database instead of over the database.
      - A requested name (C(webapp_restored)) of the same customer, or the full name
        (C(cust_6dd1d906_pg_webapp_restored)). It is owned by the snapshotted database's user, who
        can connect to it with the same password; its description records the snapshot it came from.
    type: str
  force:
    description: Required for a restore in place, which replaces the database's current contents for good.
    type: bool
    default: false
  jobs:
    description:
      - With O(backend=host) and PostgreSQL, the parallel jobs of C(pg_dump) and C(pg_restore)
        (default - the host's processors, at most 4). MariaDB and the API backend ignore it.
    type: int
notes:
  - A database keeps at most 20 snapshots taken with this module (O(state=present)); one more fails with
    a message saying so (HTTP 403 with O(backend=api)) until an old one is deleted with O(state=absent).
    Automated snapshots of M(wayscloud.databases.wayscloud_database_backup_policy) do not count (they
    have their own cap). The host's operator sets other numbers in the API server's configuration
    (C(snapshot_limits)), which records them in the host's catalog.
  - Snapshots outlive their database for a grace period (M(wayscloud.databases.wayscloud_database)
    with O(state=absent) keeps them, for a final snapshot before decommissioning); on deletion each gets
    an RV(snapshot.expires_at) 30 days on (C(snapshot_limits.deleted_grace_days)), during which it can
    be restored into a new name while its user exists and counts toward the customer's storage. Then
    the next snapshot task, backup job or database deletion on the host deletes it for good. Delete
    them sooner with O(state=absent) here.
  - Snapshot sizes count toward the customer's C(storage_gb) quota; through the API a snapshot is
    refused (403) when the customer's storage is at or over its limit. A restore into a new database
    (O(target_db_name)) is a database creation for the API - it needs the C(database:create)
    permission and a free place in the quota.
  - With O(backend=api), taking and restoring a snapshot wait O(operation_timeout) for their answer, not
    O(api_timeout), and are never sent twice. An answer that does not come in time or is lost is followed by
    reading what the server did, and the task reports the snapshot or the restore (with a warning), or fails
    saying it was not done in that time.
  - The user of a database restored into a new name is the snapshotted database's user. Deleting the original
    database leaves such copies, and their user, as they are (the user goes with the last of them); a snapshot
    whose user is gone is restored only after its database is created again. On MariaDB, firewall rules go to the
    original database (its user's accounts reach the copy too); credentials are managed there as well.
  - Database-level settings that the collection does not manage (per-database configuration
    parameters, extra grants on the database itself) are not part of a snapshot.
seealso:
  - module: wayscloud.databases.wayscloud_database
'''

EXAMPLES = r'''
- name: Snapshot before a migration (once, thanks to the label)
  wayscloud.databases.wayscloud_database_snapshot:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    label: before-migration-42
    description: Before schema migration 42
  register: before_migration

- name: Put the database back as it was before the migration
  wayscloud.databases.wayscloud_database_snapshot:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    state: restored
    snapshot_id: "{{ before_migration.snapshot.snapshot_id }}"
    force: true

- name: Restore last night's snapshot next to the database, to copy rows back by hand
  wayscloud.databases.wayscloud_database_snapshot:
    backend: host
    db_type: mariadb
    name: cust_6dd1d906_mdb_shop
    state: restored
    label: nightly
    target_db_name: shop_yesterday

- name: Delete a snapshot
  wayscloud.databases.wayscloud_database_snapshot:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    state: absent
    snapshot_id: snap_20261126_143000_a1b2c3d4
'''

RETURN = r'''
snapshot:
  description:
    - The snapshot created, found by label, deleted or restored. In check mode a snapshot that would
      be created has no RV(snapshot.snapshot_id) yet.
  returned: always (empty when O(state=absent) found nothing)
  type: dict
  contains:
    snapshot_id:
      description: The snapshot's id.
      type: str
      sample: snap_20261126_143000_a1b2c3d4
    db_name:
      description: The database it is a snapshot of.
      type: str
    db_type:
      description: The engine.
      type: str
    size_mb:
      description: Its size on disk in MiB.
      type: float
    created_at:
      description: When it was taken (UTC, ISO 8601).
      type: str
    description:
      description: Its description, without the label tag.
      type: str
    label:
      description: Its label, or null.
      type: str
    expires_at:
      description:
        - When it is deleted (UTC, ISO 8601), or null while it is kept until deleted by hand. Set when
          its database is deleted, and for an automated snapshot when its backup policy is disabled.
      type: str
snapshots:
  description: The database's snapshots after the task, newest first (same fields as RV(snapshot)).
  returned: always
  type: list
  elements: dict
restored_into:
  description: The database that holds the restored contents (the database itself, or O(target_db_name)).
  returned: when O(state=restored)
  type: str
  sample: cust_6dd1d906_pg_webapp_restored
deleted:
  description: The ids of the snapshots deleted (or that check mode would delete).
  returned: when O(state=absent)
  type: list
  elements: str
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
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import NotFound, database_missing
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    ADDRESS_OPTIONS, ADDRESS_RULES, Plan, argument_spec, identify, locate, run, until_created)
from ansible_collections.wayscloud.databases.plugins.module_utils.snapshot_rules import (
    check_label, check_snapshot_id, tagged_description, target_name)

OPTIONS = dict(
    state=dict(type='str', default='present', choices=['present', 'absent', 'restored']),
    snapshot_id=dict(type='str'),
    label=dict(type='str'),
    description=dict(type='str'),
    target_db_name=dict(type='str'),
    force=dict(type='bool', default=False),
    jobs=dict(type='int'),
    **ADDRESS_OPTIONS
)
RULES = dict(ADDRESS_RULES, required_if=[('state', 'absent', ('snapshot_id', 'label'), True),
                                         ('state', 'restored', ('snapshot_id', 'label'), True)])


def check(params):
    """Every option checked against its rule before anything connects."""
    identify(params)
    check_label(params['label'])
    naming.check_description(params['description'])
    if params['snapshot_id'] is not None:
        check_snapshot_id(params['snapshot_id'])
    if params['jobs'] is not None and not 1 <= params['jobs'] <= 32:
        raise naming.ValidationError('jobs must be between 1 and 32 (got %d)' % params['jobs'])
    state = params['state']
    if state == 'restored':
        if params['target_db_name'] is None and not params['force']:
            raise naming.ValidationError('a restore in place replaces the database for good: set force: true, or'
                                         ' restore into a new database with target_db_name')
    elif params['target_db_name'] is not None:
        raise naming.ValidationError('target_db_name is for state: restored')
    if state != 'present' and params['description'] is not None:
        raise naming.ValidationError('description is for state: present')


def chosen(snapshots, params):
    """The snapshots the task names: by id, or by label (newest first)."""
    if params['snapshot_id'] is not None:
        found = [snapshot for snapshot in snapshots if snapshot['snapshot_id'] == params['snapshot_id']]
        if params['label'] is not None and found and found[0]['label'] != params['label']:
            raise naming.ValidationError('snapshot %s has label %s, not %s'
                                         % (params['snapshot_id'], found[0]['label'], params['label']))
        return found
    return [snapshot for snapshot in snapshots if snapshot['label'] == params['label']]


def plan(backend, params, checked):
    found = locate(backend, params)
    db_name = found.db_name
    present = params['state'] == 'present'
    if db_name is None and not present:
        raise database_missing(params['db_type'], params['requested_name'])
    if params['target_db_name'] is not None:
        target_name(params['db_type'], db_name, params['target_db_name'])
    snapshots = backend.snapshots()
    # A deleted database's snapshots stay for restores and deletion; none is taken of a database that is not there.
    listed = snapshots.list(db_name) if found.database or not present else []

    def snapshots_after(changed):
        return snapshots.list(db_name) if changed else listed
    planner = {'present': _present, 'absent': _absent, 'restored': _restored}[params['state']]
    return planner(snapshots, params, found, listed, snapshots_after)


def _present(snapshots, params, found, listed, snapshots_after):
    labelled = chosen(listed, params) if params['label'] is not None else []
    if labelled:
        return Plan(dict(changed=False, snapshots=listed, snapshot=labelled[0], diff=dict(before={}, after={})))
    planned = dict(snapshot_id=None, db_name=found.db_name, db_type=params['db_type'], size_mb=None, created_at=None,
                   description=params['description'], label=params['label'], expires_at=None)

    def create():
        snapshot = snapshots.create(found.db_name, tagged_description(params['description'], params['label']),
                                    params['jobs'])
        return dict(changed=True, snapshots=snapshots_after(True), snapshot=snapshot, diff=dict(before={}, after=snapshot))
    return until_created(params, found, Plan(dict(changed=True, snapshots=listed, snapshot=planned,
                                                  diff=dict(before={}, after=planned)), create), 'a snapshot')


def _absent(snapshots, params, found, listed, snapshots_after):
    def result(gone, snapshots_after):
        return dict(changed=bool(gone), snapshot=gone[0] if gone else {},
                    deleted=[snapshot['snapshot_id'] for snapshot in gone], snapshots=snapshots_after,
                    diff=dict(before=dict(snapshots=[s['snapshot_id'] for s in listed]),
                              after=dict(snapshots=[s['snapshot_id'] for s in listed if s not in gone])))
    named = chosen(listed, params)

    def delete():
        gone = [snapshot for snapshot in named if snapshots.delete(found.db_name, snapshot['snapshot_id'])]
        return result(gone, snapshots_after(bool(gone)))
    return Plan(result(named, listed), delete if named else None)


def _restored(snapshots, params, found, listed, snapshots_after):
    named = chosen(listed, params)
    if not named:
        raise NotFound('%s has no snapshot %s' % (found.db_name, params['snapshot_id'] or 'labelled %s' % params['label']))
    snapshot = named[0]

    def result(target, changed, snapshots_after):
        return dict(changed=changed, snapshots=snapshots_after, snapshot=snapshot, restored_into=target,
                    diff=dict(before=dict(database=target, contents='current' if changed else snapshot['snapshot_id']),
                              after=dict(database=target, contents=snapshot['snapshot_id'])))

    def predicted():  # checks every file of the snapshot: only when the restore itself does not
        restore = snapshots.plan_restore(found.db_name, snapshot['snapshot_id'], params['target_db_name'])
        return result(restore['target'], restore['changed'], listed)

    def restore():
        target, changed = snapshots.restore(found.db_name, snapshot['snapshot_id'], params['target_db_name'],
                                            params['jobs'])
        return result(target, changed, snapshots_after(changed))
    return Plan(predicted, restore)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True, **RULES)
    run(module, check, plan, with_queries=True)


if __name__ == '__main__':
    main()
