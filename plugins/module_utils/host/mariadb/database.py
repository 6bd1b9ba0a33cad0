# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MariaDB: databases and their users, in SQL with backtick-quoted identifiers and bound values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import ipaddress
import os
import re
import time

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict, MissingLibrary
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Owner
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import (
    Access, Driver, first_line, remembered)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import mysql_native_password_hash

DEFAULT_SOCKET = '/run/mysqld/mysqld.sock'
# A user's accounts: these local ones from creation on, and one per firewall rule (host/firewall.py).
# There is no '%' account: an address reaches the database only through a rule.
LOCAL_HOSTS = ('localhost', '127.0.0.1', '::1')
PRIMARY_HOST = LOCAL_HOSTS[0]
_UNKNOWN_THREAD = 1094
# InnoDB answers DROP with this for a moment after a table's tablespace was discarded and another's imported.
_LOCK_WAIT_TIMEOUT = 1205
_DROP_ATTEMPTS = 10
# An authentication plugin's name, put into ALTER USER as a word (it cannot be a bound value).
_PLUGIN = re.compile(r'[a-z0-9_]+')
# Which catalog each user's network accounts belong to (docs/security.md, one owner per database): MariaDB accounts
# carry no comment, so the collection keeps a table of its own, readable by administrators only.
OWNERS_SCHEMA = 'wayscloud'
OWNERS_TABLE = '`wayscloud`.`access_owners`'
_NO_TABLE = (1049, 1146)  # unknown database, unknown table: no owner recorded yet
# The lock every catalog's writers of the accounts take (GET_LOCK names are server-wide).
ACCESS_LOCK = 'wayscloud.databases.access'


def import_pymysql():
    """Imported on first use, so that modules not talking to MariaDB never need it."""
    try:
        import pymysql
    except ImportError as exc:
        raise MissingLibrary('pymysql', 'install PyMySQL for the Python that runs the module (%s)' % exc)
    return pymysql


def account_host(network):
    """A CIDR block as the host part of a MariaDB account: an address, or IPv4 address/netmask."""
    network = ipaddress.ip_network(network)
    if network.num_addresses == 1:
        return str(network.network_address)
    if network.version == 6:
        raise ValidationError('ip_address %s: MariaDB accounts can name single IPv6 addresses only, not networks'
                              % network)
    return '%s/%s' % (network.network_address, network.netmask)


def connection_limit(value):
    """MAX_USER_CONNECTIONS as the server keeps it (0: none) as the collection shows it (None: none)."""
    return int(value or 0) or None


