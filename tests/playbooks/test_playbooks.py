# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks, run as users run them: ansible-playbook on the test servers, ansible-runner as AWX
does (with the documented credential type's injectors), and ansible-builder's context for the EE."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.wayscloud.databases.plugins.module_utils.resources import CREDENTIALS_FIELDS
from ansible_collections.wayscloud.databases.tests.environment import setting

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
CUSTOMER = 'pbtest'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    work = tmp_path_factory.mktemp('playbooks')
    variables = dict(
        wayscloud_customer_id=CUSTOMER,
        wayscloud_state_dir=str(work / 'state'),
        wayscloud_credentials_dir=str(work / 'credentials'),
        wayscloud_firewall_driver='none',
        wayscloud_vault=dict(url=setting('WAYSCLOUD_VAULT_ADDR'), token=setting('WAYSCLOUD_VAULT_TOKEN')),
        wayscloud_host_login=dict(
            postgresql=dict(login_unix_socket=setting('WAYSCLOUD_PG_SOCKET_DIR'), login_port=int(setting('WAYSCLOUD_PG_PORT')),
                            public_host='127.0.0.1'),
            mariadb=dict(login_unix_socket=setting('WAYSCLOUD_MDB_SOCKET'), login_port=int(setting('WAYSCLOUD_MDB_PORT')),
                         public_host='127.0.0.1')),
        wayscloud_databases=[
            dict(db_type='postgresql', requested_name='orders', connection_limit=30, description='Orders',
                 firewall=[dict(ip_address='192.0.2.20')]),
            dict(db_type='mariadb', requested_name='wiki', connection_limit=12,
                 backup_policy=dict(enabled=True, frequency='daily', time_of_day='01:00', retention_days=3)),
        ],
    )
    path = work / 'vars.yml'
    path.write_text(yaml.safe_dump(variables))
    return work, path, variables


def playbook(name, varsfile, *extra, **kwargs):
    """Run playbooks/``name`` with the variables file; ``extra``: dicts of extra variables, or flags."""
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
            os.path.join(ROOT, 'playbooks', name), '-e', '@%s' % varsfile]
    for item in extra:
        argv += [item] if isinstance(item, str) else ['-e', json.dumps(item)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if kwargs.get('check', True):
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done


def recap(output):
    return dict((key, int(value)) for key, value in re.findall(r'(ok|changed|failed)=(\d+)', output.split('PLAY RECAP')[-1]))


def credentials_file(work, db_name):
    with open(os.path.join(str(work), 'credentials', db_name + '.json')) as handle:
        return json.load(handle)


def password_of(work, db_name):
    return credentials_file(work, db_name)['password']


# The collection's one credentials shape (docs/credentials.md): resources.py's credentials result and the password.
SHAPE = sorted(CREDENTIALS_FIELDS + ('password',))


def looked_up(work, db_name):
    """What the credentials lookup returns for the database, through a 0600 file (never the output)."""
    path = os.path.join(str(work), 'lookup-%s.json' % db_name)
    done = subprocess.run(
        [os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
         '-m', 'ansible.builtin.copy', '-a', json.dumps(dict(
             content="{{ lookup('wayscloud.databases.credentials', '%s') | to_json }}" % db_name, dest=path, mode='0600'))],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, VAULT_ADDR=setting('WAYSCLOUD_VAULT_ADDR'), VAULT_TOKEN=setting('WAYSCLOUD_VAULT_TOKEN')))
    assert done.returncode == 0, done.stdout[-2000:]
    with open(path) as handle:
        return json.load(handle)


def same_credentials(work, db_name):
    """The credentials file and the lookup hold the one shape and agree (created_at: each its own clock)."""
    stored, found = credentials_file(work, db_name), looked_up(work, db_name)
    assert sorted(stored) == SHAPE and sorted(found) == SHAPE, (sorted(stored), sorted(found))
    differ = sorted(field for field in SHAPE if field != 'created_at' and stored[field] != found[field])
    assert differ == [], '%s: the file and the lookup differ in %s' % (db_name, differ)  # names, never values
    assert stored['database'] == stored['username'] == db_name and stored['created_at'] and found['created_at']


