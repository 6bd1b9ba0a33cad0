#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_collector
short_description: Collect metrics of a host's WaysCloud databases every 5 minutes
version_added: 0.1.0
description:
  - Installs (or removes) the schedule that stores one metrics sample of every customer database on
    the host every 5 minutes, as the API's collector does, so that
    M(wayscloud.databases.wayscloud_database_info) reports rates (queries_per_sec, cpu_percent).
  - The same mechanism as automated backups - a systemd timer C(wayscloud-metrics.timer) where systemd
    runs, otherwise C(/etc/cron.d/wayscloud-metrics) - runs C(<state_dir>/runner/wayscloud-collect), the
    collection's own code copied to the host. Samples older than O(retention_days) are dropped at each run;
    each run appends a JSON line to C(<state_dir>/logs/collector.log).
  - Every run compares the host's files with what the task declares, not with what an earlier run wrote - the
    schedule's files, and the runner's entry scripts (mode 0700), library and login file (mode 0600), each
    owned by the user the task runs as - and rewrites (or, with O(state=absent), removes) whatever was edited,
    deleted, given another mode or owner, or replaced by a link by hand - a change, named in the diff.
  - Run it once per engine (O(db_type)) so the collector knows how to log in to each; an engine it has
    no login for is not sampled.
  - Host only - the WaysCloud API collects its own metrics. O(backend) defaults to V(host) here, and V(api) (from
    a group's C(module_defaults), say) is refused before anything connects; the other API options are accepted,
    so group defaults for both backends work, and ignored.
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - With O(backend=host), C(systemctl) (systemd) or C(cron) on the database host, as O(schedule_driver) says
  - Linux C(/proc) on the host the database servers run on, for their CPU and memory figures (the task runs there)
extends_documentation_fragment:
  - wayscloud.databases.host.host_only
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
  - wayscloud.databases.runner
attributes:
  check_mode:
    support: full
    description: Reports whether the schedule or the runner would change, and changes neither.
  diff_mode:
    support: full
    description:
      - Under C(host_files), each file of the schedule and of the runner the task writes or removes, as found
        (C(missing), C(edited), C(mode 0644), C(owner uid 1000), C(not a regular file), C(present)) and as it
        will be.
options:
  db_type:
    description: The engine whose login (the login options) the collector keeps.
    type: str
    required: true
    choices: [postgresql, mariadb]
  state:
    description: Whether the collector runs.
    type: str
    choices: [present, absent]
    default: present
  retention_days:
    description: Days samples are kept, 1 to 366.
    type: int
    default: 7
  schedule_driver:
    description: How the host runs the schedule; V(auto) picks V(systemd) when systemd is running, else V(cron).
    type: str
    choices: [auto, systemd, cron]
    default: auto
  systemd_unit_dir:
    description: Where the timer and service units go.
    type: path
    default: /etc/systemd/system
  cron_dir:
    description: Where the cron file goes.
    type: path
    default: /etc/cron.d
notes:
  - The collector logs in as the task does; those settings (with O(login_password), if given) are kept
    in C(<state_dir>/runner/login-<db_type>.json), mode 0600.
seealso:
  - module: wayscloud.databases.wayscloud_database_info
'''

EXAMPLES = r'''
- name: Sample every database's metrics every 5 minutes, keep two weeks
  wayscloud.databases.wayscloud_database_collector:
    backend: host
    db_type: "{{ item }}"
    retention_days: 14
  loop: [postgresql, mariadb]
'''

RETURN = r'''
schedule_files:
  description: The files of the collector's schedule (empty when absent).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils.host.collector import HostCollector, check_retention
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    HOST_ONLY_OPTIONS, SCHEDULE_OPTIONS, Plan, argument_spec, host_only, run)
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import files_diff

OPTIONS = dict(
    db_type=dict(type='str', required=True, choices=['postgresql', 'mariadb']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    retention_days=dict(type='int', default=7),
    **dict(HOST_ONLY_OPTIONS, **SCHEDULE_OPTIONS)
)


def check(params):
    host_only(params, 'wayscloud_database_collector', 'the WaysCloud API collects its own metrics')
    if params['state'] == 'present':
        check_retention(params['retention_days'])


def plan(backend, params, checked):
    collector = HostCollector(backend, backend.schedule)
    present = params['state'] == 'present'
    drift = collector.plan(present, params['retention_days'])
    before, after = files_diff(drift)
    result = dict(changed=bool(drift), schedule_files=collector.schedule_files() if present else [],
                  diff=dict(before=before, after=after))

    def install():
        collector.set(present, params['retention_days'])
        return result
    return Plan(result, install if drift else None)


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True)
    run(module, check, plan)


if __name__ == '__main__':
    main()