def network_of_host(host):
    """The CIDR block an account's host part admits ('%' admits everything)."""
    if host == '%':
        return '0.0.0.0/0'
    try:
        return str(ipaddress.ip_network(host, strict=False))
    except ValueError:
        return host


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
    new_database_needs_access_lines = False  # a new user's accounts are local only: closed from the start
    access_label = 'MariaDB accounts'
    access_follows_user = True

    def _connect(self, db_name=None):
        pymysql = import_pymysql()
        params = dict(user=self.login.user or self.default_user, connect_timeout=self.login.connect_timeout,
                      autocommit=True, charset='utf8mb4', database=db_name)
        if self.login.host and not self.login.unix_socket:
            params.update(host=self.login.host, port=self.port)
        else:  # TLS over a local socket protects nothing, and PyMySQL would build a context for it on each connection
            params.update(unix_socket=self.login.unix_socket or DEFAULT_SOCKET, ssl_disabled=True)
        if self.login.password:
            params['password'] = self.login.password
        try:
            return pymysql.connect(**params)
        except pymysql.Error as exc:
            raise BackendError('could not connect to MariaDB at %s as %s: %s'
                               % (self.where(), params['user'], first_line(exc)))

    def _errors(self):
        return import_pymysql().Error

    # The user is named like its database; its primary (localhost) account carries the connection limit.
    # information_schema compares without regard to case: BINARY keeps cust_abc_* and cust_ABC_* apart. The plain
    # comparisons beside it let the server look one schema and one account up instead of reading them all.
    _DATABASES = ('SELECT s.SCHEMA_NAME, u.User, u.max_user_connections FROM information_schema.SCHEMATA s'
                  ' LEFT JOIN mysql.user u ON u.User = s.SCHEMA_NAME AND BINARY u.User = BINARY s.SCHEMA_NAME'
                  ' AND u.Host = %s')

    @staticmethod
    def _database_row(row):
        name, owner, limit = row
        return dict(db_name=name, owner=owner, connection_limit=connection_limit(limit), comment=None)

    def _read_database(self, db_name):
        rows = self.execute(self._DATABASES + ' WHERE s.SCHEMA_NAME = %s AND BINARY s.SCHEMA_NAME = %s',
                            (PRIMARY_HOST, db_name, db_name))
        return self._database_row(rows[0]) if rows else None

    def list_databases(self, prefix):
        """Every database whose name starts with ``prefix`` (a plain string, not a pattern)."""
        rows = self.execute(self._DATABASES + ' WHERE BINARY LEFT(s.SCHEMA_NAME, CHAR_LENGTH(%s)) = %s'
                            ' ORDER BY s.SCHEMA_NAME', (PRIMARY_HOST, prefix, prefix))
        return [self._database_row(row) for row in rows]

    def size_bytes(self, db_name):
        rows = self.execute('SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES'
                            ' WHERE BINARY TABLE_SCHEMA = %s', (db_name,))
        return int(rows[0][0])

    def metric_counters(self, db_name):
        """Per-database counters for metrics: only the storage (the rest is per server on MariaDB)."""
        folder = os.path.join(self.execute('SELECT @@datadir')[0][0], db_name)
        if os.path.isdir(folder) and os.access(folder, os.R_OK | os.X_OK):
            size = sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))
        else:
            size = self.size_bytes(db_name)
        return dict(storage_bytes=size)

    def server_counters(self):
        status = dict((name, int(value)) for name, value in self.execute(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Innodb_buffer_pool_read_requests',"
            " 'Innodb_buffer_pool_reads')"))
        requests, reads = status.get('Innodb_buffer_pool_read_requests'), status.get('Innodb_buffer_pool_reads')
        return dict(max_connections=int(self.execute('SELECT @@max_connections')[0][0]),
                    total_queries=status.get('Questions'), cache_hits=None if requests is None else requests - (reads or 0),
                    cache_misses=reads)

    def pid_file(self):
        return self.execute('SELECT @@pid_file')[0][0]

    def user_hosts(self, username):
        return [row[0] for row in self.execute('SELECT Host FROM mysql.user WHERE User = %s', (username,))]

    def server_version(self):
        return self.execute('SELECT VERSION()')[0][0]

    def user_exists(self, username):
        return bool(self._accounts_of(username))

    def create_database(self, db_name, username, password, connection_limit, description):
        """The database, then its user's local accounts with rights on it alone; undone again if they fail (a user
        adopted, kept for copies, gets back the password and limits it had)."""
        if self.execute('SELECT @@have_symlink')[0][0] == 'YES':
            self.warnings.append('MariaDB has symbolic links on: a tenant can put table files anywhere the server may'
                                 ' write (CREATE TABLE ... DATA DIRECTORY); set symbolic-links = 0 (the db_server role'
                                 ' does)')
        kept = self.user_state(username)
        existing = [account[0] for account in kept or ()]
        self.execute('CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' % quote_identifier(db_name))
        try:
            password_hash = mysql_native_password_hash(password)
            for host in LOCAL_HOSTS:
                if host not in existing:
                    self._create_account(db_name, username, host, password_hash, connection_limit)
            if existing:  # a kept user: its grants went with its old database, its accounts keep an old password
                self.set_owner(db_name, username)
                self.set_password(username, password)
                self.set_connection_limit(db_name, username, connection_limit)
        except BackendError:
            self.drop_database(db_name)
            if kept is None:
                self.drop_user(username)
            else:
                self.restore_user_state(username, kept)
            raise

    def _create_account(self, db_name, username, host, password_hash, connection_limit):
        self.execute('CREATE USER %s@%s IDENTIFIED BY PASSWORD %s WITH MAX_USER_CONNECTIONS %s',
                     (username, host, password_hash, connection_limit or 0))
        self.execute('GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s' % quote_grant_database(db_name), (username, host))

    def check_access(self, db_name, user, networks):
        """The user's accounts against the ones ``networks`` call for (one per allowed network, with the password hash
        and max_user_connections of its primary account and its grant on the database), and the catalog the
        collection's table of owners names: an Access."""
        return Access(self._owner_of(user),
                      [(network, message) for network, message, dummy in self._account_changes(db_name, user, networks)])

    def set_accesses(self, accesses, owner):
        """Make the accounts of each database's user in ``accesses`` ({db_name: (user, networks)}, or None for a
        database that is gone: no network accounts for the user named like it) what its networks call for, recorded
        as ``owner``'s while there are any."""
        recorded, marks, actions = {}, {}, []  # all read first: each statement makes what was read stale
        for db_name, access in sorted(accesses.items()):
            user, networks = access or (db_name, ())
            marks[user], recorded[user] = owner if networks else None, self._owner_of(user)
            actions += [action for dummy, dummy, action in self._account_changes(db_name, user, networks)]
        self._record_owners(dict((user, mark) for user, mark in marks.items() if recorded.get(user) != mark))
        for action in actions:
            action()

    def _account_changes(self, db_name, user, networks):
        """[(network, message, action)]: what makes the user's accounts differ from what ``networks`` call for, and
        the statement that repairs each."""
        accounts = self._accounts_of(user)
        if not accounts:
            return []
        primary = accounts.get(PRIMARY_HOST) or accounts[sorted(accounts)[0]]
        password_hash, plugin, limit = primary[0], primary[1], int(primary[2])
        wanted = dict((account_host(network), network) for network in networks)
        grant = 'GRANT ALL PRIVILEGES ON %s.* TO ' % quote_grant_database(db_name)

        def account(host):
            return "MariaDB account '%s'@'%s'" % (user, host)

        missing = [(host, network) for host, network in sorted(wanted.items()) if host not in accounts]
        if missing and (not password_hash or plugin != 'mysql_native_password'):
            # Refused when the access is checked, before a list's write: the item that asks for it fails, not the list.
            raise Conflict('MariaDB user %s has no password hash to give a network account (plugin %s):'
                           ' rotate its credentials first' % (user, plugin))
        changes = [(network, '%s missing' % account(host),
                    functools.partial(self._create_account, db_name, user, host, password_hash, limit))
                   for host, network in missing]
        changes += [(network_of_host(host), '%s not declared' % account(host),
                     functools.partial(self.execute, 'DROP USER %s@%s', (user, host)))
                    for host in sorted(accounts) if host not in wanted and host not in LOCAL_HOSTS]
        for host, network in sorted(wanted.items()):
            if host not in accounts:
                continue
            if accounts[host][:2] != (password_hash, plugin):
                changes.append((network, '%s has another password than its primary account' % account(host),
                                functools.partial(self._same_password, user, host, plugin, password_hash)))
            if int(accounts[host][2]) != limit:
                changes.append((network, '%s has max_user_connections %s, not %s' % (account(host), accounts[host][2], limit),
                                functools.partial(self.execute, 'ALTER USER %s@%s WITH MAX_USER_CONNECTIONS %s',
                                                  (user, host, limit))))
            if 'N' in self._privileges(user, db_name).get(host, 'N'):
                changes.append((network, '%s lacks ALL PRIVILEGES on %s' % (account(host), db_name),
                                functools.partial(self.execute, grant + '%s@%s', (user, host))))
        return changes

    def _same_password(self, user, host, plugin, password_hash):
        if not _PLUGIN.fullmatch(plugin or ''):
            raise BackendError('MariaDB account %s@%s has an authentication plugin this collection cannot set again'
                               % (user, PRIMARY_HOST))
        self.execute('ALTER USER %%s@%%s IDENTIFIED VIA %s USING %%s' % plugin, (user, host, password_hash))

    def _accounts_of(self, user):
        """{host: (password hash, plugin, max_user_connections)} of the user's accounts."""
        query = 'SELECT User, Host, authentication_string, plugin, max_user_connections FROM mysql.user'

        def read(where='', args=None):
            accounts = {}
            for row in self.execute(query + where, args):
                accounts.setdefault(row[0], {})[row[1]] = tuple(row[2:])
            return accounts
        return self.rows_of('accounts', user, read, ' WHERE User = %s') or {}

    def _privileges(self, user, db_name):
        """{host: 'Y'/'N' for each of _privilege_columns} of the user's accounts' rows in mysql.db for the database
        (ALL PRIVILEGES is all 'Y')."""
        # One text of Y and N per row, made by the server: a host's thousands of rows then cost four values each.
        query = 'SELECT User, Db, Host, CONCAT(%s) FROM mysql.db' % ', '.join(
            quote_identifier(c) for c in self._privilege_columns())

        def read(where='', args=None):
            rows = {}
            for row_user, row_db, host, flags in self.execute(query + where, args):
                rows.setdefault((row_user, row_db), {})[host] = flags
            return rows
        return self.rows_of('privileges', (user, quote_grant_database(db_name)[1:-1]), read,
                            ' WHERE User = %s AND Db = %s') or {}

    def _privilege_columns(self):
        """The columns of mysql.db that together make ALL PRIVILEGES on a database (GRANT OPTION is not one)."""
        return remembered(self.reads, 'columns', lambda: [
            row[0] for row in self.execute("SHOW COLUMNS FROM mysql.db LIKE '%\\_priv'") if row[0] != 'Grant_priv'])

    def _owner_of(self, user):
        """The Owner the collection's table of owners names for the user's accounts (None while it has no table)."""
        def read(where='', args=None):
            try:
                rows = self.execute('SELECT user_name, catalog_id, state_dir FROM %s%s' % (OWNERS_TABLE, where), args)
            except BackendError as exc:
                if exc.code in _NO_TABLE:
                    return {}
                raise
            return dict((name, Owner(catalog_id, state_dir)) for name, catalog_id, state_dir in rows)
        return self.rows_of('owners', user, read, ' WHERE user_name = %s')

    def _record_owners(self, owners):
        """Write the rows of the users in ``owners`` ({user: Owner, or None to delete its row}) in the table of owners,
        made on first use: a schema of the collection's own, which no customer database's user has any right on."""
        if any(owner is not None for owner in owners.values()):
            self.execute('CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4' % quote_identifier(OWNERS_SCHEMA))
            self.execute('CREATE TABLE IF NOT EXISTS %s (user_name VARCHAR(128) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,'
                         ' catalog_id VARCHAR(64) NOT NULL, state_dir TEXT NOT NULL)' % OWNERS_TABLE)
        for user, owner in sorted(owners.items()):
            if owner is not None:
                self.execute('REPLACE INTO %s (user_name, catalog_id, state_dir) VALUES (%%s, %%s, %%s)' % OWNERS_TABLE,
                             (user, owner.catalog_id, owner.state_dir))
                continue
            try:
                self.execute('DELETE FROM %s WHERE user_name = %%s' % OWNERS_TABLE, (user,))
            except BackendError as exc:
                if exc.code not in _NO_TABLE:
                    raise

    def _lock_access(self):
        if self.execute('SELECT GET_LOCK(%s, %s)', (ACCESS_LOCK, self.login.connect_timeout * 6))[0][0] != 1:
            raise BackendError('MariaDB: another catalog held the lock on the accounts (%s) too long' % ACCESS_LOCK)

    def _unlock_access(self):
        self.execute('SELECT RELEASE_LOCK(%s)', (ACCESS_LOCK,))

    def access(self):
        """(database, user, CIDR) the server lets in beyond its local accounts, read from mysql.user."""
        rows = self.execute("SELECT User, Host FROM mysql.user WHERE BINARY LEFT(User, 5) = 'cust_'")
        return set((user, user, network_of_host(host)) for user, host in rows if host not in LOCAL_HOSTS)

    def kept_settings(self, db_name):
        """Where the server keeps a database's settings, {field: {place: value}}: its connection limit on every account
        of the user named like it (as set_connection_limit sets them). MariaDB keeps no description."""
        return dict(connection_limit=dict(("account '%s'@'%s'" % (db_name, host), connection_limit(account[2]))
                                          for host, account in sorted(self._accounts_of(db_name).items())))

    def owner_drift(self, db_name, username):
        """{place: as found} of ``username``'s accounts that lack a privilege of ALL PRIVILEGES on the database (the
        grants are what makes it the database's owner); empty when none does."""
        columns = self._privilege_columns()
        privileges = self._privileges(username, db_name)
        drift = {}
        for host in sorted(self._accounts_of(username)):
            lacking = [column[:-len('_priv')].replace('_', ' ').lower()
                       for column, value in zip(columns, privileges.get(host, 'N' * len(columns))) if value != 'Y']
            if lacking:
                drift["privileges of '%s'@'%s' on %s" % (username, host, db_name)] = (
                    'none' if len(lacking) == len(columns) else 'lacks ' + ', '.join(lacking))
        return drift

    def set_owner(self, db_name, username):
        """ALL PRIVILEGES on the database to every account of ``username``."""
        for host in self.user_hosts(username):
            self.execute('GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s' % quote_grant_database(db_name), (username, host))

    def set_connection_limit(self, db_name, username, connection_limit):
        for host in self.user_hosts(username):
            self.execute('ALTER USER %s@%s WITH MAX_USER_CONNECTIONS %s', (username, host, connection_limit or 0))

    def set_password(self, username, password):
        password_hash = mysql_native_password_hash(password)
        for host in self.user_hosts(username):
            self.execute('ALTER USER %s@%s IDENTIFIED BY PASSWORD %s', (username, host, password_hash))

    def stored_password(self, username):
        """Each account's (host, plugin, authentication string): the user's password as the server keeps it."""
        return self.execute('SELECT Host, plugin, authentication_string FROM mysql.user WHERE User = %s', (username,))

    def restore_password(self, username, stored):
        """Put back what ``stored_password`` read, on each account still there (one a firewall rule's removal
        dropped meanwhile stays gone)."""
        for host, plugin, authentication in stored:
            if not _PLUGIN.fullmatch(plugin or ''):
                raise BackendError('MariaDB account %s@%s has an authentication plugin this collection cannot set'
                                   ' again' % (username, host))
            self.execute('ALTER USER IF EXISTS %%s@%%s IDENTIFIED VIA %s USING %%s' % plugin,
                         (username, host, authentication))

    def user_state(self, username):
        """What adopting ``username`` for a new database changes of it, as the server keeps it: each account's (host,
        plugin, authentication string, max_user_connections); None when it has no account."""
        return self.execute('SELECT Host, plugin, authentication_string, max_user_connections FROM mysql.user'
                            ' WHERE User = %s', (username,)) or None

    def restore_user_state(self, username, state):
        """Put back what ``user_state`` read, on each account still there."""
        self.restore_password(username, [account[:3] for account in state])
        for host, dummy, dummy, limit in state:
            self.execute('ALTER USER IF EXISTS %s@%s WITH MAX_USER_CONNECTIONS %s', (username, host, limit))

    def password_accounts(self, username, password):
        """(how many of the user's accounts take ``password``, how many it has), compared by hash (no login
        needed)."""
        stored = self.stored_password(username)
        return sum(1 for row in stored if row[2] == mysql_native_password_hash(password)), len(stored)

    def terminate_disallowed_sessions(self, db_name, username, removed, remaining):
        """After the rule for ``removed`` went: end the user's sessions that come from it and from no network
        still allowed (``remaining``). An account admits its address to all of its user's databases, so this
        is per user, not per database."""
        removed = ipaddress.ip_network(removed)
        allowed = [ipaddress.ip_network(network) for network in remaining]
        rows = self.execute('SELECT ID, HOST FROM information_schema.PROCESSLIST WHERE BINARY USER = %s', (username,))
        ended = 0
        for session_id, host in rows:
            address = (host or '').rsplit(':', 1)[0].strip('[]')
            try:
                address = ipaddress.ip_address(address)
            except ValueError:
                continue  # localhost (a socket): always allowed
            if address in removed and str(address) not in LOCAL_HOSTS and not any(address in network for network in allowed):
                ended += self._kill(session_id)
        return ended

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
        """The schema, and the grants on it (MariaDB keeps those, ready for any later schema of that name)."""
        self.terminate_sessions(db_name)
        for attempt in range(_DROP_ATTEMPTS):
            try:
                self.execute('DROP DATABASE IF EXISTS %s' % quote_identifier(db_name))
                break
            except BackendError as exc:
                if exc.code != _LOCK_WAIT_TIMEOUT or attempt == _DROP_ATTEMPTS - 1:
                    raise
                time.sleep(0.2)
        escaped = quote_grant_database(db_name)[1:-1]
        for user, host in self.execute('SELECT User, Host FROM mysql.db WHERE BINARY Db = %s', (escaped,)):
            self.execute('REVOKE ALL PRIVILEGES ON %s.* FROM %%s@%%s' % quote_grant_database(db_name), (user, host))

    def drop_user(self, username):
        for host in self.user_hosts(username):
            self.execute('DROP USER %s@%s', (username, host))
        self._record_owners({username: None})