def connect(db_type, db_name, password, user=None):
    user = user or db_name
    if db_type == 'postgresql':
        import psycopg2
        return psycopg2.connect(host='127.0.0.1', port=int(os.environ['WAYSCLOUD_PG_PORT']), user=user,
                                password=password, dbname=db_name, connect_timeout=5)
    import pymysql
    return pymysql.connect(host='127.0.0.1', port=int(os.environ['WAYSCLOUD_MDB_PORT']), user=user, password=password,
                           database=db_name, connect_timeout=5)


NAMES = {'postgresql': 'cust_%s_pg_orders' % CUSTOMER, 'mariadb': 'cust_%s_mdb_wiki' % CUSTOMER}


def test_provision_rotate_restore_decommission(setup):
    work, varsfile, variables = setup
    decommission = [dict(db_type=db_type, name=name) for db_type, name in sorted(NAMES.items())]
    confirm = ','.join(item['name'] for item in decommission)
    playbook('decommission.yml', varsfile, dict(wayscloud_decommission=decommission,
                                                wayscloud_decommission_confirm=confirm))
    first = playbook('provision.yml', varsfile)
    assert recap(first.stdout)['failed'] == 0
    second = playbook('provision.yml', varsfile)
    assert recap(second.stdout)['changed'] == 0
    for db_type, name in NAMES.items():
        password = password_of(work, name)
        leaked = password in first.stdout + second.stdout
        assert not leaked, '%s: its password is in the output' % name  # never an assert on the value: pytest would print it
        connect(db_type, name, password).close()
        same_credentials(work, name)

    rotated = playbook('rotate.yml', varsfile, dict(wayscloud_rotate=decommission))
    for db_type, name in NAMES.items():
        password = password_of(work, name)
        leaked = password in rotated.stdout
        assert not leaked, '%s: its new password is in the output' % name
        connect(db_type, name, password).close()
        same_credentials(work, name)

    snapshot = subprocess.run(
        [os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
         '-m', 'wayscloud.databases.wayscloud_database_snapshot', '-a', json.dumps(dict(
             backend='host', db_type='postgresql', name=NAMES['postgresql'], label='pb', firewall_driver='none',
             state_dir=variables['wayscloud_state_dir'],
             login_unix_socket=os.environ['WAYSCLOUD_PG_SOCKET_DIR'], login_port=int(os.environ['WAYSCLOUD_PG_PORT'])))],
        capture_output=True, text=True, check=False)
    assert snapshot.returncode == 0, snapshot.stdout + snapshot.stderr
    restore = dict(db_type='postgresql', name=NAMES['postgresql'], label='pb')
    refused = playbook('restore.yml', varsfile, dict(wayscloud_restore=restore), check=False)
    assert refused.returncode != 0 and 'wayscloud_restore_confirm' in refused.stdout
    playbook('restore.yml', varsfile, dict(wayscloud_restore=restore, wayscloud_restore_confirm=NAMES['postgresql']))
    copy = playbook('restore.yml', varsfile, dict(wayscloud_restore=dict(restore, target_db_name='orders_copy')))
    assert 'cust_%s_pg_orders_copy holds snapshot' % CUSTOMER in copy.stdout
    connect('postgresql', 'cust_%s_pg_orders_copy' % CUSTOMER, password_of(work, NAMES['postgresql']),
            user=NAMES['postgresql']).close()

    refused = playbook('decommission.yml', varsfile, dict(wayscloud_decommission=decommission), check=False)
    assert refused.returncode != 0 and 'wayscloud_decommission_confirm' in refused.stdout
    copies = [dict(db_type='postgresql', name='cust_%s_pg_orders_copy' % CUSTOMER)]
    playbook('decommission.yml', varsfile, dict(wayscloud_decommission=copies,
                                                wayscloud_decommission_confirm=copies[0]['name']))
    gone = playbook('decommission.yml', varsfile, dict(wayscloud_decommission=decommission,
                                                       wayscloud_decommission_confirm=confirm))
    assert 'final snapshot snap_' in gone.stdout
    with pytest.raises(Exception):
        connect('postgresql', NAMES['postgresql'], password_of(work, NAMES['postgresql']))


