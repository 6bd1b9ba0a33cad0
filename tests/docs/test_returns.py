# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules return is what their RETURN documents, through both backends.

One play per backend makes a database with a rule and a snapshot, runs every module on it and
``wayscloud_database_info`` with every ``gather``, and deletes it; the api backend's on a Python with nothing
installed, as the modules' ``requirements`` say it needs. Every key of every result (into dicts and
the dicts of lists) must be documented. ``wayscloud_database_info`` is held to more: every dict or list of
dicts it returns documents its keys (``contains``), each with a ``sample``, and every documented key was
returned by one of the two backends.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

from plugin_docs import BIN, COMMON_RESULT_KEYS, ansible_doc, documented_paths, returned_paths

CUSTOMER = 'rets1'
STRICT = 'wayscloud_database_info'


def module_task(module, register, **args):
    return {'wayscloud.databases.' + module: args, 'register': register}


def play(backend, state_dir, out):
    """Every module on a new database of ``backend``; the registered results written to ``out``."""
    name = 'cust_%s_pg_returns_%s' % (CUSTOMER, backend)
    common = dict(backend=backend, db_type='postgresql')
    if backend == 'host':
        common.update(login_unix_socket=os.environ['WAYSCLOUD_PG_SOCKET_DIR'],
                      login_port=int(os.environ['WAYSCLOUD_PG_PORT']), state_dir=state_dir, firewall_driver='none')
    tasks = [
        dict(module_task('wayscloud_database', 'database', customer_id=CUSTOMER, requested_name='returns_' + backend,
                         connection_limit=20, description='Returns', **common), no_log=True),
        module_task('wayscloud_database_firewall', 'firewall', name=name, ip_address='203.0.113.10',
                    description='Office', **common),
        module_task('wayscloud_database_snapshot', 'snapshot', name=name, label='weekly', description='Before',
                    **common),
        module_task('wayscloud_database_credentials', 'credentials', name=name, **common),
        module_task('wayscloud_database_backup_policy', 'backup_policy', name=name, **common),
        module_task('wayscloud_database_info', 'listed', customer_id=CUSTOMER,
                    gather=['databases', 'engines', 'quota', 'history'], **common),
        module_task('wayscloud_database_info', 'one', name=name,
                    gather=['info', 'metrics', 'snapshots', 'firewall', 'backup_policy', 'credentials'], **common),
    ]
    cleanup = [module_task('wayscloud_database', 'deleted', name=name, state='absent', **common)]
    registered = ['database', 'firewall', 'snapshot', 'credentials', 'backup_policy', 'listed', 'one', 'deleted']
    if backend == 'host':
        tasks.append(module_task('wayscloud_database_quota', 'quota', backend='host', customer_id=CUSTOMER, databases=5, storage_gb=50,
                                 state_dir=state_dir))
        registered.append('quota')
        schedule = dict(backend='host', db_type='postgresql', state_dir=state_dir, schedule_driver='cron',
                        cron_dir=os.path.join(state_dir, 'cron.d'), login_unix_socket=common['login_unix_socket'],
                        login_port=common['login_port'])
        tasks.append(module_task('wayscloud_database_collector', 'collector', **schedule))
        cleanup.append(module_task('wayscloud_database_collector', 'collector_stopped', state='absent', **schedule))
        registered += ['collector', 'collector_stopped']
    dump = '{{ {%s} | to_json }}' % ', '.join("'%s': %s | default(None)" % (key, key) for key in registered)
    return [dict(
        name='Every module on one database', hosts='localhost', gather_facts=False,
        module_defaults={'group/wayscloud.databases.all': dict(
            api_url=os.environ['WAYSCLOUD_API_URL'], api_key=os.environ['WAYSCLOUD_TEST_KEY_INTERNAL'])},
        tasks=[dict(block=tasks, always=cleanup + [
            {'ansible.builtin.copy': dict(content=dump, dest=out, mode='0600'),
             'no_log': True},
        ])])]


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    """{backend: {registered name: result}}."""
    answers = {}
    for backend in ('api', 'host'):
        folder = tmp_path_factory.mktemp('returns-' + backend)
        out = str(folder / 'results.json')
        path = folder / 'play.yml'
        path.write_text(yaml.safe_dump(play(backend, str(folder / 'state'), out), sort_keys=False))
        python = sys.executable
        if backend == 'api':  # a Python with nothing installed: the api backend needs nothing beyond ansible-core
            subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(folder / 'bare')], check=True)
            python = str(folder / 'bare' / 'bin' / 'python')
        done = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(path)],
                              env=dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=python, ANSIBLE_NOCOLOR='1',
                                       ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0'),
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1500:]
        with open(out) as handle:
            answers[backend] = json.load(handle)
    return answers


MODULE_OF = dict(database='wayscloud_database', deleted='wayscloud_database', firewall='wayscloud_database_firewall',
                 snapshot='wayscloud_database_snapshot', credentials='wayscloud_database_credentials',
                 backup_policy='wayscloud_database_backup_policy', listed=STRICT, one=STRICT,
                 quota='wayscloud_database_quota', collector='wayscloud_database_collector',
                 collector_stopped='wayscloud_database_collector')


def undocumented(module, result):
    """The keys of a result its module's RETURN does not name. Below a documented key without ``contains``
    nothing is checked, except for the info module, which must document every key it returns."""
    documented = documented_paths(ansible_doc()[module]['return'])
    missing = []
    for path, value in returned_paths(result).items():
        if path.split('.', 1)[0].split('[', 1)[0] in COMMON_RESULT_KEYS:
            continue
        parent = path.rsplit('.', 1)[0] if '.' in path else None
        if path in documented or (parent is not None and module != STRICT and parent in documented
                                  and not documented[parent].get('contains')):
            continue
        if parent is not None and parent not in documented and module != STRICT:
            continue  # its parent is reported already
        missing.append(path)
    return missing


@pytest.mark.parametrize('backend', ['api', 'host'])
def test_every_returned_key_is_documented(results, backend):
    missing = dict((registered, undocumented(MODULE_OF[registered], result))
                   for registered, result in results[backend].items() if result)
    assert not any(missing.values()), 'returned but not in RETURN (%s backend): %s' % (
        backend, dict((key, value) for key, value in missing.items() if value))


def test_every_key_the_info_module_documents_is_returned_and_has_a_sample(results):
    documented = documented_paths(ansible_doc()[STRICT]['return'])
    returned = set()
    for backend in results:
        for registered in ('listed', 'one'):
            returned.update(returned_paths(results[backend][registered]))
    assert sorted(set(documented) - returned) == []
    assert [path for path, entry in documented.items() if 'sample' not in entry and not entry.get('contains')] == []
    of_dicts = [path for path, entry in documented.items() if 'dict' in (entry.get('type'), entry.get('elements'))]
    assert [path for path in of_dicts if not documented[path].get('contains')] == []
