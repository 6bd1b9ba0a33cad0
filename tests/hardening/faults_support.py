# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What test_faults_api.py and test_faults_host.py share: the fault proxy's control endpoint, plain
calls to the API server (behind no proxy) to set the scene and read the truth, logins with a password,
and the checks every faulted run must pass.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys

import psycopg2
import pymysql

from conftest import http_json, start_module


class Proxy:
    """The fault proxy's control endpoint (tests/api_server/faults.py)."""

    def __init__(self, url):
        self.url = url.rstrip('/') + '/__faults__'

    def queue(self, *faults):
        http_json(self.url, 'POST', list(faults))

    def seen(self):
        return http_json(self.url, 'GET')[1]['seen']

    def clear(self):
        """The log so far; the log and the queue are empty afterwards."""
        return http_json(self.url, 'DELETE')[1]


class Api:
    """The API server itself with the internal key: the scene before a run and the truth after it."""

    def __init__(self, servers, db_type, customer_id):
        self.url = servers['WAYSCLOUD_API_URL'].rstrip('/')
        self.headers = {'X-API-Key': servers['WAYSCLOUD_TEST_KEY_INTERNAL']}
        self.db_type = db_type
        self.customer_id = customer_id

    def call(self, method, path, body=None, ok=(200,)):
        status, answer = http_json(self.url + path, method, body, self.headers)
        if status not in ok:
            raise AssertionError('%s %s: HTTP %d %r' % (method, path, status, answer))
        return status, answer

    def db(self, db_name, *parts):
        return '/'.join(('/v1/databases', self.db_type, db_name) + parts)

    def databases(self):
        return self.call('GET', '/v1/databases/%s?customer_id=%s' % (self.db_type, self.customer_id))[1]['databases']

    def database(self, db_name):
        found = [item for item in self.databases() if item['db_name'] == db_name]
        assert len(found) <= 1, found
        return found[0] if found else None

    def create(self, requested_name):
        """(db_name, password): the database made afresh, its password known."""
        body = dict(db_type=self.db_type, requested_name=requested_name, customer_id=self.customer_id)
        answer = self.call('POST', '/v1/databases', body)[1]
        return answer['db_name'], self.rotate(answer['db_name']) if answer['idempotent'] else answer['password']

    def rotate(self, db_name):
        return self.call('POST', self.db(db_name, 'credentials', 'rotate'))[1]['password']

    def drop(self, db_name):
        self.call('DELETE', self.db(db_name) + '?username=' + db_name, ok=(200, 404))

    def update(self, db_name, **changes):
        self.call('PATCH', self.db(db_name), changes)

    def rules(self, db_name):
        return self.call('GET', self.db(db_name, 'firewall'))[1]['rules']

    def add_rule(self, db_name, ip_address):
        return self.call('POST', self.db(db_name, 'firewall'), dict(ip_address=ip_address))[1]

    def remove_rule(self, db_name, rule_id):
        self.call('DELETE', self.db(db_name, 'firewall', rule_id), ok=(200, 404))

    def snapshots(self, db_name):
        return self.call('GET', self.db(db_name, 'snapshots'))[1]['snapshots']

    def snapshot(self, db_name, description):
        return self.call('POST', self.db(db_name, 'snapshots'), dict(description=description))[1]

    def drop_snapshot(self, db_name, snapshot_id):
        self.call('DELETE', self.db(db_name, 'snapshots', snapshot_id), ok=(200, 404))

    def policy(self, db_name):
        return self.call('GET', self.db(db_name, 'backup-policy'))[1]

    def set_policy(self, db_name, **policy):
        return self.call('PUT', self.db(db_name, 'backup-policy'), policy)[1]


def connect(servers, db_type, db_name, password, user=None):
    """A session on ``db_name`` over TCP as its user (the way a customer connects)."""
    if db_type == 'postgresql':
        return psycopg2.connect(host='127.0.0.1', port=int(servers['WAYSCLOUD_PG_PORT']), dbname=db_name,
                                user=user or db_name, password=password, connect_timeout=5)
    return pymysql.connect(host='127.0.0.1', port=int(servers['WAYSCLOUD_MDB_PORT']), database=db_name,
                           user=user or db_name, password=password, connect_timeout=5)


def logs_in(servers, db_type, db_name, password, user=None):
    """Whether ``password`` opens ``db_name`` over TCP as its user."""
    try:
        conn = connect(servers, db_type, db_name, password, user)
    except (psycopg2.Error, pymysql.Error):
        return False
    conn.close()
    return True


