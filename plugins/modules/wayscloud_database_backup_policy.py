#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_backup_policy
short_description: Read or set the automated backups of a WaysCloud database
version_added: 0.1.0
description:
  - Without O(enabled), O(frequency), O(retention_days) or O(time_of_day), reads the database's
    backup policy (a database without one has a disabled daily policy). With any of them, sets the
    policy; the options left out keep their current values.
  - Times are UTC. V(hourly) backs up at minute MM of O(time_of_day) every hour, V(daily) at HH:MM,
    V(weekly) on Sundays at HH:MM.
  - With O(backend=host) the policy lives in the host's catalog and the module installs the schedule
    that makes it happen without Ansible - a systemd timer (C(wayscloud-backup-<db_type>-<db_name>.timer),
    C(OnCalendar) in UTC, C(Persistent=true)) where systemd runs, otherwise a file in C(/etc/cron.d)
    that runs the runner at minute MM of every hour. Disabling the policy, or deleting the database,
    removes the schedule.
  - With O(backend=host), every task that sets the policy compares the host's files with it, not only the
    catalog - the schedule's files, and the runner's entry scripts (mode 0700), library and login file (mode
    0600), each owned by the user the task runs as - and rewrites (or, for a disabled policy, removes)
    whatever was edited, deleted, given another mode or owner, or replaced by a link by hand - a change, named
    in the diff. A task that only reads the policy changes nothing.
  - The runner, C(<state_dir>/runner/wayscloud-backup), is this collection's own snapshot code copied
    to the host. When a slot is due it takes an automated snapshot (as
    M(wayscloud.databases.wayscloud_database_snapshot) does), then deletes the database's automated
    snapshots older than O(retention_days); snapshots taken by hand are never pruned. One run at a
    time per host (a lock); each run appends a JSON line to C(<state_dir>/logs/backups.log).
    Slots before the policy was enabled are not caught up.
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=api), nothing beyond ansible-core where the task runs (usually the controller)
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - With O(backend=host), C(systemctl) (systemd) or C(cron) on the database host, as O(schedule_driver) says
  - With O(backend=host), for the scheduled backups, the client tools of M(wayscloud.databases.wayscloud_database_snapshot)
    on the database host (C(pg_dump) and C(pg_restore); C(mariadb-dump), C(mariadb), C(zstd) and C(bash))
extends_documentation_fragment:
  - wayscloud.databases.address
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
  - wayscloud.databases.runner
attributes:
  check_mode:
    support: full
    description:
      - Reports whether the policy or the host's schedule would change, and changes neither.
      - On a database that does not exist yet (an earlier task of the play would create it), predicts the
        policy set over the default one (disabled, daily) and warns that the database does not exist yet; a
        real run fails.
  diff_mode:
    support: full
    description:
      - The policy's four settings before and after.
      - With O(backend=host), under C(host_files), each file of the schedule and of the runner the task writes or
        removes, as found (C(missing), C(edited), C(mode 0644), C(owner uid 1000), C(not a regular file),
        C(present)) and as it will be.
options:
  enabled:
    description: Whether automated backups run.
    type: bool
  frequency:
    description: How often.
    type: str
    choices: [hourly, daily, weekly]
  retention_days:
    description: Days an automated snapshot is kept, 1 to 3650.
    type: int
  time_of_day:
    description: C(HH:MM) in UTC (V(hourly) uses only the minutes).
    type: str
  schedule_driver:
    description:
      - With O(backend=host), how the host runs the schedule. V(auto) picks V(systemd) when systemd
        is running, otherwise V(cron).
    type: str
    choices: [auto, systemd, cron]
    default: auto
  systemd_unit_dir:
    description: With O(backend=host), where the timer and service units go.
    type: path
    default: /etc/systemd/system
  cron_dir:
    description: With O(backend=host), where the cron file goes.
    type: path
    default: /etc/cron.d
