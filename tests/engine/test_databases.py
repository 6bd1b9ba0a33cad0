# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import multiprocessing
import os
import sqlite3
import stat

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import import_pymysql
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import import_psycopg2
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import scram_sha_256_verifier
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name


def create(databases, requested, **options):
    """Create cust_engtest_<tag>_<requested>, dropped again after the test."""
    databases.made.append(technical_name(databases.db_type, 'engtest', requested))
    return databases.create('engtest', requested, **options)[:2]


def connect_as(databases, user, password, db_name):
    login = databases.driver
    if databases.db_type == 'postgresql':
        return import_psycopg2().connect(host='127.0.0.1', port=login.port, user=user, password=password,
                                         dbname=db_name, connect_timeout=5)
    return import_pymysql().connect(host='127.0.0.1', port=login.port, user=user, password=password,
                                    database=db_name, connect_timeout=5)


def test_history_keeps_every_create_and_delete(engine):
    databases, state_dir = engine
    db_name = create(databases, 'history')[0]['db_name']
    databases.delete(db_name)
    create(databases, 'history')
    events = [(row['event'], row['db_name']) for row in databases.catalog.history('engtest')]
    assert events == [('created', db_name), ('deleted', db_name), ('created', db_name)]


def test_catalog_is_private_and_holds_no_password(engine):
    databases, state_dir = engine
    database, password = create(databases, 'private', description='x')
    db_name = database['db_name']
    catalog = os.path.join(state_dir, 'catalog.sqlite3')
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(catalog).st_mode) == 0o600
    databases.catalog.close()
    for path in (catalog, catalog + '-wal'):
        if os.path.exists(path):
            with open(path, 'rb') as handle:
                assert password.encode() not in handle.read()
    dump = '\n'.join(sqlite3.connect(catalog).iterdump())
    assert password not in dump and db_name in dump


def _race(db_type, login, state_dir, results):
    databases = HostDatabases(db_type, login, state_dir)
    try:
        results.put(databases.create('engtest', 'race')[1] is not None)
    finally:
        databases.close()


def test_concurrent_creates_make_one_database(engine, logins):
    databases, state_dir = engine
    databases.made.append(technical_name(databases.db_type, 'engtest', 'race'))
    results = multiprocessing.Queue()
    racers = [multiprocessing.Process(target=_race, args=(databases.db_type, logins[databases.db_type],
                                                          state_dir, results)) for dummy in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    outcomes = sorted(results.get(timeout=5) for dummy in racers)
    assert outcomes == [False, False, False, True]
    assert all(racer.exitcode == 0 for racer in racers)


def test_user_reaches_only_its_own_database(engine):
    """On MariaDB _ is a wildcard in GRANT: cust_engtest_mdb_x_y must not open cust_engtest_mdb_xzy."""
    databases, state_dir = engine
    mine, password = create(databases, 'x_y')
    other = create(databases, 'xzy')[0]
    with connect_as(databases, mine['username'], password, mine['db_name']) as conn:
        with conn.cursor() as cursor:
            cursor.execute('CREATE TABLE t (id int)')
    errors = (import_psycopg2().Error, import_pymysql().Error)
    with pytest.raises(errors):
        connect_as(databases, mine['username'], password, other['db_name'])


def test_old_password_stops_working_when_an_orphaned_user_is_reused(engine):
    databases, state_dir = engine
    database, first = create(databases, 'reuse')
    db_name = database['db_name']
    databases.delete(db_name, drop_user=False)
    second = create(databases, 'reuse')[1]
    connect_as(databases, db_name, second, db_name).close()
    with pytest.raises((import_psycopg2().Error, import_pymysql().Error)):
        connect_as(databases, db_name, first, db_name)


def test_list_and_info_show_one_customers_databases(engine):
    databases, state_dir = engine
    shop = create(databases, 'shop', connection_limit=15, description='the shop')[0]
    create(databases, 'blog')
    listed = databases.list('engtest')
    assert [item['db_name'] for item in listed] == sorted(item['db_name'] for item in listed)
    assert shop in listed and len(listed) == 2
    assert databases.list('nobody') == []
    info = databases.info(shop['db_name'])
    assert info['connection_limit'] == 15 and info['connection_count'] == 0 and info['size_mb'] >= 0
    assert info['owner'] == shop['username'] and info['created_at'] == shop['created_at']
    assert databases.info(shop['db_name'] + 'x') is None


def test_scram_verifier_matches_postgresql(logins):
    """Our verifier, recomputed with PostgreSQL's own salt, equals the one the server stores."""
    login = logins['postgresql']
    conn = import_psycopg2().connect(host=login.unix_socket, port=login.port, user='postgres', dbname='postgres')
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET password_encryption = 'scram-sha-256'")
            cursor.execute("CREATE ROLE engtest_scram PASSWORD 'pencil'")
            cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'engtest_scram'")
            stored = cursor.fetchone()[0]
            cursor.execute('DROP ROLE engtest_scram')
    finally:
        conn.close()
    salt = base64.b64decode(stored.split('$')[1].split(':')[1])
    assert scram_sha_256_verifier('pencil', salt=salt) == stored