def test_provision_in_check_mode_for_a_new_customer(setup, tmp_path):
    """--check --diff on a customer with nothing yet: every task predicts its change (the firewall and policy
    tasks on databases an earlier task would create, with a warning saying so) and nothing is made."""
    work, varsfile, variables = setup
    customer = 'pbcheck'
    checked = playbook('provision.yml', varsfile, dict(wayscloud_customer_id=customer,
                                                       wayscloud_credentials_dir=str(tmp_path / 'credentials')),
                       '--check', '--diff')
    out = checked.stdout + checked.stderr
    counted = recap(checked.stdout)
    assert (counted['changed'], counted['failed']) == (3, 0), checked.stdout[-3000:]  # databases, rules, policies
    for db_type, name in (('postgresql', 'cust_%s_pg_orders' % customer), ('mariadb', 'cust_%s_mdb_wiki' % customer)):
        assert '%s database %s does not exist yet' % (db_type, name) in out
    assert '+            "192.0.2.20/32"' in out  # the firewall's diff: the rule it would add
    assert '-    "enabled": false,\n+    "enabled": true,' in out  # the policy's diff
    listed = subprocess.run(
        [os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-o', '-e', 'ansible_python_interpreter=%s' % sys.executable,
         '-m', 'wayscloud.databases.wayscloud_database_info', '-a', json.dumps(dict(
             backend='host', customer_id=customer, state_dir=variables['wayscloud_state_dir'],
             logins=variables['wayscloud_host_login']))],
        capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert json.loads(listed.stdout.split('=>', 1)[1])['databases'] == []
    assert not (tmp_path / 'credentials').exists()


def database_exists(db_type, db_name):
    """Whether the server has the database, asked as its administrator."""
    if db_type == 'postgresql':
        import psycopg2
        connection = psycopg2.connect(host=setting('WAYSCLOUD_PG_SOCKET_DIR'), port=int(setting('WAYSCLOUD_PG_PORT')),
                                      user='postgres', dbname='postgres')
        query = 'SELECT 1 FROM pg_database WHERE datname = %s'
    else:
        import pymysql
        connection = pymysql.connect(unix_socket=setting('WAYSCLOUD_MDB_SOCKET'), user='root')
        query = 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s'
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, (db_name,))
            return bool(cursor.fetchall())
    finally:
        connection.close()


GOOD = dict(db_type='postgresql', requested_name='valid', connection_limit=20, firewall=[dict(ip_address='192.0.2.30')])


@pytest.mark.parametrize('bad, message', [
    (dict(db_type='mariadb', requested_name='typo', conection_limit=40), 'database_list.conection_limit. Supported parameters'),
    (dict(db_type='mariadb', requested_name='typo', firewall=[dict(ip_address='192.0.2.31', descrption='app')]),
     'database_list.firewall.descrption. Supported parameters'),
    (dict(db_type='mariadb', requested_name='typo', firewall='192.0.2.31'), "option 'firewall' found in 'database_list'"),
    (dict(db_type='mariadb', requested_name='typo', connection_limit='forty'),
     "argument 'connection_limit' is of type"),
    (dict(db_type='mariadb', requested_name='typo', backup_policy=dict(frequency='monthly')),
     "frequency must be one of: hourly, daily, weekly, got: monthly found in database_list -> backup_policy"),
], ids=['misspelled key', 'misspelled key of a rule', 'rules not a list', 'wrong type', 'wrong choice'])
def test_a_bad_item_fails_before_any_database_exists(setup, bad, message):
    """The role's argument specs check every item before its first task: not even the valid item before the bad
    one is created, and the message names the role variable and the key."""
    work, varsfile, variables = setup
    names = [('postgresql', 'cust_%s_pg_valid' % CUSTOMER), ('mariadb', 'cust_%s_mdb_typo' % CUSTOMER)]
    assert not any(database_exists(*name) for name in names)
    done = playbook('provision.yml', varsfile, dict(wayscloud_databases=[GOOD, bad]), check=False)
    assert done.returncode != 0
    failed = done.stdout.split('fatal: [localhost]')[0].rsplit('TASK [', 1)[-1]
    assert failed.startswith("wayscloud.databases.database : Validating arguments against arg spec 'main'"), failed
    assert message in done.stdout, done.stdout[-3000:]
    assert not any(database_exists(*name) for name in names)


