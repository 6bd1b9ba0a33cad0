# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent runs: 2, 4 and 8 ``ansible-playbook`` runs of tests/hardening/playbooks/concurrent.yml
start at the same moment against the same databases (a PostgreSQL and a MariaDB one: create, a
firewall rule, a backup policy, a rotation), on a host with a shared state_dir and through the API.

Each change must be applied once (one database, one user, one rule, one policy, one cron file, one
creation in the history), the catalog must agree with the servers, and the password Vault holds
must be the one that logs in. Every run must succeed: none of these errors is documented.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from conftest import api_options, fingerprint, run_module

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
ENGINES = (('postgresql', 'pg'), ('mariadb', 'mdb'))
SIZES = (2, 4, 8)
RULE = '192.0.2.60/32'
FIGURES = dict(runs=0, errors=0, inconsistencies=0)


def catalog_rows(state_dir, sql, *args):
    conn = sqlite3.connect('file:%s?mode=ro' % os.path.join(state_dir, 'catalog.sqlite3'), uri=True)
    try:
        return [tuple(row) for row in conn.execute(sql, args)]
    finally:
        conn.close()


def server_rows(servers, db_type, sql):
    if db_type == 'postgresql':
        argv = ['psql', '-h', servers['WAYSCLOUD_PG_SOCKET_DIR'], '-p', servers['WAYSCLOUD_PG_PORT'], '-U', 'postgres',
                '-d', 'postgres', '-AtX', '-c', sql]
    else:
        argv = ['mariadb', '--socket', servers['WAYSCLOUD_MDB_SOCKET'], '-u', 'root', '-N', '-B', '-e', sql]
    return sorted(subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines())


def logs_in(servers, db_type, db_name, password):
    try:
        if db_type == 'postgresql':
            import psycopg2
            psycopg2.connect(host='127.0.0.1', port=int(servers['WAYSCLOUD_PG_PORT']), user=db_name, password=password,
                             dbname=db_name, connect_timeout=5).close()
        else:
            import pymysql
            pymysql.connect(host='127.0.0.1', port=int(servers['WAYSCLOUD_MDB_PORT']), user=db_name, password=password,
                            database=db_name, connect_timeout=5).close()
        return True
    except Exception:
        return False


def start_runs(count, variables, work):
    varsfile = os.path.join(work, 'vars-%s.yml' % variables['conc_customer'])
    fd = os.open(varsfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        handle.write(yaml.safe_dump(variables))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
            os.path.join(HERE, 'playbooks', 'concurrent.yml'), '-e', '@' + varsfile]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for dummy in range(count)]
    return [(run.wait(timeout=600), run.stdout.read()) for run in runs]


def creations(results):
    """How many runs got a new password, per engine: one only, or some run holds a password that is not the user's.
    (More runs may report the creation as a change: one that finds the database made meanwhile sets its limit too.)"""
    return [sum(output.count('%s password returned: True' % db_type) for rc, output in results) for db_type, tag in ENGINES]


def failures(output):
    return [line.strip()[:400] for line in output.splitlines() if line.startswith(('fatal:', 'failed:'))
            or line.lstrip().startswith('"msg"')]


def last_event(state_dir):
    if not os.path.exists(os.path.join(state_dir, 'catalog.sqlite3')):
        return 0
    return catalog_rows(state_dir, 'SELECT coalesce(max(id), 0) FROM history')[0][0]


