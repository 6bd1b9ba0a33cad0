# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MariaDB: databases and their users, in SQL with backtick-quoted identifiers and bound values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, MissingLibrary
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import Driver, first_line
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import mysql_native_password_hash

DEFAULT_SOCKET = '/run/mysqld/mysqld.sock'
ANY_HOST = '%'
_UNKNOWN_THREAD = 1094


def import_pymysql():
    """Imported on first use, so that modules not talking to MariaDB never need it."""
    try:
        import pymysql
    except ImportError as exc:
        raise MissingLibrary('pymysql', 'install PyMySQL for the Python that runs the module (%s)' % exc)
    return pymysql


def quote_identifier(name):
    return '`%s`' % name.replace('`', '``')


def quote_grant_database(name):
    """A database name in GRANT ... ON, where _ and % are wildcards unless escaped."""
    return quote_identifier(name.replace('\\', '\\\\').replace('_', '\\_').replace('%', '\\%'))


class MariaDBDriver(Driver):
    db_type = 'mariadb'
    label = 'MariaDB'
    default_port = 3306
    default_user = 'root'
    url_scheme = 'mysql'

    def _connect(self):
        pymysql = import_pymysql()
        params = dict(user=self.login.user or self.default_user, connect_timeout=self.login.connect_timeout,
                      autocommit=True, charset='utf8mb4')
        if self.login.host and not self.login.unix_socket:
            params.update(host=self.login.host, port=self.port)
        else:
            params['unix_socket'] = self.login.unix_socket or DEFAULT_SOCKET
        if self.login.password:
            params['password'] = self.login.password
        try:
            return pymysql.connect(**params)
        except pymysql.Error as exc:
            raise BackendError('could not connect to MariaDB at %s as %s: %s'
                               % (self.where(), params['user'], first_line(exc)))

    def _errors(self):
        return import_pymysql().Error

    # The user is named like its database; its any-host account carries the connection limit.
    # information_schema compares without regard to case: BINARY keeps cust_abc_* and cust_ABC_* apart.
    _DATABASES = ('SELECT s.SCHEMA_NAME, u.User, u.max_user_connections FROM information_schema.SCHEMATA s'
                  ' LEFT JOIN mysql.user u ON BINARY u.User = BINARY s.SCHEMA_NAME AND u.Host = %s')

    @staticmethod
    def _database_row(row):
        name, owner, limit = row
        return dict(db_name=name, owner=owner, connection_limit=int(limit or 0) or None, comment=None)

    def read_database(self, db_name):
        rows = self.execute(self._DATABASES + ' WHERE BINARY s.SCHEMA_NAME = %s', (ANY_HOST, db_name))
        return self._database_row(rows[0]) if rows else None

    def list_databases(self, prefix):
        """Every database whose name starts with ``prefix`` (a plain string, not a pattern)."""
        rows = self.execute(self._DATABASES + ' WHERE BINARY LEFT(s.SCHEMA_NAME, CHAR_LENGTH(%s)) = %s'
                            ' ORDER BY s.SCHEMA_NAME', (ANY_HOST, prefix, prefix))
        return [self._database_row(row) for row in rows]

    def size_bytes(self, db_name):
        rows = self.execute('SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES'
                            ' WHERE BINARY TABLE_SCHEMA = %s', (db_name,))
        return int(rows[0][0])

    def user_hosts(self, username):
        return [row[0] for row in self.execute('SELECT Host FROM mysql.user WHERE User = %s', (username,))]

    def server_version(self):
        return self.execute('SELECT VERSION()')[0][0]

    def user_exists(self, username):
        return bool(self.user_hosts(username))

    def create_database(self, db_name, username, password, connection_limit, description):
        """The database, then its user with rights on it alone; undone again if the user fails."""
        self.execute('CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' % quote_identifier(db_name))
        account = (username, ANY_HOST)
        created_user = ANY_HOST not in self.user_hosts(username)
        try:
            password_hash = mysql_native_password_hash(password)
            if created_user:
                self.execute('CREATE USER %s@%s IDENTIFIED BY PASSWORD %s', account + (password_hash,))
            else:
                self.execute('ALTER USER %s@%s IDENTIFIED BY PASSWORD %s', account + (password_hash,))
            self.set_connection_limit(db_name, username, connection_limit)
            self.execute('GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s' % quote_grant_database(db_name), account)
        except BackendError:
            self.drop_database(db_name)
            if created_user:
                self.drop_user(username)
            raise

    def set_connection_limit(self, db_name, username, connection_limit):
        for host in self.user_hosts(username):
            self.execute('ALTER USER %s@%s WITH MAX_USER_CONNECTIONS %s', (username, host, connection_limit or 0))

    def set_password(self, username, password):
        password_hash = mysql_native_password_hash(password)
        for host in self.user_hosts(username):
            self.execute('ALTER USER %s@%s IDENTIFIED BY PASSWORD %s', (username, host, password_hash))

    def password_matches(self, username, password):
        """Whether every account of the user has ``password`` (compared by hash, no login needed)."""
        rows = self.execute('SELECT authentication_string FROM mysql.user WHERE User = %s', (username,))
        return bool(rows) and all(row[0] == mysql_native_password_hash(password) for row in rows)

    def terminate_user_sessions(self, username):
        terminated = 0
        for session_id in self._session_ids(None, username):
            terminated += self._kill(session_id)
        return terminated

    def set_description(self, db_name, description):
        """MariaDB has no comment on a database: the catalog alone keeps the description."""

    def _session_ids(self, db_name, username):
        """Sessions on the database (its default schema) or of its user, except our own."""
        return [row[0] for row in self.execute(
            'SELECT ID FROM information_schema.PROCESSLIST WHERE (BINARY DB = %s OR BINARY USER = %s)'
            " AND ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Killed')", (db_name, username))]

    def _kill(self, session_id):
        """1 if the session was killed, 0 if it had ended meanwhile."""
        try:
            self.execute('KILL CONNECTION %s', (session_id,))
        except BackendError as exc:
            if exc.code != _UNKNOWN_THREAD:
                raise
            return 0
        return 1

    def count_sessions(self, db_name):
        return len(self._session_ids(db_name, db_name))

    def terminate_sessions(self, db_name):
        return sum(self._kill(session_id) for session_id in self._session_ids(db_name, db_name))

    def drop_database(self, db_name):
        self.terminate_sessions(db_name)
        self.execute('DROP DATABASE IF EXISTS %s' % quote_identifier(db_name))

    def drop_user(self, username):
        for host in self.user_hosts(username):
            self.execute('DROP USER %s@%s', (username, host))
