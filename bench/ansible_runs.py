# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole ansible-playbook runs of this collection against what users would otherwise run.

    bench/run.sh [--only provision,api,concurrency,memory,snapshots] [--repeat 3] [--count 20]

(the wrapper starts servers with fsync on and the API server and exports their settings). Each
comparison alternates the sides, ``--repeat`` times, and the table shows medians and ours/theirs.

- provision: ``--count`` PostgreSQL and as many MariaDB databases, each with its user, connection
  limit 50 and one allowed address, through the host backend; against community.postgresql
  (postgresql_user, postgresql_db, postgresql_pg_hba and a reload handler) and community.mysql
  (mysql_db, mysql_user) from the PyPI package ``ansible``; against one psql and one mariadb
  session running the equivalent SQL. Cold (nothing exists) and warm (all exists: changed=0).
- api: one no-op wayscloud_database task on the api backend, against ansible.builtin.uri making the
  GET that answers the same question, and ansible.builtin.ping. Per task: (run of N tasks - run of
  none) / N.
- concurrency: 40 databases created by 8 forks at once (8 inventory hosts, all this machine),
  against the same with 1 fork, on each backend.
- memory: peak RSS of one module run, each backend, beside community modules and uri.
- scale: for each N of ``--sizes``, N PostgreSQL and N MariaDB databases with one allowed address each
  through the lists (four module runs, each timed by bench_timer), then the warm run of all; the per-database
  cold cost shows how the cost grows with the databases of a host. With ``--baseline`` (a collections path
  holding another version of the collection) each N runs both, alternating, beside each other. Then, per engine,
  what one API request costs at that N (the API server has no list form: each request is a batch of one): the
  host engine's work for a rule added or removed, a database created or deleted, the same rule requests to the
  API server over HTTP, and a new PostgreSQL connection.
