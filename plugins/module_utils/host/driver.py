# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the PostgreSQL and MariaDB drivers share: login settings, one lazy connection, query log.

Each engine's SQL lives in its own package (``host/postgresql``, ``host/mariadb``); this base only
opens the connection on first use, runs statements with bound parameters, and keeps the statement
texts (with placeholders, never values) so a module can return what it ran.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError


class ServerLogin:
    """How to reach the local database server as an administrator, and how clients will reach it."""

    def __init__(self, host=None, port=None, user=None, password=None, unix_socket=None,
                 public_host=None, connect_timeout=10):
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.unix_socket = unix_socket
        self.public_host = public_host
        self.connect_timeout = connect_timeout


class Driver:
    db_type = None
    label = None
    default_port = None
    default_user = None
    url_scheme = None

    def __init__(self, login):
        self.login = login
        self.port = login.port or self.default_port
        self.public_host = login.public_host or login.host or 'localhost'
        self.queries = []
        self._conn = None

    def _connect(self):
        raise NotImplementedError

    def _errors(self):
        """The driver library's base exception class."""
        raise NotImplementedError

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def where(self):
        """Where we connect, for error messages."""
        if self.login.unix_socket or not self.login.host:
            return 'socket %s (port %s)' % (self.login.unix_socket or 'default', self.port)
        return '%s:%s' % (self.login.host, self.port)

    @property
    def conn(self):
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def execute(self, query, params=None, log=True):
        """Run one statement with bound parameters; return all rows (or [] when there are none)."""
        if log:
            self.queries.append(query if isinstance(query, str) else query.as_string(self.conn))
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        except self._errors() as exc:
            raise BackendError('%s: %s' % (self.label, first_line(exc)), code=error_code(exc))

    def connection_string(self, db_name, username):
        return '%s://%s@%s:%s/%s' % (self.url_scheme, username, self.public_host, self.port, db_name)


def error_code(exc):
    """SQLSTATE for psycopg2, the numeric error for PyMySQL."""
    if getattr(exc, 'pgcode', None):
        return exc.pgcode
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
