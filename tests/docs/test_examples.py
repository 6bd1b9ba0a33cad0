# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every example of the user guide runs: each ```yaml block of docs/modules and docs/roles is a task
list, run as one play against the test servers.

The examples stay as users would write them. This harness adds only where the test servers are:
the API's address and key for every module (module_defaults), Vault's address and token in the
environment (VAULT_ADDR, VAULT_TOKEN, as a user's shell has them), and for tasks with ``backend: host``
the engine's socket and port, a catalog folder of the test's own, no packet filter and a cron folder
of the test's own. Afterwards the databases of the docs' customer (docs1) are deleted.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
PAGES = sorted(glob.glob(os.path.join(ROOT, 'docs', 'modules', '*.md')) + glob.glob(os.path.join(ROOT, 'docs', 'roles', '*.md')))
BLOCK = re.compile(r'^```yaml\n(.*?)^```', re.S | re.M)
SCHEDULED = ('wayscloud.databases.wayscloud_database_backup_policy', 'wayscloud.databases.wayscloud_database_collector')


def logins():
    return {
        'postgresql': dict(login_unix_socket=os.environ['WAYSCLOUD_PG_SOCKET_DIR'], login_port=int(os.environ['WAYSCLOUD_PG_PORT'])),
        'mariadb': dict(login_unix_socket=os.environ['WAYSCLOUD_MDB_SOCKET'], login_port=int(os.environ['WAYSCLOUD_MDB_PORT'])),
    }


def where_the_servers_are(task, state_dir):
    """The task with the test servers' host settings added (nothing a user would write is changed)."""
    for name, args in list(task.items()):
        if isinstance(args, dict) and name.startswith('wayscloud.databases.') and args.get('backend') == 'host':
            extra = dict(logins()[args.get('db_type', 'postgresql')], state_dir=state_dir)
            if name not in ('wayscloud.databases.wayscloud_database_quota',):
                extra['firewall_driver'] = args.get('firewall_driver', 'none')
            if name in SCHEDULED:
                extra.update(schedule_driver='cron', cron_dir=os.path.join(state_dir, 'cron.d'))
            task[name] = dict(extra, **args)
        if name == 'ansible.builtin.include_role':
            variables = task.setdefault('vars', {})
            variables.setdefault('backup_state_dir', state_dir)
            variables.setdefault('database_state_dir', state_dir)
            variables.setdefault('database_login', logins())
            variables.setdefault('database_firewall_driver', 'none')
            variables.setdefault('database_schedule_driver', 'cron')
            variables.setdefault('database_cron_dir', os.path.join(state_dir, 'cron.d'))
            variables.setdefault('database_api_url', os.environ['WAYSCLOUD_API_URL'])
            variables.setdefault('database_api_key', os.environ['WAYSCLOUD_TEST_KEY_INTERNAL'])
            variables.setdefault('database_credentials_dir', os.path.join(state_dir, 'credentials'))
            variables.setdefault('db_server_firewall', False)
        for key in ('block', 'always', 'rescue'):
            for inner in task.get(key, []):
                where_the_servers_are(inner, state_dir)
    return task


def run_play(tasks, tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    state_dir = str(tmp_path / 'state')
    play = [dict(name='A documentation example', hosts='localhost', gather_facts=False,
                 module_defaults={'group/wayscloud.databases.all': dict(
                     api_url=os.environ['WAYSCLOUD_API_URL'], api_key=os.environ['WAYSCLOUD_TEST_KEY_INTERNAL'])},
                 tasks=[where_the_servers_are(task, state_dir) for task in tasks])]
    path = tmp_path / 'example.yml'
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
               VAULT_ADDR=os.environ['WAYSCLOUD_VAULT_ADDR'], VAULT_TOKEN=os.environ['WAYSCLOUD_VAULT_TOKEN'])
    return subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(path)],
                          env=env, capture_output=True, text=True, check=False)