def check(servers, variables, state_dir, cron_dir, vault, since):
    """What is wrong after the runs, as a list of sentences (empty: every change applied once, all consistent)."""
    wrong = []
    customer = variables['conc_customer']
    cron_files = os.listdir(cron_dir) if os.path.isdir(cron_dir) else []
    catalog_dbs = catalog_rows(state_dir, 'SELECT db_type, db_name FROM databases WHERE customer_id = ?', customer)
    for db_type, tag in ENGINES:
        db_name = 'cust_%s_%s_conc' % (customer, tag)
        if db_type == 'postgresql':
            found = dict(databases=server_rows(servers, db_type, "SELECT datname FROM pg_database WHERE datname LIKE 'cust_%s_%%'" % customer),
                         users=server_rows(servers, db_type, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'cust_%s_%%'" % customer))
        else:
            found = dict(databases=server_rows(servers, db_type, "SELECT schema_name FROM information_schema.schemata "
                                                                 "WHERE schema_name LIKE 'cust_%s_%%'" % customer),
                         users=sorted(set(server_rows(servers, db_type, "SELECT user FROM mysql.user WHERE user LIKE 'cust_%s_%%'" % customer))))
        for what, names in found.items():
            if names != [db_name]:
                wrong.append('%s %s on the server: %s' % (db_type, what, names))
        if [name for kind, name in catalog_dbs if kind == db_type] != [db_name]:
            wrong.append('%s catalog databases %s, server %s' % (db_type, catalog_dbs, found['databases']))
        rules = catalog_rows(state_dir, 'SELECT ip_address FROM firewall_rules WHERE db_type = ? AND db_name = ?', db_type, db_name)
        if rules != [(RULE,)]:
            wrong.append('%s firewall rules in the catalog: %s' % (db_type, rules))
        if db_type == 'mariadb':
            hosts = server_rows(servers, db_type, "SELECT host FROM mysql.user WHERE user = '%s'" % db_name)
            if hosts != sorted(['127.0.0.1', '::1', 'localhost', RULE.split("/", maxsplit=1)[0]]):
                wrong.append('mariadb accounts of %s: %s' % (db_name, hosts))
        else:
            hba = server_rows(servers, db_type, "SELECT count(*) FROM pg_hba_file_rules WHERE '%s' = ANY(user_name) AND address = '%s'"
                              % (db_name, RULE.split("/", maxsplit=1)[0]))
            if hba != ['1']:
                wrong.append('pg_hba lines for %s: %s' % (db_name, hba))
        policies = catalog_rows(state_dir, 'SELECT enabled, frequency FROM backup_policies WHERE db_type = ? AND db_name = ?',
                                db_type, db_name)
        if policies != [(1, 'daily')]:
            wrong.append('%s backup policies: %s' % (db_type, policies))
        cron = sorted(name for name in cron_files if db_name in name)
        if cron != ['wayscloud-backup-%s-%s' % (db_type, db_name)]:
            wrong.append('%s cron files: %s' % (db_type, cron))
        created = catalog_rows(state_dir, "SELECT count(*) FROM history WHERE event = 'created' AND db_name = ? AND id > ?",
                               db_name, since)
        if created != [(1,)]:
            wrong.append('%s creations in the history: %s' % (db_type, created))
        secret = vault.read(db_type, db_name)[0]
        if not secret or secret.get('pending'):
            wrong.append('%s Vault secret: %s' % (db_type, 'none' if not secret else 'a rotation pending'))
        elif not logs_in(servers, db_type, db_name, secret['password']):
            wrong.append("%s: Vault's password does not log in" % db_type)
    leftovers = sorted(name for name in cron_files if not name.startswith('wayscloud-'))
    if leftovers:
        wrong.append('files left in the cron folder: %s' % leftovers)
    return wrong


def mentions(prints, customers):
    """The lines of the servers' parts of a fingerprint (databases, roles, pg_hba, accounts, grants) that name one of
    ``customers``' databases."""
    found = []
    for part in ('pg_databases', 'pg_roles', 'pg_hba', 'mdb_databases', 'mdb_users', 'mdb_grants'):
        lines = prints[part].splitlines() if part == 'pg_hba' else prints[part]
        found += ['%s: %s' % (part, line) for line in lines for customer in customers if 'cust_%s_' % customer in line]
    return found


def remove(servers, backend, customer, state_dir):
    for db_type, tag in ENGINES:
        name = 'cust_%s_%s_conc' % (customer, tag)
        if backend == 'host':
            options = dict(backend='host', db_type=db_type, state_dir=state_dir, firewall_driver='none',
                           vault_url=servers['WAYSCLOUD_VAULT_ADDR'], vault_token=servers['WAYSCLOUD_VAULT_TOKEN'],
                           login_unix_socket=servers['WAYSCLOUD_PG_SOCKET_DIR' if tag == 'pg' else 'WAYSCLOUD_MDB_SOCKET'],
                           login_port=int(servers['WAYSCLOUD_PG_PORT' if tag == 'pg' else 'WAYSCLOUD_MDB_PORT']))
        else:
            options = api_options(servers, db_type)
        result = run_module('wayscloud_database', dict(options, name=name, state='absent'))
        assert not result.get('failed'), result.get('msg')


@pytest.mark.parametrize('backend', ['host', 'api'])
def test_concurrent_runs(servers, backend, tmp_path, figures):
    started = time.time()
    work = str(tmp_path)
    login = dict(postgresql=dict(login_unix_socket=servers['WAYSCLOUD_PG_SOCKET_DIR'], login_port=int(servers['WAYSCLOUD_PG_PORT'])),
                 mariadb=dict(login_unix_socket=servers['WAYSCLOUD_MDB_SOCKET'], login_port=int(servers['WAYSCLOUD_MDB_PORT'])))
    vault = dict(url=servers['WAYSCLOUD_VAULT_ADDR'], token=servers['WAYSCLOUD_VAULT_TOKEN'])
    if backend == 'host':
        state_dir, cron_dir = os.path.join(work, 'state'), os.path.join(work, 'cron.d')
        store = VaultStore(vault['url'], vault['token'])
    else:
        # The API server keeps its catalog in its state dir, its schedules beside it and its secrets under its own prefix.
        state_dir = servers['WAYSCLOUD_API_STATE_DIR']
        cron_dir = os.path.join(os.path.dirname(state_dir), 'cron.d')
        store = VaultStore(vault['url'], vault['token'], prefix='wayscloud-api/databases')
    outcome = dict(by_size={})
    problems = []
    customers = ['cc%d%s' % (size, backend[0]) for size in SIZES]
    for size in SIZES:
        customer = 'cc%d%s' % (size, backend[0])
        variables = dict(conc_backend=backend, conc_customer=customer, conc_state_dir=state_dir, conc_cron_dir=cron_dir,
                         conc_login=login, conc_api_url=servers['WAYSCLOUD_API_URL'],
                         conc_api_key=servers['WAYSCLOUD_TEST_KEY_INTERNAL'], conc_vault=vault)
        remove(servers, backend, customer, state_dir)
        begun, since = time.time(), last_event(state_dir)
        results = start_runs(size, variables, work)
        errors = [failures(output) or output[-1500:] for rc, output in results if rc != 0]
        wrong = check(servers, variables, state_dir, cron_dir, store, since)
        if creations(results) != [1, 1]:
            wrong.append('runs that got a new password, per engine: %s' % creations(results))
        remove(servers, backend, customer, state_dir)
        for key, value in (('runs', size), ('errors', len(errors)), ('inconsistencies', len(wrong))):
            FIGURES[key] += value
        outcome['by_size'][size] = dict(errors=len(errors), inconsistencies=len(wrong), seconds=round(time.time() - begun, 1))
        problems += ['%d runs: error %s' % (size, error) for error in errors] + ['%d runs: %s' % (size, item) for item in wrong]
    # Once everything is removed again, nothing of these customers is left on the servers.
    left = mentions(fingerprint(servers), customers)
    if left:
        problems.append('left on the servers after removal: %s' % left)
        FIGURES['inconsistencies'] += 1
    outcome['seconds'] = int(time.time() - started)
    FIGURES[backend] = outcome
    figures('concurrency', FIGURES)
    assert problems == []