notes:
  - With O(backend=host), the runner logs in as the task does; those settings (with O(login_password),
    if given) are kept for it in C(<state_dir>/runner/login-<db_type>.json), mode 0600.
  - A database keeps at most 50 automated snapshots (the operator may set another number,
    C(snapshot_limits.automated), in the API server's configuration); after each backup the job deletes
    the oldest automated ones beyond it, even within O(retention_days) (an hourly policy keeps about
    two days). Snapshots taken by hand are never pruned.
  - Disabling a policy (O(enabled=false)) keeps its automated snapshots for O(retention_days) more,
    then the host deletes them (every snapshot task, backup job and database deletion on the host
    sweeps expired snapshots); enabling it again before then keeps them under the policy's pruning.
    Deleting the database gives them its grace period instead (see
    M(wayscloud.databases.wayscloud_database_snapshot)).
seealso:
  - module: wayscloud.databases.wayscloud_database_snapshot
'''

EXAMPLES = r'''
- name: Daily at 02:00 UTC, keep a week
  wayscloud.databases.wayscloud_database_backup_policy:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    enabled: true
    frequency: daily
    time_of_day: "02:00"
    retention_days: 7

- name: When was the last backup, when is the next one?
  wayscloud.databases.wayscloud_database_backup_policy:
    db_type: mariadb
    name: cust_6dd1d906_mdb_shop
  register: policy

- name: No more automated backups (the schedule goes too)
  wayscloud.databases.wayscloud_database_backup_policy:
    backend: host
    db_type: mariadb
    name: cust_6dd1d906_mdb_shop
    enabled: false
'''

RETURN = r'''
policy:
  description: The policy after the task (in check mode, as it would be), with the contract's fields.
  returned: always
  type: dict
  contains:
    db_name:
      description: The database.
      type: str
    db_type:
      description: The engine.
      type: str
    enabled:
      description: Whether automated backups run.
      type: bool
    frequency:
      description: V(hourly), V(daily) or V(weekly).
      type: str
    retention_days:
      description: Days automated snapshots are kept.
      type: int
    time_of_day:
      description: C(HH:MM), UTC.
      type: str
    last_backup:
      description: When the newest automated snapshot was taken (UTC, ISO 8601), or null.
      type: str
    next_backup:
      description: The next scheduled slot (UTC, ISO 8601), or null when disabled.
      type: str
schedule_files:
  description: With O(backend=host), the files of the host's schedule for this database (empty when disabled).
  returned: when O(backend=host)
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

from ansible_collections.wayscloud.databases.plugins.module_utils.backup_rules import (
    DEFAULT_POLICY, POLICY_FIELDS, check_policy, policy_result)
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    ADDRESS_OPTIONS, ADDRESS_RULES, SCHEDULE_OPTIONS, Plan, argument_spec, identify, locate, run, until_created)
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import files_diff

OPTIONS = dict(
    enabled=dict(type='bool'),
    frequency=dict(type='str', choices=['hourly', 'daily', 'weekly']),
    retention_days=dict(type='int'),
    time_of_day=dict(type='str'),
    **dict(SCHEDULE_OPTIONS, **ADDRESS_OPTIONS)
)


def check(params):
    """The fields the task sets; bad values fail here, before any connection."""
    wanted = dict((field, params[field]) for field in POLICY_FIELDS if params[field] is not None)
    check_policy(dict(DEFAULT_POLICY, **wanted))
    identify(params)
    return wanted


def plan(backend, params, wanted):
    found = locate(backend, params)
    db_name = found.db_name
    policies = backend.backup_policy()
    if found.database is None:  # what an earlier task of the play would create has the default policy
        before = policy_result(DEFAULT_POLICY, params['db_type'], db_name)
        after = policy_result(dict(DEFAULT_POLICY, **wanted), params['db_type'], db_name)
        changes = dict((field, after[field]) for field in POLICY_FIELDS if before[field] != after[field])
        return until_created(params, found, Plan(outcome(params, policies, before, after, changes)), 'its backup policy')
    before = policies.get(db_name)
    if not wanted:
        return Plan(outcome(params, policies, before, before, {}))
    policy = dict(((field, before[field]) for field in POLICY_FIELDS), **wanted)
    after, changes = policies.plan(db_name, policy)
    return Plan(outcome(params, policies, before, after, changes),
                (lambda: outcome(params, policies, before, policies.set(db_name, policy), changes)) if changes else None)


def outcome(params, policies, before, after, changes):
    """The result: the policy as it will be, and a diff of its settings and (on a host) of the files it writes."""
    files_before, files_after = files_diff(changes.get('files'))
    diff = dict(before=dict(((field, before[field]) for field in POLICY_FIELDS), **files_before),
                after=dict(((field, after[field]) for field in POLICY_FIELDS), **files_after))
    result = dict(changed=bool(changes), policy=after, diff=diff)
    if params['backend'] == 'host':
        result['schedule_files'] = policies.schedule_files(after['db_name']) if after['enabled'] else []
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True, **ADDRESS_RULES)
    run(module, check, plan, with_queries=True)


if __name__ == '__main__':
    main()
