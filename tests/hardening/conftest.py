# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening suite's shared parts: running a module as Ansible runs it, and a fingerprint of
everything the collection can change on this machine, to prove that a failure changed nothing.

Run through scripts/test.sh (gate ``hardening``): it starts the servers and the API server and exports
their settings (servers.env, api.env).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pytest

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(COLLECTION, 'tests', 'api_server'))
from commands import run  # noqa: E402

from ansible_collections.wayscloud.databases.tests.environment import setting  # noqa: E402


@pytest.fixture(scope='session')
def servers():
    """Settings of the throwaway servers and the API server (names as in servers.env and api.env)."""
    names = ['WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT', 'WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT',
             'WAYSCLOUD_API_URL', 'WAYSCLOUD_FAULTS_URL', 'WAYSCLOUD_TEST_KEY_INTERNAL', 'WAYSCLOUD_TEST_KEY_CUSTOMER',
             'WAYSCLOUD_TEST_KEY_QUOTA', 'WAYSCLOUD_VAULT_ADDR', 'WAYSCLOUD_VAULT_TOKEN']
    settings = dict((name, setting(name)) for name in names)
    settings['WAYSCLOUD_API_STATE_DIR'] = setting('WAYSCLOUD_API_STATE_DIR')
    return settings


def host_options(servers, db_type, state_dir):
    """Module options that point the host backend at the throwaway server of ``db_type``."""
    if db_type == 'postgresql':
        login = dict(login_unix_socket=servers['WAYSCLOUD_PG_SOCKET_DIR'], login_port=int(servers['WAYSCLOUD_PG_PORT']))
    else:
        login = dict(login_unix_socket=servers['WAYSCLOUD_MDB_SOCKET'], login_port=int(servers['WAYSCLOUD_MDB_PORT']))
    return dict(backend='host', db_type=db_type, state_dir=state_dir, public_host='127.0.0.1', firewall_driver='none', **login)


def api_options(servers, db_type, url=None, key='WAYSCLOUD_TEST_KEY_INTERNAL'):
    """Module options that point the api backend at tests/api_server (or at the faults proxy via ``url``)."""
    return dict(backend='api', db_type=db_type, api_url=url or servers['WAYSCLOUD_API_URL'], api_key=servers[key],
                api_retry_max_delay=1)


MODULES = 'ansible_collections.wayscloud.databases.plugins.modules.'
# The API server's keys (api.env): no log or output may hold one.
KEYS = ('WAYSCLOUD_TEST_KEY_INTERNAL', 'WAYSCLOUD_TEST_KEY_CUSTOMER', 'WAYSCLOUD_TEST_KEY_READONLY', 'WAYSCLOUD_TEST_KEY_QUOTA')


def files_under(*folders):
    return sorted(path for folder in folders for path in glob.glob(os.path.join(folder, '**'), recursive=True)
                  if os.path.isfile(path))


def start_module(name, args, check=False, diff=False, python=sys.executable, argv=None):
    """Start module ``name`` the way AnsiballZ runs it (its arguments in a file); returns (process, finish),
    where ``finish(timeout)`` waits and returns its JSON result with ``_rc`` and ``_stderr``.

    The arguments file is in a private (0700) folder, removed when the module ends: it may hold passwords.
    ``argv(path)`` replaces the command (a wrapper that runs the module itself).
    """
    folder = tempfile.mkdtemp(prefix='wayscloud-module-')
    path = os.path.join(folder, 'args.json')
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': dict(args, _ansible_check_mode=check, _ansible_diff=diff)}, handle)
    command = argv(path) if argv else [python, '-m', MODULES + name, path]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))

    def finish(timeout=300):
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            result = json.loads(out)
        except ValueError:
            result = {'failed': True, 'msg': 'module printed no JSON', 'stdout': out}
        result['_rc'] = process.returncode
        result['_stderr'] = err
        return result
    return process, finish


def run_module(name, args, check=False, diff=False, python=sys.executable, timeout=300):
    """Run module ``name`` as AnsiballZ does and return its JSON result (see start_module)."""
    return start_module(name, args, check=check, diff=diff, python=python)[1](timeout)