def test_provision_through_ansible_runner_leaks_no_secret(setup, tmp_path):
    """As AWX runs it: the credential type's injectors put the API's address and key in the environment."""
    work, varsfile, variables = setup
    with open(os.path.join(ROOT, 'docs', 'awx', 'credential-type-injectors.yml')) as handle:
        injectors = yaml.safe_load(handle)['env']
    inputs = dict(api_url=setting('WAYSCLOUD_API_URL'), api_key=setting('WAYSCLOUD_TEST_KEY_CUSTOMER'))
    envvars = dict((name, template.replace('{{ api_url }}', inputs['api_url']).replace('{{ api_key }}', inputs['api_key']))
                   for name, template in injectors.items())
    private = tmp_path / 'runner'
    (private / 'env').mkdir(parents=True)
    (private / 'project').mkdir()
    shutil.copytree(os.path.join(ROOT, 'playbooks'), str(private / 'project' / 'playbooks'))
    credentials = tmp_path / 'credentials'
    extravars = dict(wayscloud_backend='api', wayscloud_customer_id='itest1', wayscloud_credentials_dir=str(credentials),
                     wayscloud_databases=[dict(db_type='postgresql', requested_name='runner_pg'),
                                          dict(db_type='mariadb', requested_name='runner_mdb')],
                     ansible_python_interpreter=sys.executable, ansible_connection='local')
    for name, values in (('envvars', dict(envvars, ANSIBLE_COLLECTIONS_PATH=os.environ['ANSIBLE_COLLECTIONS_PATH'])),
                         ('extravars', extravars)):
        with open(os.open(str(private / 'env' / name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as handle:
            handle.write(yaml.safe_dump(values))  # the injector's environment holds the API key
    (private / 'inventory').mkdir()
    (private / 'inventory' / 'hosts').write_text('localhost\n')
    done = subprocess.run([os.path.join(BIN, 'ansible-runner'), 'run', str(private), '-p', 'playbooks/provision.yml',
                           '--ident', 'provision', '--json'],
                          capture_output=True, text=True, check=False, env=dict(os.environ, PATH=BIN + ':' + os.environ['PATH']))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    events = glob.glob(str(private / 'artifacts' / 'provision' / 'job_events' / '*.json'))
    assert len(events) > 20
    passwords = []
    for path in glob.glob(str(credentials / '*.json')):
        with open(path) as handle:
            passwords.append(json.load(handle)['password'])
    assert len(passwords) == 2
    everything = done.stdout + ''.join(open(path).read() for path in events)
    everything += open(str(private / 'artifacts' / 'provision' / 'stdout')).read()
    leaks = ['password %d' % number for number, secret in enumerate(passwords) if secret in everything]
    leaks += ['the API key'] if inputs['api_key'] in everything else []
    assert leaks == []
    for db_type, tag in (('postgresql', 'pg'), ('mariadb', 'mdb')):
        # The key goes in the environment (the module's fallback), never on the command line.
        removed = subprocess.run([os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-e',
                                  'ansible_python_interpreter=%s' % sys.executable, '-m', 'wayscloud.databases.wayscloud_database',
                                  '-a', json.dumps(dict(db_type=db_type, name='cust_itest1_%s_runner_%s' % (tag, tag), state='absent',
                                                        api_url=inputs['api_url']))],
                                 capture_output=True, text=True, check=False, env=dict(os.environ, WAYSCLOUD_API_KEY=inputs['api_key']))
        assert removed.returncode == 0, removed.stdout[-2000:]


def test_ansible_builder_makes_a_build_context_offline(tmp_path):
    folder = tmp_path / 'ee'
    shutil.copytree(os.path.join(ROOT, 'execution-environment'), str(folder))
    build = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(folder), ROOT],
                           capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr
    context = tmp_path / 'context'
    done = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', str(folder / 'execution-environment.yml'),
                           '-c', str(context), '--output-filename', 'Containerfile'],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    containerfile = (context / 'Containerfile').read_text()
    assert 'ansible-galaxy' in containerfile and 'assemble' in containerfile
    assert glob.glob(str(context / '_build' / 'collections' / 'wayscloud-databases-*.tar.gz'))
    assert (context / '_build' / 'requirements.yml').exists()
    # The collection's own metadata names its Python and system dependencies for the build's introspection.
    with open(os.path.join(ROOT, 'meta', 'execution-environment.yml')) as handle:
        meta = yaml.safe_load(handle)
    assert meta['dependencies'] == {'python': 'requirements.txt', 'system': 'bindep.txt'}
    for name in ('requirements.txt', 'bindep.txt'):
        assert os.path.exists(os.path.join(ROOT, name))
