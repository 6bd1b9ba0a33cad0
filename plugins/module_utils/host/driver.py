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

import collections
import contextlib

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError

# A restore fills a scratch database (``wcr_<id>``) through a login of its own (``wcl_<id>``) that has no more
# rights than the database's owner: whatever the tenant planted in its dump runs with the tenant's rights only.
SCRATCH_PREFIX = 'wcr_'
LOADER_PREFIX = 'wcl_'


# One database's access on the server, as a driver reads it: the catalog whose mark it carries (an Owner, or None) and
# what differs from what was asked, as (network or None, message).
Access = collections.namedtuple('Access', 'owner problems')


def remembered(store, key, read):
    """``read()``, kept in ``store`` (a dict) under ``key`` for the next call; read afresh each time when ``store`` is
    None. A batch of firewall changes keeps what it read of each layer so, one read per layer however many databases."""
    if store is None:
        return read()
    if key not in store:
        store[key] = read()
    return store[key]


# A batch reads the rows of this many users (or databases) one query each; asked about more, it reads them all at once,
# up to this many times a batch (a list's checks, its write, its read back); after that, a query each again: a list
# whose items write now and then (each write forgets) does not read whole tables again and again.
_ONE_BY_ONE = 8
_WHOLE_READS = 3
_SPENT = ('whole reads',)  # a store's key: {key: how many times its table was read whole}; forget() keeps it


def remembered_item(store, key, item, read_one, read_all, default=None):
    """``read_one(item)``, kept in ``store`` under ``key`` like ``remembered``. A batch reads its first _ONE_BY_ONE
    items a query each and then all of them in one (``read_all()``: {item: value}; an item it lacks is ``default``):
    a task about one database reads that database's rows however many the host has, a list of thousands reads each
    table once."""
    if store is None:
        return read_one(item)
    whole = store.get((key, 'all'))
    items = store.setdefault(key, {})
    spent = store.setdefault(_SPENT, {})
    if whole is None and item not in items and len(items) >= _ONE_BY_ONE and spent.get(key, 0) < _WHOLE_READS:
        spent[key] = spent.get(key, 0) + 1
        whole = store[(key, 'all')] = read_all()
    if whole is not None:
        return whole.get(item, default)
    if item not in items:
        items[item] = read_one(item)
    return items[item]


def forget(store):
    """What ``store`` remembered is stale (after a write): it goes, but not the count of its whole reads."""
    spent = store.get(_SPENT)
    store.clear()
    if spent is not None:
        store[_SPENT] = spent


def read_once(read):
    """``read`` as a callable that reads on its first call only: a value a reader may need many times, or never."""
    found = []

    def value():
        if not found:
            found.append(read())
        return found[0]
    return value


def loader_of(scratch):
    """The short-lived login that fills scratch database ``scratch``."""
    return LOADER_PREFIX + scratch[len(SCRATCH_PREFIX):]


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
    new_database_needs_access_lines = None  # whether a new database needs lines of its own (change_access)
    access_label = None  # the access layer, as drift messages name it
    access_follows_user = None  # whether an address reaches all of a user's databases at once (a copy has no access of its own)

    def __init__(self, login, queries=None):
        """``queries``: the list to log statements in (another engine's driver's, to keep one log)."""
        self.login = login
        self.port = login.port or self.default_port
        self.public_host = login.public_host or login.host or 'localhost'
        self.queries = [] if queries is None else queries
        self.warnings = []
        self._conn = None
        self._access_locked = False
        self.reads = None  # while a batch runs: what was read of the access layer, databases and roles (remembered)

    def _connect(self, db_name=None):
        """A new administrator connection (to ``db_name``, else the server's maintenance database)."""
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

    def execute(self, query, params=None, log=True, conn=None):
        """Run one statement with bound parameters (on ``conn``, else the main connection); return all rows."""
        conn = conn or self.conn
        text = query if isinstance(query, str) else query.as_string(conn)
        if log:
            self.queries.append(text)
        if not text.lstrip().upper().startswith(('SELECT', 'SHOW')):
            self.forget_reads()  # a statement that may change what a batch remembered
        try:
            with conn.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        except self._errors() as exc:
            raise BackendError('%s: %s' % (self.label, first_line(exc)), code=error_code(exc))

    @contextlib.contextmanager
    def access_lock(self):
        """Hold the server's lock on its access layer: every catalog's writers of it take turns, whatever their state_dir
        (a state_dir's own locks keep only its own writers apart). Held by the session, so a killed process lets go;
        taken once however deep the calls nest."""
        if self._access_locked:
            yield
            return
        self._lock_access()
        self._access_locked = True
        try:
            yield
        finally:
            self._access_locked = False
            try:
                self._unlock_access()
            except BackendError:
                pass  # the session is lost, and its lock with it

    def read_database(self, db_name):
        """The database as the server has it ({db_name, owner, connection_limit, comment}), or None. A batch reads
        its first few databases a query each, then every database of the server in one (remembered_item)."""
        return remembered_item(self.reads, 'databases', db_name, self._read_database,
                               lambda: dict((database['db_name'], database) for database in self.list_databases('')))

    def rows_of(self, key, item, read, where):
        """What ``read(where, args)`` ({item: value} of the rows it reads) says of ``item``, or None: the item's rows
        alone through ``where`` (its placeholders take the item's parts), or, past a batch's first few, all rows."""
        args = item if isinstance(item, tuple) else (item,)
        return remembered_item(self.reads, key, item, lambda item: read(where, args).get(item), read)

    def forget_reads(self):
        """After a write, or once a database's lock is taken: what a batch remembered may be stale."""
        if self.reads is not None:
            forget(self.reads)

    def _lock_access(self):
        raise NotImplementedError

    def _unlock_access(self):
        raise NotImplementedError

    @contextlib.contextmanager
    def session_in(self, db_name):
        """A second administrator connection, inside ``db_name``, closed on exit (same safe session settings)."""
        conn = self._connect(db_name)
        try:
            yield conn
        finally:
            conn.close()

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