def http_json(url, method, body=None, headers=None, timeout=60):
    """(status, decoded answer) of one HTTP request: ``body`` is sent as JSON, or as is when it is bytes; an
    answer that is not JSON comes back as text."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}, **(
        {'Content-Type': 'application/json'} if data is not None else {})))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode('utf-8', 'replace')


def _catalog(state_dir):
    path = os.path.join(state_dir, 'catalog.sqlite3')
    if not os.path.exists(path):
        return None
    conn = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return dict((table, sorted(tuple(row) for row in conn.execute('SELECT * FROM "%s"' % table))) for table in tables)
    finally:
        conn.close()


def _tree(folder):
    """Every file under ``folder`` with its mode and SHA-256 (catalog journals excluded: sqlite rewrites them)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, '**'), recursive=True)):
        if os.path.isfile(path) and not path.endswith(('-journal', '-wal', '-shm', '.lock')):
            with open(path, 'rb') as handle:
                found[os.path.relpath(path, folder)] = (oct(os.stat(path).st_mode & 0o7777),
                                                        hashlib.sha256(handle.read()).hexdigest())
    return found


def _psql(servers, sql):
    done = subprocess.run(['psql', '-h', servers['WAYSCLOUD_PG_SOCKET_DIR'], '-p', servers['WAYSCLOUD_PG_PORT'], '-U', 'postgres',
                           '-d', 'postgres', '-AtX', '-c', sql], capture_output=True, text=True, check=True)
    return sorted(done.stdout.splitlines())


def _mariadb(servers, sql):
    done = subprocess.run(['mariadb', '--socket', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-N', '-B', '-e', sql],
                          capture_output=True, text=True, check=True)
    return sorted(done.stdout.splitlines())


def fingerprint(servers, state_dirs=()):
    """What the collection can change: databases, roles and their limits, pg_hba, MariaDB accounts and grants,
    catalogs and files under each state_dir (the API server's included), and the schedules in /etc/cron.d."""
    hba = _psql(servers, 'SHOW hba_file')[0]
    with open(hba) as handle:
        hba_text = handle.read()
    dirs = list(state_dirs) + [servers['WAYSCLOUD_API_STATE_DIR']]
    return {
        'pg_databases': _psql(servers, 'SELECT datname, datconnlimit, pg_get_userbyid(datdba), coalesce(shobj_description(oid, '
                                       "'pg_database'), '') FROM pg_database"),
        'pg_roles': _psql(servers, 'SELECT rolname, rolconnlimit, rolcanlogin, coalesce(rolpassword, \'\') FROM pg_authid'),
        'pg_hba': hba_text,
        'mdb_databases': _mariadb(servers, 'SELECT schema_name FROM information_schema.schemata'),
        'mdb_users': _mariadb(servers, 'SELECT user, host, max_user_connections, authentication_string FROM mysql.user'),
        'mdb_grants': _mariadb(servers, 'SELECT grantee, table_schema, privilege_type FROM information_schema.schema_privileges'),
        'catalogs': dict((d, _catalog(d)) for d in dirs),
        'files': dict((d, _tree(d)) for d in dirs),
        'cron': _tree('/etc/cron.d') if os.path.isdir('/etc/cron.d') else {},
    }


def differences(before, after):
    """Names of the fingerprint parts that differ, with a short account of how."""
    changed = {}
    for key in before:
        if before[key] != after[key]:
            if isinstance(before[key], dict):
                changed[key] = dict((k, (before[key].get(k), after[key].get(k)))
                                    for k in set(before[key]) | set(after[key]) if before[key].get(k) != after[key].get(k))
            else:
                changed[key] = (before[key], after[key])
    return changed


@pytest.fixture
def command_runner():
    """The subprocess runner the API server hands the host engine (for tests that call the engine directly)."""
    return run


@pytest.fixture(scope='session')
def figures():
    """``figures(part, {...})`` records a part's figures for docs/reliability.md as JSON in
    $WAYSCLOUD_HARDENING_FIGURES (scripts/test.sh prints them at the end of the gate's log)."""
    folder = os.environ.get('WAYSCLOUD_HARDENING_FIGURES') or tempfile.mkdtemp(prefix='wayscloud-figures-')
    os.makedirs(folder, exist_ok=True)

    def record(part, values):
        with open(os.path.join(folder, part + '.json'), 'w') as handle:
            json.dump(values, handle, indent=1, sort_keys=True)
    return record
