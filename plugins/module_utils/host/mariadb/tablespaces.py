# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MariaDB tables copied as InnoDB tablespace files: ``FLUSH TABLES ... FOR EXPORT`` and a file copy for a
snapshot, ``ALTER TABLE ... IMPORT TABLESPACE`` into the restore's scratch schema: disk speed instead of
replaying SQL through one client.

Which tables go this way (``split``): base InnoDB tables in a file of their own under the server's datadir
(a regular file, not a link), not partitioned, without a FULLTEXT index, named with ``[A-Za-z0-9_]`` only
(the file is then named as the table). Every other table (other engines, sequences, system-versioned tables)
goes through the logical dump, and the snapshot says which and why.

Nothing a tenant wrote runs with the administrator's rights: FLUSH, SHOW CREATE TABLE, DISCARD and IMPORT run
no stored code (no trigger fires; MariaDB allows no stored function in a CHECK, DEFAULT or generated column),
and the CREATE TABLE statements load through the restore's loader in ``--sandbox``, as the logical dump does.

Writers wait: from FLUSH to UNLOCK the exported tables are read-only (reads go on); that is the time to copy
their files, recorded with each snapshot as ``tables_locked_seconds``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import contextlib
import os
import re
import shutil
import stat
import time

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import quote_identifier

FOLDER = 'tablespaces'
DDL = 'tables.sql'
_NAME = re.compile(r'^[A-Za-z0-9_]{1,64}$')
_FILES = ('.ibd', '.cfg')
_LOCK_WAIT = 10  # seconds FLUSH waits for a tenant's lock on a table before the snapshot goes the logical way
_LOCK_WAIT_TIMEOUT = 1205
_VERSION = re.compile(r'^(\d+)\.(\d+)')

# The tables of a schema by the way they are snapshotted; ``reasons``: {table: why it is not a tablespace copy}.
Split = collections.namedtuple('Split', 'physical logical reasons')


class Unavailable(Exception):
    """The tablespaces cannot be exported now (a tenant holds a lock, or the files are not on this host)."""


def series(version):
    """(major, minor) of a server version text such as ``10.11.19-MariaDB``."""
    found = _VERSION.match(version or '')
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


