# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No example puts a new password in a job's output: every task that may create a database (wayscloud_database
declaring a database present that no earlier task of the example addressed, or by its requested name) or rotates
a password (wayscloud_database_credentials with rotate) registers its result under ``no_log: true``, or sets
``return_password: false`` (the password then stays in Vault alone).

Examples are the modules' EXAMPLES, every ```yaml block of README.md and docs/, and, written the same way, the
roles' tasks and the playbooks: what users copy into AWX, whose job events keep what a task printed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from plugin_docs import MODULES, PREFIX, ROOT, ansible_doc, tasks_of

BLOCK = re.compile(r'^```yaml\n(.*?)^```', re.S | re.M)
PASSWORD_MODULES = ('wayscloud_database', 'wayscloud_database_credentials')


def examples():
    """[(where, parsed YAML)] of every example."""
    found = [('%s EXAMPLES' % name, yaml.safe_load(ansible_doc()[name]['examples'])) for name in MODULES]
    for page in [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '**', '*.md'), recursive=True)):
        with open(page) as handle:
            for number, block in enumerate(BLOCK.findall(handle.read()), start=1):
                found.append(('%s example %d' % (os.path.relpath(page, ROOT), number), yaml.safe_load(block)))
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml'))
                       + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml'))):
        with open(path) as handle:
            found.append((os.path.relpath(path, ROOT), yaml.safe_load(handle)))
    return found


def module_args(task):
    """(short module name, args) of a task of the collection's modules, else (None, None)."""
    for key, args in task.items():
        if key.startswith(PREFIX) and isinstance(args, (dict, str)):
            return key[len(PREFIX):], args if isinstance(args, dict) else {}
    return None, None


def addressed(args):
    """The technical names a task's args name (with name, or customer_id and requested_name)."""
    tag = 'pg' if args.get('db_type', 'postgresql') == 'postgresql' else 'mdb'
    names = set()
    listed = args['databases'] if isinstance(args.get('databases'), list) else []
    for item in [args] + [dict(args, **entry) for entry in listed if isinstance(entry, dict)]:
        if item.get('name'):
            names.add(item['name'])
        elif item.get('requested_name') and item.get('customer_id'):
            names.add('cust_%s_%s_%s' % (item['customer_id'], tag, item['requested_name']))
    return names


def gives_password(name, args, known):
    """Whether the task may return a new password (a templated value counts as may): a rotation, or a database
    declared present by its requested name or by a name no earlier task of the example addressed (it would be
    created); a database declared present again, by its name after an earlier task, is an update."""
    if name == 'wayscloud_database_credentials':
        return args.get('rotate', False) is not False
    if name != 'wayscloud_database':
        return False
    items = [args]
    if isinstance(args.get('databases'), list):
        items = [dict(args, **item) if isinstance(item, dict) else {'state': None} for item in args['databases']]
    elif args.get('databases') is not None:
        return True  # a template: any item
    return any(item.get('state', 'present') not in ('absent', 'restarted')
               and (item.get('requested_name') or item.get('name') not in known) for item in items)


def unsafe_tasks(document):
    unsafe, known = [], set()
    for task, no_log, default in tasks_of(document):
        name, args = module_args(task)
        if name is None:
            continue
        if (name in PASSWORD_MODULES and gives_password(name, args, known)
                and args.get('return_password', default) is not False and not (no_log is True and task.get('register'))):
            unsafe.append('%s (%s)' % (task.get('name', 'unnamed task'), name))
        known |= addressed(args)
    return unsafe


@pytest.mark.parametrize('where, document', examples(), ids=[where for where, document in examples()])
def test_a_new_password_is_registered_under_no_log(where, document):
    assert unsafe_tasks(document) == [], (
        '%s: a task that creates a database or rotates a password must register its result with no_log: true,'
        ' or set return_password: false' % where)


def test_the_check_finds_what_it_looks_for():
    assert unsafe_tasks(yaml.safe_load('''
- name: Create, printed
  wayscloud.databases.wayscloud_database: {db_type: postgresql, customer_id: c1, requested_name: a}
- name: Create, hidden but lost
  wayscloud.databases.wayscloud_database: {db_type: postgresql, customer_id: c1, requested_name: a}
  no_log: true
- name: Rotate, printed
  wayscloud.databases.wayscloud_database_credentials: {db_type: postgresql, name: x, rotate: "{{ rotate }}"}
  register: rotated
- block:
    - name: Items, one created
      wayscloud.databases.wayscloud_database:
        db_type: postgresql
        customer_id: c1
        state: absent
        databases: [{requested_name: a}, {requested_name: b, state: present}]
      register: made
''')) == ['Create, printed (wayscloud_database)', 'Create, hidden but lost (wayscloud_database)',
          'Rotate, printed (wayscloud_database_credentials)', 'Items, one created (wayscloud_database)']
    assert unsafe_tasks(yaml.safe_load('''
- name: Hidden and kept
  wayscloud.databases.wayscloud_database: {db_type: postgresql, customer_id: c1, requested_name: a}
  register: made
  no_log: true
- name: In Vault alone
  wayscloud.databases.wayscloud_database: {db_type: postgresql, customer_id: c1, requested_name: a, return_password: false}
- name: Deleted
  wayscloud.databases.wayscloud_database: {db_type: postgresql, name: x, state: absent}
- name: Read
  wayscloud.databases.wayscloud_database_credentials: {db_type: postgresql, name: x}
- hosts: all
  no_log: true
  tasks:
    - name: Inherits no_log
      wayscloud.databases.wayscloud_database: {db_type: postgresql, customer_id: c1, requested_name: a}
      register: made
''')) == []
    assert unsafe_tasks(yaml.safe_load('''
- name: Vault alone for the whole play
  hosts: all
  module_defaults:
    group/wayscloud.databases.all: {return_password: false}
  tasks:
    - name: Made, nothing returned
      wayscloud.databases.wayscloud_database: {db_type: postgresql, customer_id: c1, requested_name: a}
- name: Restarted, no password
  wayscloud.databases.wayscloud_database: {db_type: postgresql, name: cust_c1_pg_b, state: restarted}
- name: Made by its name, not hidden
  wayscloud.databases.wayscloud_database: {db_type: postgresql, name: cust_c1_pg_c}
''')) == ['Made by its name, not hidden (wayscloud_database)']
    assert unsafe_tasks(yaml.safe_load('''
- name: Made
  wayscloud.databases.wayscloud_database: {db_type: mariadb, customer_id: c1, requested_name: a}
  register: made
  no_log: true
- name: Updated by its name afterwards
  wayscloud.databases.wayscloud_database: {db_type: mariadb, name: cust_c1_mdb_a, connection_limit: 20}
''')) == []
