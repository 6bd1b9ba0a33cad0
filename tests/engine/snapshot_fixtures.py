# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A database worth snapshotting on each engine, and a fingerprint of everything a restore must keep.

The fingerprint covers tables and their rows, sequence positions, views, functions, triggers, indexes,
comments and the user's grants, so "identical" in the tests means identical in all of these.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os

from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import import_pymysql
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import block_lines, import_psycopg2

POSTGRESQL_SCHEMA = """
CREATE TABLE public.accounts (id bigserial PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL DEFAULT 0);
CREATE INDEX accounts_owner ON public.accounts (lower(owner));
COMMENT ON TABLE public.accounts IS 'customer accounts';
COMMENT ON COLUMN public.accounts.balance IS 'in EUR';
CREATE SEQUENCE public.invoice_numbers START 1000;
CREATE VIEW public.rich AS SELECT owner, balance FROM public.accounts WHERE balance > 100;
CREATE FUNCTION public.total() RETURNS numeric LANGUAGE sql AS 'SELECT COALESCE(sum(balance), 0) FROM public.accounts';
CREATE TABLE public.audit (id serial PRIMARY KEY, account bigint, at timestamptz DEFAULT now());
CREATE FUNCTION public.audit_insert() RETURNS trigger LANGUAGE plpgsql AS
  'BEGIN INSERT INTO public.audit (account) VALUES (NEW.id); RETURN NEW; END';
CREATE TRIGGER accounts_audit AFTER INSERT ON public.accounts FOR EACH ROW EXECUTE FUNCTION public.audit_insert();
INSERT INTO public.accounts (owner, balance) SELECT 'owner' || n, n * 1.5 FROM generate_series(1, 500) n;
SELECT nextval('public.invoice_numbers') FROM generate_series(1, 7);
"""

MARIADB_SCHEMA = """
CREATE TABLE accounts (id bigint AUTO_INCREMENT PRIMARY KEY, owner varchar(64) NOT NULL,
  balance decimal(12,2) NOT NULL DEFAULT 0, KEY accounts_owner (owner)) COMMENT 'customer accounts';
CREATE SEQUENCE invoice_numbers START WITH 1000;
CREATE VIEW rich AS SELECT owner, balance FROM accounts WHERE balance > 100;
CREATE FUNCTION total() RETURNS decimal(14,2) READS SQL DATA RETURN (SELECT COALESCE(SUM(balance), 0) FROM accounts);
CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, account bigint, at timestamp DEFAULT CURRENT_TIMESTAMP);
CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW INSERT INTO audit (account) VALUES (NEW.id);
INSERT INTO accounts (owner, balance) SELECT CONCAT('owner', seq), seq * 1.5 FROM seq_1_to_500;
SELECT NEXTVAL(invoice_numbers) FROM seq_1_to_7;
"""


def admin(databases, db_name):
    """A superuser connection to ``db_name`` (autocommit)."""
    login = databases.driver.login
    if databases.db_type == 'postgresql':
        conn = import_psycopg2().connect(host=login.unix_socket, port=login.port, user='postgres', dbname=db_name)
        conn.autocommit = True
        return conn
    return import_pymysql().connect(unix_socket=login.unix_socket, user='root', database=db_name, autocommit=True)


def execute(conn, script):
    with conn.cursor() as cursor:
        for statement in script.split(';\n'):
            if statement.strip():
                cursor.execute(statement)


def query(conn, sql, params=None):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(str(value) for value in row) for row in cursor.fetchall()]


def run_script(databases, db_name, script):
    """Run ``script`` (statements separated by ';\n') in the database on an administrator's connection of its own."""
    conn = admin(databases, db_name)
    try:
        execute(conn, script)
    finally:
        conn.close()


def populate(databases, db_name):
    """The schema, made as the tenant would make it: every object is its user's (a restore brings back only what
    the tenant could have made itself)."""
    if databases.db_type == 'postgresql':
        run_script(databases, db_name, 'SET ROLE %s;\n%s;\nGRANT SELECT ON public.audit TO PUBLIC'
                   % (db_name, POSTGRESQL_SCHEMA))
    else:
        run_script(databases, db_name, MARIADB_SCHEMA)


def fingerprint(databases, db_name, user=None):
    """Everything a restore must keep, as one comparable dict (``user``: the database's user, if not named like it)."""
    conn = admin(databases, db_name)
    try:
        if databases.db_type == 'postgresql':
            return _postgresql(conn, user or db_name)
        return _mariadb(conn, user or db_name)
    finally:
        conn.close()


def _digest(rows):
    return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()


def _postgresql(conn, user):
    tables = [row[0] for row in query(conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
    return dict(
        tables=dict((table, _digest(query(conn, 'SELECT t::text FROM public.%s t' % table))) for table in tables),
        sequences=query(conn, "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"),
        views=query(conn, "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1"),
        functions=query(conn, "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n"
                              " ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1"),
        triggers=query(conn, 'SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1'),
        indexes=query(conn, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
        comments=query(conn, "SELECT c.relname, obj_description(c.oid, 'pg_class'), col_description(c.oid, 3)"
                             " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                             " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"),
        grants=query(conn, "SELECT c.relname, c.relacl::text, pg_get_userbyid(c.relowner) FROM pg_class c"
                           " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1"),
        user_can=query(conn, 'SELECT has_table_privilege(%s, %s, %s), has_database_privilege(%s, current_database(),'
                             " 'CONNECT')", (user, 'public.audit', 'SELECT', user)),
    )


def _mariadb(conn, user):
    tables = query(conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                         " AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1")
    return dict(
        tables=dict((table, (_digest(query(conn, 'SELECT * FROM `%s`' % table)),
                             query(conn, 'SHOW CREATE TABLE `%s`' % table)[0][1])) for (table,) in tables),
        sequences=query(conn, 'SELECT next_not_cached_value FROM invoice_numbers'),
        # Stored views name their schema: compare them without it (a copy's views use the copy's tables).
        views=query(conn, "SELECT TABLE_NAME, REPLACE(VIEW_DEFINITION, CONCAT('`', DATABASE(), '`.'), '')"
                          ' FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1'),
        functions=query(conn, 'SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES'
                              ' WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1'),
        triggers=query(conn, 'SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS'
                             ' WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1'),
        indexes=query(conn, 'SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS'
                            ' WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2, 3'),
        grants=query(conn, 'SHOW GRANTS FOR %s@%s', (user, 'localhost')),
    )


def flip_one_byte(path):
    """Change one byte in the middle of ``path`` (same size, so only the checksum can tell)."""
    with open(path, 'r+b') as handle:
        handle.seek(os.path.getsize(path) // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x01]))


def hba_block(databases):
    """The lines of the collection's block in the PostgreSQL server's pg_hba.conf."""
    with open(databases.driver.execute('SHOW hba_file')[0][0]) as handle:
        return block_lines(handle.read())