def sql_argv(servers, db_type, statement, database=None):
    """The command that runs ``statement`` as the superuser of the throwaway server of ``db_type``."""
    if db_type == 'postgresql':
        return ['psql', '-h', servers['WAYSCLOUD_PG_SOCKET_DIR'], '-p', servers['WAYSCLOUD_PG_PORT'], '-U', 'postgres',
                '-d', database or 'postgres', '-AtX', '-v', 'ON_ERROR_STOP=1', '-c', statement]
    return (['mariadb', '--no-defaults', '--socket', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-N', '-B']
            + ([database] if database else []) + ['-e', statement])


def sql(servers, db_type, statement, database=None):
    """Run ``statement`` as the superuser of the throwaway server of ``db_type``; its output, stripped."""
    return subprocess.run(sql_argv(servers, db_type, statement, database), capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip()


def server_databases(servers, db_type):
    """Every database name on the throwaway server of ``db_type``."""
    if db_type == 'postgresql':
        argv = ['psql', '-h', servers['WAYSCLOUD_PG_SOCKET_DIR'], '-p', servers['WAYSCLOUD_PG_PORT'], '-U', 'postgres',
                '-d', 'postgres', '-AtX', '-c', 'SELECT datname FROM pg_database']
    else:
        argv = ['mariadb', '--socket', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-N', '-B', '-e', 'SHOW DATABASES']
    return set(subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout.split())


def scratch_databases(servers, db_type):
    """Databases a restore leaves behind only when it did not settle (wcr_ scratch, wco_ set aside)."""
    return sorted(name for name in server_databases(servers, db_type) if re.match(r'wc[ro]_', name))


def clear_failure(result, what, secrets=()):
    """Problems with a failed result: it must say what failed, carry no traceback and no secret."""
    problems = []
    msg = result.get('msg') or ''
    if not msg:
        problems.append('failed without a message')
    if what and what not in msg:
        problems.append('msg does not name %r: %s' % (what, redacted(msg, secrets)))
    text = json.dumps(result)
    if 'Traceback' in text or 'exception' in result:
        problems.append('traceback: %s' % redacted(result.get('exception') or result.get('_stderr'), secrets)[-800:])
    if any(secret and secret in text for secret in secrets):
        problems.append('a secret is in the result (its message, warnings, output or any other key)')
    return problems


def redacted(text, secrets):
    """``text`` with every secret replaced, so a problem report can quote what the module said."""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, '<secret>')
    return text


def catalog_problems(servers, state_dir, db_type, prefix):
    """How the catalog in ``state_dir`` disagrees with the server and the snapshot folders, for databases
    named ``prefix``*: rows without a database or databases without a row, snapshot rows without their
    folder or folders without a row, partial dumps left behind."""
    problems = []
    conn = sqlite3.connect('file:%s?mode=ro' % os.path.join(state_dir, 'catalog.sqlite3'), uri=True)
    try:
        rows = set(row[0] for row in conn.execute('SELECT db_name FROM databases WHERE db_type = ?', (db_type,)))
        snapshots = set(conn.execute('SELECT db_name, snapshot_id FROM snapshots WHERE db_type = ?', (db_type,)))
    finally:
        conn.close()
    rows = set(name for name in rows if name.startswith(prefix))
    on_server = set(name for name in server_databases(servers, db_type) if name.startswith(prefix))
    if rows != on_server:
        problems.append('catalog %s, server %s' % (sorted(rows), sorted(on_server)))
    snapshots = set(row for row in snapshots if row[0].startswith(prefix))
    folders = set()
    for path in glob.glob(os.path.join(state_dir, 'snapshots', '**', prefix + '*', '*'), recursive=True):
        if path.endswith('.partial'):
            problems.append('partial dump left: %s' % path)
        elif os.path.isdir(path):
            folders.add((os.path.basename(os.path.dirname(path)), os.path.basename(path)))
    if snapshots != folders:
        problems.append('snapshot rows %s, folders %s' % (sorted(snapshots), sorted(folders)))
    return problems


_HOOKED = r'''
import importlib, json, os, runpy, signal, subprocess, sys
path, name, step, counted, action = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
calls = [0]
for module_name, attribute in counted:
    owner = importlib.import_module(module_name)
    parts = attribute.split('.')
    for part in parts[:-1]:
        owner = getattr(owner, part)
    original = getattr(owner, parts[-1])

    def wrapper(*args, _original=original, **kwargs):
        calls[0] += 1
        if calls[0] == step and action is None:
            os.kill(os.getpid(), signal.SIGKILL)
        if calls[0] == step:
            subprocess.run(action, check=True, capture_output=True, timeout=120)
        return _original(*args, **kwargs)
    setattr(owner, parts[-1], wrapper)
sys.argv = [name, path]
runpy.run_module('ansible_collections.wayscloud.databases.plugins.modules.' + name, run_name='__main__')
'''


def run_module_hooked(name, args, step, counted, action=None, python=sys.executable, timeout=300):
    """Run module ``name`` as run_module does, but right before the ``step``-th call (1-based) of any of
    ``counted`` ([(module, 'Class.method' or 'function')]) run the command ``action`` (argv), or without one
    SIGKILL the module. Returns its result (see start_module)."""
    def argv(path):
        return [python, '-c', _HOOKED, path, name, str(step), json.dumps(counted), json.dumps(action)]
    return start_module(name, args, argv=argv)[1](timeout)


def run_module_dying(name, args, step, counted, python=sys.executable, timeout=300):
    """run_module_hooked's SIGKILL: (killed, result or None)."""
    result = run_module_hooked(name, args, step, counted, python=python, timeout=timeout)
    if result['_rc'] == -signal.SIGKILL:
        return True, None
    return False, result


FIGURES = dict(api={}, host={}, cases=[])


def record_figures(figures, part, values, cases):
    """One figures part, 'faults', for both test files: each writes what the session has found so far."""
    FIGURES[part] = values
    FIGURES['cases'] = FIGURES['cases'] + list(cases)
    figures('faults', FIGURES)