def forget_docs_databases():
    for db_type in ('postgresql', 'mariadb'):
        listed = subprocess.run(
            [os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
             '-m', 'wayscloud.databases.wayscloud_database_info', '-o', '-a', json.dumps(dict(
                 db_type=db_type, customer_id='docs1', api_url=os.environ['WAYSCLOUD_API_URL'],
                 api_key=os.environ['WAYSCLOUD_TEST_KEY_INTERNAL']))], capture_output=True, text=True, check=True)
        answer = json.loads(listed.stdout.split('=>', 1)[1])
        # copies first: they belong to their original's user
        for database in sorted(answer['databases'], key=lambda item: item['username'] == item['db_name']):
            subprocess.run(
                [os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
                 '-m', 'wayscloud.databases.wayscloud_database', '-a', json.dumps(dict(
                     db_type=db_type, name=database['db_name'], state='absent', api_url=os.environ['WAYSCLOUD_API_URL'],
                     api_key=os.environ['WAYSCLOUD_TEST_KEY_INTERNAL']))], capture_output=True, text=True, check=True)


@pytest.mark.parametrize('page', PAGES, ids=[os.path.relpath(page, ROOT) for page in PAGES])
def test_every_example_of_the_page_runs(page, tmp_path):
    with open(page) as handle:
        blocks = BLOCK.findall(handle.read())
    assert blocks, '%s has no example' % page
    try:
        for number, block in enumerate(blocks, start=1):
            tasks = yaml.safe_load(block)
            assert isinstance(tasks, list), '%s example %d is not a task list' % (page, number)
            done = run_play(tasks, tmp_path / str(number))
            assert done.returncode == 0, '%s example %d failed:\n%s' % (page, number, done.stdout[-3000:] + done.stderr[-1500:])
    finally:
        forget_docs_databases()


def test_every_module_and_role_has_a_page():
    modules = [os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))]
    roles = os.listdir(os.path.join(ROOT, 'roles'))
    for name in modules:
        assert os.path.exists(os.path.join(ROOT, 'docs', 'modules', name + '.md')), name
    for name in roles:
        assert os.path.exists(os.path.join(ROOT, 'docs', 'roles', name + '.md')), name
    readme = open(os.path.join(ROOT, 'README.md')).read()
    assert 'docs/index.md' in readme


def module_tasks(tasks):
    """(module, args) of every collection task, blocks included, once per literal loop item (names rendered)."""
    import jinja2
    environment = jinja2.Environment(undefined=jinja2.ChainableUndefined)
    for task in tasks:
        for key in ('block', 'rescue', 'always'):
            yield from module_tasks(task.get(key, []))
        for name, args in task.items():
            if name.startswith('wayscloud.databases.') and isinstance(args, dict):
                for item in task.get('loop') if isinstance(task.get('loop'), list) else [None]:
                    yield name, dict((key, environment.from_string(value).render(item=item) if isinstance(value, str) else value)
                                     for key, value in args.items())


def databases_addressed(args):
    """The technical names a task's args address (name, customer_id with requested_name, or databases items)."""
    tag = 'pg' if args.get('db_type', 'postgresql') == 'postgresql' else 'mdb'
    for item in [args] + [dict(args, **entry) for entry in args.get('databases') or [] if isinstance(entry, dict)]:
        if item.get('name'):
            yield item['name']
        elif item.get('requested_name') and item.get('customer_id'):
            yield 'cust_%s_%s_%s' % (item['customer_id'], tag, item['requested_name'])


@pytest.mark.parametrize('page', PAGES, ids=[os.path.relpath(page, ROOT) for page in PAGES])
def test_each_database_of_a_page_is_managed_through_one_backend(page):
    """A database made on the host is not deleted through the API (each backend has its own catalog)."""
    with open(page) as handle:
        blocks = BLOCK.findall(handle.read())
    backend_of = {}
    for block in blocks:
        for module, args in module_tasks(yaml.safe_load(block)):
            if module.endswith(('_quota', '_collector')):
                continue  # customer- and host-wide, not a database's
            for db_name in databases_addressed(args):
                backend = backend_of.setdefault(db_name, args.get('backend', 'api'))
                assert args.get('backend', 'api') == backend, '%s: %s is made through backend %s, then %s uses %s' % (
                    os.path.relpath(page, ROOT), db_name, backend, module, args.get('backend', 'api'))