class Tablespaces:
    """``run(argv)`` runs zstd; files in the datadir are the server's, so copies placed there get its owner."""

    def __init__(self, driver, run):
        self.driver = driver
        self.run = run

    def _folder(self, schema):
        return os.path.join(self.driver.execute('SELECT @@datadir')[0][0], schema)

    def split(self, db_name):
        """Split(physical, logical, reasons) of the schema's tables (views are neither: they are objects)."""
        rows = self.driver.execute(
            'SELECT TABLE_NAME, TABLE_TYPE, ENGINE, CREATE_OPTIONS FROM information_schema.TABLES'
            " WHERE BINARY TABLE_SCHEMA = %s AND TABLE_TYPE <> 'VIEW' ORDER BY TABLE_NAME", (db_name,))
        fulltext = set(row[0] for row in self.driver.execute(
            'SELECT DISTINCT TABLE_NAME FROM information_schema.STATISTICS WHERE BINARY TABLE_SCHEMA = %s'
            " AND INDEX_TYPE = 'FULLTEXT'", (db_name,)))
        folder = self._folder(db_name)  # a technical name is made of [A-Za-z0-9_]: its folder is named as it
        reasons = {}
        for name, kind, engine, options in rows:
            if kind != 'BASE TABLE':
                reasons[name] = kind.lower()
            elif engine != 'InnoDB':
                reasons[name] = '%s engine' % engine
            elif 'partitioned' in (options or '').lower():
                reasons[name] = 'partitioned'
            elif name in fulltext:
                reasons[name] = 'FULLTEXT index'
            elif not _NAME.match(name):
                reasons[name] = 'name outside [A-Za-z0-9_]'
            elif not _regular(os.path.join(folder, name + '.ibd')):
                reasons[name] = 'no file of its own under the datadir'
        physical = [row[0] for row in rows if row[0] not in reasons]
        return Split(physical, sorted(reasons), reasons)

    @contextlib.contextmanager
    def exported(self, db_name, tables, dest):
        """Freeze ``tables`` (FLUSH ... FOR EXPORT), write their CREATE TABLE statements and copy their files into
        ``dest``; yields while they are still frozen (what else is dumped then is of the same moment), then lets
        writers go on and compresses the copies. Yields the seconds the tables were frozen so far, as a list the
        exit completes. Raises Unavailable before anything is written when the tables cannot be frozen here."""
        held = []
        if not tables:
            yield held
            return
        folder = self._folder(db_name)
        with self.driver.session_in(db_name) as conn:
            self.driver.execute('SET SESSION lock_wait_timeout = %s', (_LOCK_WAIT,), conn=conn)
            try:
                self.driver.execute('FLUSH TABLES %s FOR EXPORT' % ', '.join(quote_identifier(t) for t in tables),
                                    conn=conn)
            except BackendError as exc:
                if exc.code == _LOCK_WAIT_TIMEOUT:
                    raise Unavailable('a session held a lock on its tables for more than %d s' % _LOCK_WAIT)
                raise Unavailable('its tables changed as the snapshot began (%s)' % exc)
            started = time.monotonic()
            try:
                if self.split(db_name).physical != tables:
                    raise Unavailable('its tables changed as the snapshot began')
                if not all(_regular(os.path.join(folder, table + '.cfg')) for table in tables):
                    raise Unavailable("the server's files are not on this host (%s)" % folder)
                os.mkdir(os.path.join(dest, FOLDER), 0o700)
                self._write_ddl(conn, db_name, tables, dest)
                for table in tables:
                    for suffix in _FILES:
                        shutil.copyfile(os.path.join(folder, table + suffix), os.path.join(dest, FOLDER, table + suffix))
                yield held
            finally:
                self.driver.execute('UNLOCK TABLES', conn=conn)
                held.append(round(time.monotonic() - started, 3))
        self.run(['zstd', '-q', '-1', '-T0', '--rm', '-f', os.path.join(dest, DDL)]
                 + [os.path.join(dest, FOLDER, table + suffix) for table in tables for suffix in _FILES])

    def _write_ddl(self, conn, db_name, tables, dest):
        """CREATE TABLE as the server shows it (a table without a row format of its own takes the server's default,
        which check_restorable holds to the snapshot's: IMPORT refuses a file of another row format)."""
        with open(os.path.join(dest, DDL), 'w') as handle:
            handle.write('SET SESSION foreign_key_checks = 0;\n')
            for table in tables:
                statement = self.driver.execute('SHOW CREATE TABLE %s' % quote_identifier(table), conn=conn)[0][1]
                handle.write(statement + ';\n')

    def default_row_format(self):
        return self.driver.execute('SELECT @@innodb_default_row_format')[0][0].lower()

    def check_restorable(self, properties):
        """Refuse, before anything is touched, what InnoDB could not import here: files of a newer server (InnoDB
        reads older ones, as an in-place upgrade does), or a server that would not give each table a file."""
        made, here = series(properties['server_version']), series(self.driver.server_version())
        if made > here:
            raise Conflict('this snapshot holds InnoDB files of MariaDB %d.%d, newer than this server (%d.%d), which'
                           ' cannot read them: restore it on a server of %d.%d or newer' % (made + here + made))
        if properties['default_row_format'] != self.default_row_format():
            raise Conflict('this snapshot holds InnoDB files written when innodb_default_row_format was %s; the server'
                           ' now has %s, and its tables would not take the files' % (
                               properties['default_row_format'], self.default_row_format()))
        if not int(self.driver.execute('SELECT @@innodb_file_per_table')[0][0]):
            raise Conflict('this snapshot holds InnoDB tablespace files, which need innodb_file_per_table = ON on'
                           ' the server to be imported')

    def imported(self, scratch, folder, tables):
        """Swap the empty tables of ``scratch`` (made from the snapshot's CREATE TABLE statements) for the snapshot's
        files: discard their tablespaces, place the files as the server's, import them."""
        for table in tables:
            if not _NAME.match(table):
                raise BackendError('the snapshot names a tablespace %r this collection never writes; it is not'
                                   ' restored' % table)
        target = self._folder(scratch)
        with self.driver.session_in(scratch) as conn:
            self.driver.execute('SET SESSION foreign_key_checks = 0', conn=conn)
            for table in tables:
                self.driver.execute('ALTER TABLE %s DISCARD TABLESPACE' % quote_identifier(table), conn=conn)
            self.run(['zstd', '-q', '-d', '-f', '--output-dir-flat', target]
                     + [os.path.join(folder, FOLDER, table + suffix + '.zst') for table in tables for suffix in _FILES])
            server = os.stat(target)
            for table in tables:
                for suffix in _FILES:
                    path = os.path.join(target, table + suffix)
                    os.chown(path, server.st_uid, server.st_gid)
                    os.chmod(path, 0o660)
            for table in tables:
                self.driver.execute('ALTER TABLE %s IMPORT TABLESPACE' % quote_identifier(table), conn=conn)
                os.remove(os.path.join(target, table + '.cfg'))


def _regular(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