"""

import argparse
import collections
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from table import row, timed

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'api_server'))

from commands import run  # noqa: E402  (the API server's runner)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases  # noqa: E402
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin  # noqa: E402
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS  # noqa: E402

PY = sys.executable
BIN = os.path.dirname(PY)
ADDRESS = '10.20.0.1'
RECAP = re.compile(r'^\S+\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


class Playbooks:
    """Writes playbooks and inventories into ``work`` and runs them with the collections asked for."""

    def __init__(self, env, work, ours, community):
        self.env, self.work, self.ours, self.community = env, work, ours, community
        self.state_dir = os.path.join(work, 'state')
        self.pg = dict(login_unix_socket=env['WAYSCLOUD_PG_SOCKET_DIR'], login_port=int(env['WAYSCLOUD_PG_PORT']))
        self.mdb = dict(login_unix_socket=env['WAYSCLOUD_MDB_SOCKET'], login_port=int(env['WAYSCLOUD_MDB_PORT']))

    def run(self, name, plays, collections, hosts=1, forks=5, extra_vars=None):
        """Seconds the run took and the recap's (changed, failed); a failed run is an error."""
        inventory = os.path.join(self.work, 'hosts-%d.ini' % hosts)
        with open(inventory, 'w') as handle:
            handle.write('[bench]\n')
            for number in range(1, hosts + 1):
                handle.write('h%d ansible_connection=local ansible_python_interpreter=%s\n' % (number, PY))
        path = os.path.join(self.work, name + '.yml')
        with open(path, 'w') as handle:
            json.dump(plays, handle, indent=1)
        argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', str(forks), path]
        if extra_vars:
            vars_file = os.path.join(self.work, name + '-vars.json')
            with open(os.open(vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as handle:
                json.dump(extra_vars, handle)
            argv += ['-e', '@' + vars_file]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
        start = time.monotonic()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
        counts = [tuple(int(n) for n in found) for found in RECAP.findall(done.stdout)]
        changed, failed = sum(c[0] for c in counts), sum(c[1] + c[2] for c in counts)
        self.failures = [line for line in done.stdout.splitlines() if line.startswith(('fatal:', 'failed:'))]
        if done.returncode != 0 and not failed:
            raise RuntimeError('%s: ansible-playbook exited %d\n%s\n%s' % (name, done.returncode, done.stdout[-3000:], done.stderr[-3000:]))
        return seconds, changed, failed

    @staticmethod
    def play(name, tasks, defaults=None, handlers=None, play_vars=None):
        play = dict(name=name, hosts='all', gather_facts=False, tasks=tasks)
        if defaults:
            play['module_defaults'] = {'group/wayscloud.databases.all': defaults}
        if handlers:
            play['handlers'] = handlers
        if play_vars:
            play['vars'] = play_vars
        return [play]

    def host_defaults(self):
        return dict(backend='host', state_dir=self.state_dir, firewall_driver='none', public_host='127.0.0.1')

    def api_defaults(self):
        return dict(backend='api', api_url=self.env['WAYSCLOUD_API_URL'], api_key=self.env['WAYSCLOUD_TEST_KEY_INTERNAL'])


# ---------------------------------------------------------------------------------------------- provisioning

def ours_provision(books, names, listed=True):
    """With ``listed``, a task per engine and kind takes all databases (``databases``); else a loop item each."""
    tasks = []
    for db_type, tag, login in (('postgresql', 'pg', books.pg), ('mariadb', 'mdb', books.mdb)):
        create = dict(db_type=db_type, customer_id='bench', connection_limit=50, **login)
        allow = dict(db_type=db_type, ip_address=ADDRESS, **login)
        if listed:
            tasks.append({'name': 'Create the %s databases' % db_type, 'no_log': True,
                          'wayscloud.databases.wayscloud_database': dict(create, databases=[{'requested_name': name} for name in names])})
            tasks.append({'name': 'Allow one address to each %s database' % db_type, 'wayscloud.databases.wayscloud_database_firewall':
                          dict(allow, databases=[{'name': 'cust_bench_%s_%s' % (tag, name)} for name in names])})
        else:
            tasks.append({'name': 'Create the %s databases' % db_type, 'no_log': True, 'loop': names,
                          'wayscloud.databases.wayscloud_database': dict(create, requested_name='{{ item }}')})
            tasks.append({'name': 'Allow one address to each %s database' % db_type, 'loop': names,
                          'wayscloud.databases.wayscloud_database_firewall': dict(allow, name='cust_bench_%s_{{ item }}' % tag)})
    return books.play('Provision with wayscloud.databases', tasks, defaults=books.host_defaults())


def role_provision(books, names):
    """The same through the collection's database role (what make demo and playbooks/provision.yml run)."""
    items = [dict(db_type=db_type, requested_name=name, connection_limit=50, firewall=[{'ip_address': ADDRESS}])
             for db_type in ('postgresql', 'mariadb') for name in names]
    task = {'name': 'Provision', 'ansible.builtin.include_role': {'name': 'wayscloud.databases.database'},
            'vars': dict(database_list=items, database_customer_id='bench', database_backend='host', database_state_dir=books.state_dir,
                         database_firewall_driver='none', database_login=dict(postgresql=dict(books.pg, public_host='127.0.0.1'),
                                                                              mariadb=dict(books.mdb, public_host='127.0.0.1')))}
    return books.play('Provision with the database role', [task])


def community_provision(books, names, hba_file):
    pg = dict(login_unix_socket=books.pg['login_unix_socket'], port=books.pg['login_port'], login_user='postgres')
    mdb = dict(login_unix_socket=books.mdb['login_unix_socket'], login_user='root')
    pg_name, mdb_name = 'cust_bench_pg_{{ item }}', 'cust_bench_mdb_{{ item }}'
    tasks = [
        {'name': 'PostgreSQL users', 'loop': names, 'no_log': True,
         'community.postgresql.postgresql_user': dict(name=pg_name, password='{{ bench_password }}', conn_limit=50, **pg)},
        {'name': 'PostgreSQL databases', 'loop': names,
         'community.postgresql.postgresql_db': dict(name=pg_name, owner=pg_name, conn_limit='50', **pg)},
        {'name': 'PostgreSQL client authentication', 'loop': names, 'notify': 'Reload PostgreSQL',
         'community.postgresql.postgresql_pg_hba': dict(dest=hba_file, contype='host', databases=pg_name, users=pg_name,
                                                        source=ADDRESS + '/32', method='scram-sha-256')},
        {'name': 'MariaDB databases', 'loop': names, 'community.mysql.mysql_db': dict(name=mdb_name, **mdb)},
        {'name': 'MariaDB users', 'loop': names, 'no_log': True,
         'community.mysql.mysql_user': dict(name=mdb_name, host=ADDRESS, password='{{ bench_password }}',
                                            priv=mdb_name + '.*:ALL', resource_limits={'MAX_USER_CONNECTIONS': 50}, **mdb)},
    ]
    handlers = [{'name': 'Reload PostgreSQL', 'community.postgresql.postgresql_query': dict(query='SELECT pg_reload_conf()', **pg)}]
    return books.play('Provision with community.postgresql and community.mysql', tasks, handlers=handlers)


class Servers:
    """The administrator's view of both servers: reset between cold runs, check the end state, the SQL floor."""

    def __init__(self, env):
        self.psql = ['psql', '-h', env['WAYSCLOUD_PG_SOCKET_DIR'], '-p', env['WAYSCLOUD_PG_PORT'], '-U', 'postgres', '-d', 'postgres',
                     '-v', 'ON_ERROR_STOP=1', '-AtqX']
        self.mariadb = ['mariadb', '--socket=%s' % env['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-N', '-B']
        self.hba_file = self.pg_sql('SHOW hba_file').strip()
        with open(self.hba_file) as handle:
            self.hba_original = handle.read()

    def pg_sql(self, script):
        return subprocess.run(self.psql, input=script, capture_output=True, text=True, check=True).stdout

    def mdb_sql(self, script):
        return subprocess.run(self.mariadb, input=script, capture_output=True, text=True, check=True).stdout

    def reset(self, state_dir):
        with open(self.hba_file, 'w') as handle:
            handle.write(self.hba_original)
        self.pg_sql("SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database WHERE datname LIKE 'cust\\_bench\\_%' \\gexec\n"
                    "SELECT format('DROP ROLE %I', rolname) FROM pg_roles WHERE rolname LIKE 'cust\\_bench\\_%' \\gexec\n"
                    'SELECT pg_reload_conf();\n')
        drops = self.mdb_sql("SELECT CONCAT('DROP DATABASE `', schema_name, '`;') FROM information_schema.schemata"
                             " WHERE schema_name LIKE 'cust\\_bench\\_%';"
                             "SELECT CONCAT('DROP USER `', user, '`@`', host, '`;') FROM mysql.user WHERE user LIKE 'cust\\_bench\\_%';")
        self.mdb_sql(drops)
        self.mdb_sql("DELETE FROM wayscloud.access_owners WHERE user_name LIKE 'cust\\_bench\\_%';"
                     if self.mdb_sql("SHOW DATABASES LIKE 'wayscloud'").strip() else '')
        shutil.rmtree(state_dir, ignore_errors=True)

    def end_state(self):
        """Counts of what provisioning must leave: (pg databases+users with limit 50, pg_hba lines, mariadb databases,
        mariadb accounts at the address with limit 50 and a grant)."""
        pg = self.pg_sql("SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname LIKE 'cust\\_bench\\_pg\\_%%'"
                         " AND r.rolname = d.datname AND d.datconnlimit = 50 AND r.rolconnlimit = 50 AND r.rolcanlogin;"
                         "SELECT count(*) FROM pg_hba_file_rules WHERE address = '%s' AND database[1] LIKE 'cust\\_bench\\_pg\\_%%'"
                         " AND user_name[1] = database[1];" % ADDRESS)
        mdb = self.mdb_sql("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'cust\\_bench\\_mdb\\_%%';"
                           "SELECT count(DISTINCT grantee) FROM information_schema.schema_privileges WHERE grantee LIKE"
                           " '''cust\\_bench\\_mdb\\_%%''@''%s''';"
                           "SELECT count(*) FROM mysql.user WHERE user LIKE 'cust\\_bench\\_mdb\\_%%' AND host = '%s'"
                           " AND max_user_connections = 50;" % (ADDRESS, ADDRESS))
        return tuple(int(n) for n in (pg + mdb).split())

    def end_state_made(self):
        """How many bench databases exist on both servers."""
        pg = self.pg_sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'cust\\_bench\\_%'")
        mdb = self.mdb_sql("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'cust\\_bench\\_%'")
        return int(pg) + int(mdb)

    def floor(self, names, password):
        """One psql and one mariadb session doing the same, idempotently (\\gexec, IF NOT EXISTS)."""
        with open(self.hba_file) as handle:
            hba = handle.read().splitlines()
        wanted = ['host "cust_bench_pg_%s" "cust_bench_pg_%s" %s/32 scram-sha-256' % (name, name, ADDRESS) for name in names]
        missing = [line for line in wanted if line not in hba]
        if missing:
            with open(self.hba_file, 'a') as handle:
                handle.write('\n'.join(missing) + '\n')
        pg, mdb = [], []
        for name in names:
            db = 'cust_bench_pg_' + name
            pg.append("SELECT format('CREATE ROLE %%I LOGIN CONNECTION LIMIT 50 PASSWORD %%L', '%s', '%s')"
                      " WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') \\gexec" % (db, password, db))
            pg.append("SELECT format('CREATE DATABASE %%I OWNER %%I CONNECTION LIMIT 50', '%s', '%s')"
                      " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '%s') \\gexec" % (db, db, db))
            db = 'cust_bench_mdb_' + name
            mdb.append("CREATE DATABASE IF NOT EXISTS `%s`;" % db)
            mdb.append("CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s' WITH MAX_USER_CONNECTIONS 50;" % (db, ADDRESS, password))
            mdb.append("GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s';" % (db, db, ADDRESS))
        if missing:
            pg.append('SELECT pg_reload_conf();')
        self.pg_sql('\n'.join(pg) + '\n')
        self.mdb_sql('\n'.join(mdb) + '\n')


def bench_provision(books, servers, count, repeat):
    names = ['d%02d' % number for number in range(1, count + 1)]
    password = secrets.token_urlsafe(18)
    expected = (count, count, count, count, count)
    sides = {
        'ours': lambda: books.run('ours-provision', ours_provision(books, names), books.ours)[:2],
        'role': lambda: books.run('role-provision', role_provision(books, names), books.ours)[:2],
        'ours-loop': lambda: books.run('ours-provision-loop', ours_provision(books, names, listed=False), books.ours)[:2],
        'community': lambda: books.run('community-provision', community_provision(books, names, servers.hba_file), books.community,
                                       extra_vars={'bench_password': password})[:2],
        'floor': lambda: (timed(servers.floor, names, password), None),
    }
    samples = dict((side, {'cold': [], 'warm': []}) for side in sides)
    order = list(sides)
    for number in range(repeat):
        for side in (order if number % 2 == 0 else order[::-1]):
            servers.reset(books.state_dir)
            seconds, changed = sides[side]()
            if servers.end_state() != expected:
                raise RuntimeError('%s left %r, not %r' % (side, servers.end_state(), expected))
            samples[side]['cold'].append(seconds)
            seconds, changed = sides[side]()
            if changed:
                raise RuntimeError('%s reported changed=%d on the warm run' % (side, changed))
            samples[side]['warm'].append(seconds)
    servers.reset(books.state_dir)
    for phase in ('cold', 'warm'):
        label = '%d PostgreSQL + %d MariaDB databases, users, limit, address (host, %s)' % (count, count, phase)
        ratio = row(label + ', a list per task', samples['ours'][phase], samples['community'][phase], theirs_name='community, a loop')
        row(label + ', the database role', samples['role'][phase], samples['community'][phase], theirs_name='community, a loop')
        row(label + ', a loop item per database', samples['ours-loop'][phase], samples['community'][phase],
            theirs_name='community, a loop', note='the same modules one run per item')
        row(label + ', a list per task, vs the SQL floor', samples['ours'][phase], samples['floor'][phase], theirs_name='psql + mariadb',
            note='aim vs community: <= 0.50 (%s)' % ('met' if ratio <= 0.5 else 'not met'))


# ---------------------------------------------------------------------------------------------- api per task

def bench_api(books, tasks, repeat):
    """The three kinds alternate inside one playbook, so they share the machine's moment; bench_timer times each task."""
    db = 'cust_bench_pg_api'
    defaults = books.api_defaults()
    books.run('api-setup', books.play('A database to ask about', [
        {'name': 'Create it', 'no_log': True, 'wayscloud.databases.wayscloud_database': dict(db_type='postgresql', name=db)}],
        defaults=defaults), books.ours)
    loop = list(range(tasks))
    url = '%s/v1/databases/postgresql?customer_id=bench' % books.env['WAYSCLOUD_API_URL']
    kinds = {
        'ours': {'wayscloud.databases.wayscloud_database': dict(db_type='postgresql', name=db)},
        'uri': {'ansible.builtin.uri': dict(url=url, headers={'X-API-Key': '{{ key }}'}), 'no_log': True},
        'ping': {'ansible.builtin.ping': {}},
    }
    order = list(kinds)
    play_tasks = []
    for number in range(repeat):
        for kind in (order if number % 2 == 0 else order[::-1]):
            play_tasks.append(dict(kinds[kind], name='%s %d' % (kind, number), loop=loop))
    timer = os.path.join(books.work, 'timings.json')
    os.environ.update(BENCH_TIMER_FILE=timer, ANSIBLE_CALLBACKS_ENABLED='bench_timer',
                      ANSIBLE_CALLBACK_PLUGINS=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'callback_plugins'))
    try:
        changed, failed = books.run('api-per-task', books.play('Per task', play_tasks, defaults=defaults,
                                                               play_vars={'key': defaults['api_key']}), books.ours)[1:]
    finally:
        for name in ('BENCH_TIMER_FILE', 'ANSIBLE_CALLBACKS_ENABLED', 'ANSIBLE_CALLBACK_PLUGINS'):
            os.environ.pop(name)
    if changed or failed:
        raise RuntimeError('per-task run: changed=%d failed=%d\n%s' % (changed, failed, '\n'.join(books.failures)))
    with open(timer) as handle:
        timings = json.load(handle)
    per_task = dict((kind, [seconds / tasks for name, seconds in timings if name.split()[0] == kind]) for kind in kinds)
    books.run('api-cleanup', books.play('Remove it', [
        {'name': 'Delete it', 'wayscloud.databases.wayscloud_database': dict(db_type='postgresql', name=db, state='absent')}],
        defaults=defaults), books.ours)
    row('no-op wayscloud_database, api backend, per task', per_task['ours'], per_task['uri'], theirs_name='uri GET',
        note='aim: <= 1.15 (%s)' % ('met' if statistics.median(per_task['ours']) <= 1.15 * statistics.median(per_task['uri'])
                                    else 'not met'))
    row('no-op wayscloud_database, api backend, per task vs ping', per_task['ours'], per_task['ping'], theirs_name='ping',
        note='ping is the cost of any task')


# ---------------------------------------------------------------------------------------------- concurrency

def bench_concurrency(books, servers, repeat):
    """40 databases: 8 inventory hosts (this machine) make 5 each, PostgreSQL on h1-h4 and MariaDB on h5-h8."""
    for backend in ('host', 'api'):
        defaults = books.host_defaults() if backend == 'host' else books.api_defaults()
        login_pg, login_mdb = (books.pg, books.mdb) if backend == 'host' else ({}, {})
        tasks = [{'name': 'Create five databases per host', 'no_log': True, 'loop': [1, 2, 3, 4, 5],
                  'vars': {'engine': "{{ 'postgresql' if inventory_hostname in ['h1', 'h2', 'h3', 'h4'] else 'mariadb' }}"},
                  'wayscloud.databases.wayscloud_database': dict(
                      db_type='{{ engine }}', customer_id='bench', requested_name='{{ inventory_hostname }}n{{ item }}',
                      connection_limit=50,
                      login_unix_socket="{{ %r if engine == 'postgresql' else %r }}" % (
                          login_pg.get('login_unix_socket', ''), login_mdb.get('login_unix_socket', '')) if backend == 'host' else '{{ omit }}',
                      login_port="{{ %r if engine == 'postgresql' else %r }}" % (
                          login_pg.get('login_port', 0), login_mdb.get('login_port', 0)) if backend == 'host' else '{{ omit }}')}]
        plays = books.play('Forty databases at once', tasks, defaults=defaults)
        if backend == 'api':  # the API server's default quota is 20 databases a customer
            books.run('concurrency-quota', books.play('Quota', [{'name': 'Room for forty', 'wayscloud.databases.wayscloud_database_quota': dict(
                backend='host', state_dir=books.env['WAYSCLOUD_BENCH_API_STATE'], customer_id='bench', databases=100, storage_gb=100)}]),
                books.ours)
        samples = {8: [], 1: []}
        failures = 0
        for number in range(repeat):
            for forks in ((8, 1) if number % 2 == 0 else (1, 8)):
                clean_all(books, servers, backend)
                seconds, changed, failed = books.run('concurrency-%s-%d' % (backend, forks), plays, books.ours, hosts=8, forks=forks)
                failures += failed
                made = servers.end_state_made()
                if made != 40 or changed != 8:  # the recap counts a changed loop task once per host
                    raise RuntimeError('%s with %d forks: %d databases, changed=%d, failed=%d\n%s'
                                       % (backend, forks, made, changed, failed, '\n'.join(books.failures)[:5000]))
                samples[forks].append(seconds)
        clean_all(books, servers, backend)
        row('40 databases by 8 forks at once (%s backend)' % backend, samples[8], samples[1], theirs_name='1 fork',
            note='%d failed tasks in %d runs' % (failures, 2 * repeat))


def clean_all(books, servers, backend):
    """The API server's catalog records its databases: remove them through the API so it stays consistent."""
    if backend == 'api':
        for db_type, tag in (('postgresql', 'pg'), ('mariadb', 'mdb')):
            names = ['cust_bench_%s_h%dn%d' % (tag, host, number) for host in range(1, 9) for number in range(1, 6)]
            books.run('concurrency-clean', books.play('Clean', [
                {'name': 'Delete', 'loop': names, 'wayscloud.databases.wayscloud_database': dict(
                    db_type=db_type, name='{{ item }}', state='absent')}], defaults=books.api_defaults()), books.ours)
    servers.reset(books.state_dir)


# ---------------------------------------------------------------------------------------------- scale

def timed_tasks(books, name, plays, path):
    """{task name: seconds} of one playbook run (bench_timer), and the whole run's seconds; a failed or changed
    warm run is an error for the caller to judge from the recap."""
    timer = os.path.join(books.work, 'timings.json')
    os.environ.update(BENCH_TIMER_FILE=timer, ANSIBLE_CALLBACKS_ENABLED='bench_timer',
                      ANSIBLE_CALLBACK_PLUGINS=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'callback_plugins'))
    try:
        seconds, changed, failed = books.run(name, plays, path)
    finally:
        for variable in ('BENCH_TIMER_FILE', 'ANSIBLE_CALLBACKS_ENABLED', 'ANSIBLE_CALLBACK_PLUGINS'):
            os.environ.pop(variable)
    if failed:
        raise RuntimeError('%s: %d failed\n%s' % (name, failed, '\n'.join(books.failures)[:5000]))
    with open(timer) as handle:
        return dict(json.load(handle)), seconds, changed


SCALE_TASKS = (('PG create', 'Create the postgresql databases'), ('MariaDB create', 'Create the mariadb databases'),
               ('PG firewall', 'Allow one address to each postgresql database'),
               ('MariaDB firewall', 'Allow one address to each mariadb database'))


def bench_scale(books, servers, sizes, repeat, baseline=None):
    """Per N: each of the four module runs, the warm run of all, and the cold cost per database (all four runs
    over 2N databases); ours against ``baseline`` where given."""
    sides = [('ours', books.ours)] + ([('baseline', baseline)] if baseline else [])
    for count in sizes:
        names = ['d%04d' % number for number in range(1, count + 1)]
        samples = dict((side, collections.defaultdict(list)) for side, dummy in sides)
        for number in range(repeat):
            for side, path in (sides if number % 2 == 0 else sides[::-1]):
                servers.reset(books.state_dir)
                plays = ours_provision(books, names)
                tasks, dummy, dummy = timed_tasks(books, 'scale-%s-%d' % (side, count), plays, path)
                if servers.end_state() != (count,) * 5:
                    raise RuntimeError('%s at N=%d left %r' % (side, count, servers.end_state()))
                for label, task in SCALE_TASKS:
                    samples[side][label].append(tasks[task])
                samples[side]['cold per database'].append(sum(tasks[task] for dummy, task in SCALE_TASKS) / (2 * count))
                dummy, seconds, changed = timed_tasks(books, 'scale-%s-%d-warm' % (side, count), plays, path)
                if changed:
                    raise RuntimeError('%s at N=%d: changed=%d on the warm run' % (side, count, changed))
                samples[side]['warm run (all)'].append(seconds)
                if side == 'ours':
                    for label, seconds in list(request_work(books, names[:5]).items()) + list(http_requests(books).items()):
                        samples[side][label].extend(seconds)
                    samples[side][CONNECTION].extend(connection_seconds(books))
        for label in [label for label, dummy in SCALE_TASKS] + ['warm run (all)', 'cold per database']:
            row('N=%d: %s (%d + %d databases, lists, host, firewall_driver none)' % (count, label, count, count),
                samples['ours'][label], samples['baseline'][label] if baseline else [], theirs_name='baseline' if baseline else '')
        for label in REQUEST_ROWS:
            row('N=%d: %s' % (count, label), [seconds * 1000 for seconds in samples['ours'][label]], [], unit='ms')
    servers.reset(books.state_dir)


ENGINES = (('postgresql', 'PostgreSQL', 'pg', 'WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT'),
           ('mariadb', 'MariaDB', 'mdb', 'WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT'))
# The rows of one request's cost at each N (the API server has no list form: each request is a batch of one).
FIREWALL_WORK = 'one API firewall request, host engine (a rule added or removed; a fresh engine, no HTTP):'
FIREWALL_HTTP = 'one firewall request to the API server over HTTP (a rule added or removed):'
CREATION, DELETION = 'one API database creation, host engine:', 'one API database deletion, host engine:'
CONNECTION = 'a new PostgreSQL connection (each reads the pg_hba lines until one matches)'
REQUEST_ROWS = ['%s %s' % (what, label) for dummy, label, dummy, dummy, dummy in ENGINES
                for what in (FIREWALL_WORK, FIREWALL_HTTP, CREATION, DELETION)] + [CONNECTION]


def request_work(books, names):
    """Seconds of what the API server does on the host for one request (a fresh engine, a batch of one) on this host
    as the scale run left it, by row of REQUEST_ROWS: a rule added to each of ``names`` then removed, a database
    created beside each, then deleted."""
    samples = collections.defaultdict(list)
    for db_type, label, tag, socket, port in ENGINES:
        login = ServerLogin(unix_socket=books.env[socket], port=int(books.env[port]), public_host='127.0.0.1')

        def timed_request(what, step):
            start = time.monotonic()
            engine = HostDatabases(db_type, login, books.state_dir, network=NETWORKS['none'](run), run=run)
            try:
                answer = step(engine)
            finally:
                engine.close()
            samples['%s %s' % (what, label)].append(time.monotonic() - start)
            return answer
        for name in names:
            db_name = 'cust_bench_%s_%s' % (tag, name)
            rule = timed_request(FIREWALL_WORK, lambda engine: engine.firewall().add(db_name, '198.51.100.9/32')[0])
            timed_request(FIREWALL_WORK, lambda engine: engine.firewall().remove(db_name, rule['rule_id']))
            made = timed_request(CREATION, lambda engine: engine.create('bench', 'x' + name)[0]['db_name'])
            timed_request(DELETION, lambda engine: engine.delete(made))
    return samples


def connection_seconds(books, count=20):
    """Seconds of each of ``count`` new connections to PostgreSQL over its socket, as the administrator."""
    import psycopg2
    seconds = []
    for dummy in range(count):
        start = time.monotonic()
        psycopg2.connect(host=books.env['WAYSCLOUD_PG_SOCKET_DIR'], port=books.env['WAYSCLOUD_PG_PORT'], user='postgres',
                         dbname='postgres').close()
        seconds.append(time.monotonic() - start)
    return seconds


def http_requests(books, count=5):
    """Seconds of each firewall request (a rule added, then removed, ``count`` times) to the API server over HTTP, by
    row of REQUEST_ROWS, on a database of each engine the API server makes for it on this host as the scale run
    left it."""
    api = books.api_defaults()

    def call(method, path, body=None):
        request = urllib.request.Request(api['api_url'] + path, method=method, data=json.dumps(body).encode()
                                         if body is not None else None,
                                         headers={'X-API-Key': api['api_key'], 'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read() or b'null')
        except urllib.error.HTTPError as exc:
            raise RuntimeError('%s %s: %s %s' % (method, path, exc.code, exc.read()[:500]))
    samples = {}
    for db_type, label, dummy, dummy, dummy in ENGINES:
        seconds = samples['%s %s' % (FIREWALL_HTTP, label)] = []
        made = call('POST', '/v1/databases', dict(db_type=db_type, requested_name='scale', customer_id='benchhttp'))
        path = '/v1/databases/%s/%s' % (db_type, made['db_name'])
        try:
            for dummy in range(count):
                start = time.monotonic()
                rule = call('POST', path + '/firewall', dict(ip_address='198.51.100.9'))
                seconds.append(time.monotonic() - start)
                start = time.monotonic()
                call('DELETE', '%s/firewall/%s' % (path, rule['rule_id']))
                seconds.append(time.monotonic() - start)
        finally:
            call('DELETE', path)
    return samples


# ---------------------------------------------------------------------------------------------- memory

def peak_rss_mb(module, args, pythonpath):
    """Peak resident set of running ``module`` (a python -m path) once, as AnsiballZ runs it."""
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, 'args.json')
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
    process = subprocess.Popen([PY, '-m', module, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, PYTHONPATH=pythonpath))
    output = process.stdout.read()
    usage = os.wait4(process.pid, 0)[2]
    shutil.rmtree(folder)
    if b'"failed": true' in output:
        raise RuntimeError('%s failed: %s' % (module, output[-2000:]))
    return usage.ru_maxrss / 1024.0


def bench_memory(books, servers, repeat):
    ours_path, community_path = books.ours, books.community
    host = dict(books.host_defaults(), **books.pg)
    api = books.api_defaults()
    db = 'cust_bench_pg_mem'
    module = 'ansible_collections.wayscloud.databases.plugins.modules.wayscloud_database'
    peak_rss_mb(module, dict(host, db_type='postgresql', name=db), ours_path)
    peak_rss_mb(module, dict(api, db_type='postgresql', name=db), ours_path)
    pg = dict(login_unix_socket=books.pg['login_unix_socket'], port=books.pg['login_port'], login_user='postgres')
    cases = [
        ('host', module, dict(host, db_type='postgresql', name=db), ours_path,
         'ansible_collections.community.postgresql.plugins.modules.postgresql_db', dict(pg, name=db), 'postgresql_db'),
        ('api', module, dict(api, db_type='postgresql', name=db), ours_path,
         'ansible.modules.uri', dict(url='%s/v1/databases/postgresql?customer_id=bench' % api['api_url'],
                                     headers={'X-API-Key': api['api_key']}), 'uri'),
    ]
    for backend, ours_module, ours_args, path, theirs_module, theirs_args, theirs_name in cases:
        ours, theirs = [], []
        for dummy in range(repeat):
            ours.append(peak_rss_mb(ours_module, ours_args, path))
            theirs.append(peak_rss_mb(theirs_module, theirs_args, community_path if theirs_name != 'uri' else path))
        row('peak RSS of one no-op wayscloud_database run (%s backend)' % backend, ours, theirs, unit='MB', theirs_name=theirs_name)
    for backend_args in (api, host):
        peak_rss_mb(module, dict(backend_args, db_type='postgresql', name=db, state='absent'), ours_path)
    servers.reset(books.state_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', default='provision,api,concurrency,memory')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--count', type=int, default=20)
    parser.add_argument('--api-tasks', type=int, default=40)
    parser.add_argument('--sizes', default='50,200,1000', help='N of the scale part, comma-separated')
    parser.add_argument('--baseline', help='scale: a collections path holding the version to compare with')
    parser.add_argument('--work', required=True)
    parser.add_argument('--ours', required=True, help='collections path holding wayscloud.databases')
    parser.add_argument('--community', required=True, help='collections path of the PyPI package ansible')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='wayscloud-ansible-bench-', dir=args.work)
    books = Playbooks(os.environ, work, args.ours, args.community)
    servers = Servers(os.environ)
    try:
        parts = args.only.split(',')
        if 'provision' in parts:
            bench_provision(books, servers, args.count, args.repeat)
        if 'api' in parts:
            bench_api(books, args.api_tasks, args.repeat)
        if 'concurrency' in parts:
            bench_concurrency(books, servers, args.repeat)
        if 'memory' in parts:
            bench_memory(books, servers, args.repeat)
        if 'scale' in parts:
            bench_scale(books, servers, [int(size) for size in args.sizes.split(',')], args.repeat, args.baseline)
    finally:
        servers.reset(books.state_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
