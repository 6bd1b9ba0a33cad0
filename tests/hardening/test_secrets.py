# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets never leak. tests/hardening/playbooks/secrets.yml walks every path that handles a password
(creation, credentials, rotation, Vault, the credentials lookup, snapshots and restores that dump
over TCP with an administrator's password, firewall, info, the database and backup roles) on both
backends and both engines, at -vvvv through ansible-playbook and through ansible-runner, while a
thread samples every process's argv; ``make demo`` runs at ANSIBLE_VERBOSITY=4 on the same servers.
Then everything captured is searched for every secret: passwords generated or rotated, the
administrators' passwords, the API keys and the Vault token.

The one file allowed to hold a secret is ``<state_dir>/runner/login-<db_type>.json`` (0600): the
backup runner logs in with it, by design (docs/reliability.md). It is excluded, and counted apart.

tests/hardening/playbooks/vault_home.yml creates and rotates with the passwords left to Vault
(``return_password: false``) and no task under no_log; its output must hold none of the passwords Vault has.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import threading
import time

import pytest
import yaml

from conftest import KEYS, files_under, host_options, run_module

from ansible_collections.wayscloud.databases.plugins.module_utils.naming import db_type_of

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
ADMIN = 'wc_secrets_admin'


def clean_env(**extra):
    """The environment of the runs, without the servers' secrets: they reach the play through its
    0600 variables file only, so whatever shows one was printed by the collection."""
    env = dict((name, value) for name, value in os.environ.items()
               if not name.startswith(('WAYSCLOUD_', 'VAULT_')) and 'TOKEN' not in name)
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', PATH=BIN + ':' + os.environ.get('PATH', ''))
    env.update(extra)
    return env


class ProcessSampler(threading.Thread):
    """Reads every process's argv (/proc/*/cmdline) every 50 ms; keeps each distinct one."""

    def __init__(self):
        super(ProcessSampler, self).__init__(daemon=True)
        self.seen = set()
        self.samples = 0
        self.dumps = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            dumping = False
            for path in glob.glob('/proc/[0-9]*/cmdline'):
                try:
                    with open(path, 'rb') as handle:
                        argv = handle.read()
                except OSError:
                    continue
                if argv:
                    self.seen.add(argv)
                    dumping = dumping or any(tool in argv for tool in (b'pg_dump', b'pg_restore', b'mariadb-dump', b'mariadb\x00'))
            self.samples += 1
            self.dumps += dumping
            self.done.wait(0.05)


def sql(servers, db_type, text):
    """Administration through the local socket, the statement on stdin (never in argv)."""
    if db_type == 'postgresql':
        argv = ['psql', '-h', servers['WAYSCLOUD_PG_SOCKET_DIR'], '-p', servers['WAYSCLOUD_PG_PORT'], '-U', 'postgres',
                '-d', 'postgres', '-AtXq', '-v', 'ON_ERROR_STOP=1']
    else:
        argv = ['mariadb', '--socket', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-N', '-B']
    subprocess.run(argv, input=text, capture_output=True, text=True, check=True)


@pytest.fixture(scope='module')
def admins(servers):
    """A throwaway administrator per engine with a random password, so that dumps and restores over
    TCP need it (the usual socket login needs none)."""
    passwords = dict(postgresql=secrets.token_urlsafe(24), mariadb=secrets.token_urlsafe(24))
    sql(servers, 'postgresql', "DROP ROLE IF EXISTS %s; CREATE ROLE %s SUPERUSER LOGIN PASSWORD '%s';"
        % (ADMIN, ADMIN, passwords['postgresql']))
    sql(servers, 'mariadb', "DROP USER IF EXISTS '%s'@'127.0.0.1'; CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'; "
        "GRANT ALL PRIVILEGES ON *.* TO '%s'@'127.0.0.1' WITH GRANT OPTION;"
        % (ADMIN, ADMIN, passwords['mariadb'], ADMIN))
    yield passwords
    sql(servers, 'postgresql', 'DROP ROLE IF EXISTS %s;' % ADMIN)
    sql(servers, 'mariadb', "DROP USER IF EXISTS '%s'@'127.0.0.1';" % ADMIN)


def play_variables(work, servers, admins, customer):
    login = dict((db_type, dict(login_host='127.0.0.1', login_port=int(servers[port]), login_user=ADMIN,
                                login_password=admins[db_type]))
                 for db_type, port in (('postgresql', 'WAYSCLOUD_PG_PORT'), ('mariadb', 'WAYSCLOUD_MDB_PORT')))
    return dict(
        secrets_customer=customer, secrets_state_dir=os.path.join(work, 'state'), secrets_cron_dir=os.path.join(work, 'cron.d'),
        secrets_credentials_dir=os.path.join(work, 'credentials'), secrets_out=os.path.join(work, 'passwords.json'),
        secrets_login=login, secrets_api_url=servers['WAYSCLOUD_API_URL'],
        secrets_api_keys=dict(internal=servers['WAYSCLOUD_TEST_KEY_INTERNAL'], customer=servers['WAYSCLOUD_TEST_KEY_CUSTOMER']),
        secrets_vault=dict(url=servers['WAYSCLOUD_VAULT_ADDR'], token=servers['WAYSCLOUD_VAULT_TOKEN']),
        secrets_mdb_socket=servers['WAYSCLOUD_MDB_SOCKET'])


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)


def failure(done):
    """The failed tasks of a run, for the assertion's message."""
    return '\n'.join(line for line in done.stdout.splitlines() if line.startswith(('fatal', 'failed', 'TASK', '    "msg'))
                     or '"msg"' in line)[-6000:]


def run_ansible_playbook(work, variables):
    varsfile = os.path.join(work, 'vars.yml')
    write_private(varsfile, yaml.safe_dump(variables))
    done = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-vvvv', '-i', 'localhost,', '-c', 'local',
                           os.path.join(HERE, 'playbooks', 'secrets.yml'), '-e', '@' + varsfile],
                          capture_output=True, text=True, check=False, env=clean_env(), timeout=600)
    assert done.returncode == 0, failure(done) + done.stderr[-2000:]
    return done


def run_ansible_runner(work, variables):
    """As AWX runs it: a private data dir, the variables in env/extravars, -vvvv in env/cmdline."""
    private = os.path.join(work, 'runner')
    os.makedirs(os.path.join(private, 'env'))
    os.makedirs(os.path.join(private, 'inventory'))
    shutil.copytree(os.path.join(HERE, 'playbooks'), os.path.join(private, 'project'))
    write_private(os.path.join(private, 'env', 'extravars'), yaml.safe_dump(dict(
        variables, ansible_python_interpreter=sys.executable, ansible_connection='local')))
    write_private(os.path.join(private, 'env', 'cmdline'), '-vvvv')
    write_private(os.path.join(private, 'env', 'envvars'), yaml.safe_dump(dict(
        ANSIBLE_COLLECTIONS_PATH=os.environ['ANSIBLE_COLLECTIONS_PATH'], ANSIBLE_NOCOLOR='1')))
    write_private(os.path.join(private, 'inventory', 'hosts'), 'localhost\n')
    done = subprocess.run([os.path.join(BIN, 'ansible-runner'), 'run', private, '-p', 'secrets.yml', '--ident', 'secrets',
                           '--json'], capture_output=True, text=True, check=False, env=clean_env(), timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done, os.path.join(private, 'artifacts')


def run_demo(work, servers):
    """``make demo`` on a copy of the collection (its .demo stays out of the tree), reusing the servers."""
    tree = os.path.join(work, 'demo-tree')
    shutil.copytree(COLLECTION, tree, symlinks=True, ignore=shutil.ignore_patterns(
        '.venv*', '.work', '.demo', '.git', '.ansible', 'tests', '__pycache__', '*.tar.gz'))
    os.makedirs(os.path.join(tree, 'tests'))
    shutil.copy(os.path.join(COLLECTION, 'tests', 'requirements-dev.txt'), os.path.join(tree, 'tests'))
    os.symlink(os.path.dirname(BIN), os.path.join(tree, '.venv'))
    env = clean_env(ANSIBLE_VERBOSITY='4', **dict((name, servers[name]) for name in (
        'WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT', 'WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT')))
    done = subprocess.run(['bash', os.path.join(tree, 'scripts', 'demo.sh')], capture_output=True, text=True,
                          check=False, env=env, timeout=600)
    demo = os.path.join(tree, '.demo')
    try:
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    finally:
        for path in glob.glob(os.path.join(demo, 'credentials', '*.json')):
            with open(path) as handle:
                db = json.load(handle)
            run_module('wayscloud_database', dict(host_options(servers, db_type_of(db['database']), os.path.join(demo, 'state')),
                                                  name=db['database'], state='absent'))
    return done, demo


def passwords_of(folder):
    found = []
    for path in glob.glob(os.path.join(folder, '*.json')):
        with open(path) as handle:
            found.append(json.load(handle)['password'])
    return found


def test_no_secret_leaks(servers, admins, tmp_path, figures):
    started = time.time()
    api_dir = os.path.dirname(servers['WAYSCLOUD_API_STATE_DIR'])
    works = dict((name, str(tmp_path / name)) for name in ('playbook', 'runner', 'demo'))
    for folder in works.values():
        os.makedirs(folder)
    sampler = ProcessSampler()
    sampler.start()
    try:
        pb_vars = play_variables(works['playbook'], servers, admins, 'secpb')
        played = run_ansible_playbook(works['playbook'], pb_vars)
        rn_vars = play_variables(works['runner'], servers, admins, 'secrn')
        ran, artifacts = run_ansible_runner(works['runner'], rn_vars)
        demo_run = demo = None
        if os.path.exists(os.path.join(COLLECTION, 'scripts', 'demo.sh')):
            demo_run, demo = run_demo(works['demo'], servers)
    finally:
        sampler.done.set()
        sampler.join()

    # Every secret: what the plays obtained, what the database role and the demo wrote to their
    # credentials folders (the legitimate place), the administrators', the API keys, the Vault token.
    passwords = []
    for variables in (pb_vars, rn_vars):
        with open(variables['secrets_out']) as handle:
            passwords += json.load(handle)
        assert stat.S_IMODE(os.stat(variables['secrets_out']).st_mode) == 0o600
        passwords += passwords_of(variables['secrets_credentials_dir'])
    demo_passwords = passwords_of(os.path.join(demo, 'credentials')) if demo else []
    # Per run: create and rotate on 2 engines x 2 backends, and the role's 2 databases (counts only: no secret in a message).
    counts = (len(passwords), len(set(passwords)))
    assert counts == (20, 20)
    secret_values = dict(('password %d' % number, value) for number, value in enumerate(passwords + demo_passwords))
    secret_values.update(('admin password %s' % db_type, value) for db_type, value in admins.items())
    secret_values.update((name, os.environ[name]) for name in KEYS if os.environ.get(name))
    secret_values['Vault token'] = servers['WAYSCLOUD_VAULT_TOKEN']
    assert not [name for name, value in secret_values.items() if len(value) < 16]

    # Everything captured. The runner's logins are the one documented exception: 0600, and they do hold the password.
    runner_logins = [os.path.join(variables['secrets_state_dir'], 'runner', 'login-%s.json' % db_type)
                     for variables in (pb_vars, rn_vars) for db_type in ('postgresql', 'mariadb')]
    for path in runner_logins:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as handle:
            holds_admin = json.load(handle)['password'] in admins.values()
        assert holds_admin, path  # no assertion names a secret's value: pytest prints both sides
    texts = {'ansible-playbook stdout': played.stdout, 'ansible-playbook stderr': played.stderr,
             'ansible-runner stdout': ran.stdout, 'ansible-runner stderr': ran.stderr}
    if demo_run:
        texts.update({'demo stdout': demo_run.stdout, 'demo stderr': demo_run.stderr})
    searched = [works['playbook'] + '/state', works['runner'] + '/state', works['playbook'] + '/cron.d',
                works['runner'] + '/cron.d', artifacts, servers['WAYSCLOUD_API_STATE_DIR']]
    if demo:
        searched.append(os.path.join(demo, 'state'))
    paths = [path for path in files_under(*searched) if path not in runner_logins]
    paths += [os.path.join(api_dir, name) for name in ('api.log', 'faults.log') if os.path.exists(os.path.join(api_dir, name))]
    for path in paths:
        with open(path, 'rb') as handle:
            texts[path] = handle.read().decode('utf-8', 'replace')
    for number, argv in enumerate(sorted(sampler.seen)):
        texts['argv %d' % number] = argv.replace(b'\x00', b' ').decode('utf-8', 'replace')
    leaks = sorted('%s in %s' % (name, where) for where, text in texts.items()
                   for name, value in secret_values.items() if value in text)
    # The same search finds the passwords where they belong: the search itself works.
    kept = ''.join(open(path).read() for path in files_under(pb_vars['secrets_credentials_dir'], rn_vars['secrets_credentials_dir']))
    kept += ''.join(open(variables['secrets_out']).read() for variables in (pb_vars, rn_vars))
    assert [number for number, value in enumerate(passwords) if value not in kept] == []

    # Every run really printed at -vvvv (connection and module transfer details).
    for name in ('ansible-playbook stdout', 'ansible-runner stdout', 'demo stdout'):
        assert name not in texts or 'ESTABLISH LOCAL CONNECTION' in texts[name], name
    events = glob.glob(os.path.join(artifacts, '*', 'job_events', '*.json'))
    # The dumps and restores really ran under the sampler, with the administrator's login over TCP.
    assert sampler.dumps > 0
    assert any(b'pg_dump' in argv and b'127.0.0.1' in argv for argv in sampler.seen)
    assert any(b'mariadb-dump' in argv and b'127.0.0.1' in argv for argv in sampler.seen)  # the Aria table's dump
    assert len(events) > 100
    figures('secrets', dict(
        occurrences=len(leaks), secrets=len(secret_values), files=len(paths), job_events=len(events),
        ps_samples=sampler.samples, ps_samples_during_dumps=sampler.dumps, distinct_argv=len(sampler.seen),
        excluded=["<state_dir>/runner/login-<db_type>.json (0600, holds the administrator's password by design): %d files"
                  % len(runner_logins)],
        runs=['ansible-playbook -vvvv', 'ansible-runner -vvvv'] + (['make demo ANSIBLE_VERBOSITY=4'] if demo_run else []),
        seconds=int(time.time() - started)))
    assert leaks == []


def vault_secret(servers, db_type, db_name, version=None):
    """The data of a database's secret in the test Vault, at ``version`` (default: the newest)."""
    import hvac
    client = hvac.Client(url=servers['WAYSCLOUD_VAULT_ADDR'], token=servers['WAYSCLOUD_VAULT_TOKEN'])
    answer = client.secrets.kv.v2.read_secret_version(path='wayscloud/databases/%s/%s' % (db_type, db_name),
                                                      version=version, mount_point='secret', raise_on_deleted_version=True)
    return answer['data']['data']


def logs_in(db_type, host, port, db_name, password):
    if db_type == 'postgresql':
        import psycopg2
        psycopg2.connect(host=host, port=port, user=db_name, password=password, dbname=db_name, connect_timeout=5).close()
    else:
        import pymysql
        pymysql.connect(host=host, port=port, user=db_name, password=password, database=db_name, connect_timeout=5).close()
    return True


def test_passwords_left_to_vault_are_never_printed(servers, admins, tmp_path, figures):
    """No task of vault_home.yml is under no_log: --check --diff, then --diff at -vvvv, print every result and
    every diff in full, and none holds a password; Vault holds each (the created and the rotated), and each logs in."""
    customer = 'vaulthome'
    login = play_variables(str(tmp_path), servers, admins, customer)['secrets_login']
    variables = dict(vault_home_customer=customer, vault_home_state_dir=str(tmp_path / 'state'), vault_home_login=login,
                     vault_home_vault=dict(url=servers['WAYSCLOUD_VAULT_ADDR'], token=servers['WAYSCLOUD_VAULT_TOKEN']))
    varsfile = str(tmp_path / 'vars.yml')
    write_private(varsfile, yaml.safe_dump(variables))
    names = [(db_type, 'cust_%s_%s_%s' % (customer, tag, name)) for db_type, tag in (('postgresql', 'pg'), ('mariadb', 'mdb'))
             for name in ('single', 'listed_a', 'listed_b')]
    runs = []
    try:
        for flags in (['--check', '--diff'], ['--diff', '-vvvv']):
            done = subprocess.run([os.path.join(BIN, 'ansible-playbook')] + flags + [
                '-i', 'localhost,', '-c', 'local', os.path.join(HERE, 'playbooks', 'vault_home.yml'), '-e', '@' + varsfile],
                capture_output=True, text=True, check=False, env=clean_env(), timeout=600)
            assert done.returncode == 0, failure(done) + done.stderr[-2000:]
            runs.append(done.stdout + done.stderr)
        assert 'no_log' not in open(os.path.join(HERE, 'playbooks', 'vault_home.yml')).read().split('tasks:', 1)[1]
        assert 'censored' not in runs[1] and 'ESTABLISH LOCAL CONNECTION' in runs[1]
        assert '+    "description": "its password is in Vault only"' in runs[0]  # --diff shows what a creation makes
        passwords = {}
        for db_type, db_name in names:
            secret = vault_secret(servers, db_type, db_name)
            passwords['%s now' % db_name] = secret['password']
            assert logs_in(db_type, '127.0.0.1', secret['port'], db_name, secret['password'])
            if db_name.endswith('_single'):
                passwords['%s created' % db_name] = vault_secret(servers, db_type, db_name, version=1)['password']
        assert len(set(passwords.values())) == 8  # six created, two rotated
        secret_values = dict(passwords, **dict(('admin password %s' % db_type, value) for db_type, value in admins.items()))
        secret_values['Vault token'] = servers['WAYSCLOUD_VAULT_TOKEN']
        leaks = sorted('%s in run %d' % (name, number) for number, text in enumerate(runs)
                       for name, value in secret_values.items() if value in text)
        figures('secrets_vault_home', dict(occurrences=len(leaks), passwords=len(passwords), secrets=len(secret_values),
                                           runs=['ansible-playbook --check --diff', 'ansible-playbook --diff -vvvv'],
                                           tasks_under_no_log=0))
        assert leaks == []
    finally:
        for db_type, db_name in names:
            run_module('wayscloud_database', dict(host_options(servers, db_type, variables['vault_home_state_dir']),
                                                  name=db_name, state='absent', vault_url=servers['WAYSCLOUD_VAULT_ADDR'],
                                                  vault_token=servers['WAYSCLOUD_VAULT_TOKEN']))
