# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""PostgreSQL snapshots: pg_dump in directory format (parallel), pg_restore into a scratch database,
and a swap by renaming both databases in one transaction, the single moment the original changes.

The restore never runs as the administrator: everything in a dump is the tenant's (CHECK constraints,
defaults, index expressions, materialized views, ... call the tenant's functions while they load), so
pg_restore logs in as a login of its own (``wcl_<id>``: no attribute, a member of the owner role only,
admitted by pg_hba to the scratch database alone) and works as the owner (``--role``, ``--no-owner``).
A function that resets the role gets the loader's rights, which are none; the loader is dropped, with
anything it came to own handed to the owner, before the scratch database is swapped in.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import re
import time

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import loader_of
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import (
    DEFAULT_SOCKET_DIR, SESSION_OPTIONS, import_psycopg2)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import (
    generate_password, scram_sha_256_verifier)
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import format_time

_OBJECT_IN_USE = '55006'
_SWAP_ATTEMPTS = 10
# pg_dump runs as the administrator in the tenant's database; before these releases a tenant could swap a table
# for a view while it ran and have its own function called (CVE-2024-7348). Majors not listed here are fixed.
_PG_DUMP_FIXED = {12: (12, 20), 13: (13, 16), 14: (14, 13), 15: (15, 8), 16: (16, 4)}
_LOGIN_WAIT = 10.0  # seconds for the server to load the pg_hba lines that admit a loader (a reload is asynchronous)
# Each pg_restore session builds indexes and checks foreign keys with up to this much memory: the server's own
# maintenance_work_mem, raised to at most its shared_buffers and never above 256 MB (a job each at once).
_LOAD_MEMORY_CAP = 256 * 1048576


class PostgreSQLSnapshotEngine:
    """``run(argv, env=...)`` runs the tools; a password reaches them as PGPASSWORD, never in argv.
    ``change_access(add, remove)`` rewrites some databases' lines of the pg_hba block (a scratch database's admit its
    loader)."""

    data_name = 'data'

    def __init__(self, driver, run, scratch_root, change_access):
        """``scratch_root`` is unused here: the password travels in PGPASSWORD."""
        self.driver = driver
        self.run = run
        self.change_access = change_access
        self._major = None

    def _server_major(self):
        if self._major is None:
            self._major = int(self.driver.execute('SHOW server_version_num')[0][0]) // 10000
        return self._major

    def _tool(self, name):
        """The tool of the server's major version (Debian and RHEL folders), else the one on PATH if it is new enough."""
        major = self._server_major()
        for folder in ('/usr/lib/postgresql/%d/bin' % major, '/usr/pgsql-%d/bin' % major):
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK):
                return path
        found = self._version(name)
        if found[0] < major:
            raise BackendError('%s of PostgreSQL %d or newer is needed (found: %s); install postgresql-client-%d'
                               % (name, major, found[0] or 'none', major))
        return name

    def _version(self, tool):
        """(major, minor) a tool says it is, (0, 0) when it says nothing we understand."""
        found = re.search(r'\) (\d+)\.(\d+)', self.run([tool, '--version'], env=self._env()) or '')
        return (int(found.group(1)), int(found.group(2))) if found else (0, 0)

    def _pg_dump(self):
        """pg_dump, if it is safe to run as the administrator against a tenant's database."""
        tool = self._tool('pg_dump')
        version = self._version(tool)
        if version == (0, 0):
            raise BackendError('%s --version says no version this collection understands; it is not run' % tool)
        if version < _PG_DUMP_FIXED.get(version[0], (0, 0)):
            raise BackendError('pg_dump %d.%d lets a tenant run its own functions as the administrator during a'
                               ' dump (CVE-2024-7348): install %d.%d or newer' % (version + _PG_DUMP_FIXED[version[0]]))
        return tool

    def _env(self, password=None):
        """The tools' environment: the administrator's password, or ``password`` (a loader's)."""
        env = dict(PGAPPNAME='wayscloud.databases', PGCONNECT_TIMEOUT=str(self.driver.login.connect_timeout),
                   PGOPTIONS=SESSION_OPTIONS)
        password = password or self.driver.login.password
        if password:
            env['PGPASSWORD'] = password
        return env

    def _host(self):
        login = self.driver.login
        host = login.unix_socket or login.host or DEFAULT_SOCKET_DIR
        return os.path.dirname(host) if os.path.basename(host).startswith('.s.PGSQL.') else host

    def _connection_args(self, user=None):
        return ['--no-password', '--host=%s' % self._host(), '--port=%d' % self.driver.port,
                '--username=%s' % (user or self.driver.login.user or self.driver.default_user)]

    def properties(self, db_name):
        """What a restore needs besides the dump: the database's encoding, locale, owner and limit."""
        rows = self.driver.execute('SELECT pg_encoding_to_char(encoding), datcollate, datctype,'
                                   ' pg_get_userbyid(datdba), datconnlimit FROM pg_database WHERE datname = %s',
                                   (db_name,))
        encoding, collate, ctype, owner, limit = rows[0]
        return dict(server_version=self.driver.server_version(), encoding=encoding, collate=collate, ctype=ctype,
                    owner=owner, connection_limit=None if limit < 0 else limit)

    def dump(self, db_name, folder, jobs):
        """pg_dump's own snapshot keeps every worker on one consistent view of the database. Returns what the
        snapshot's properties record of it."""
        self.run([self._pg_dump(), '--format=directory', '--compress=1', '--jobs=%d' % jobs,
                  '--file=%s' % os.path.join(folder, self.data_name)] + self._connection_args() + [db_name],
                 env=self._env())
        return dict(format='pg_dump directory, gzip 1')

    def restore_into(self, scratch, folder, properties, owner, jobs):
        """Create ``scratch`` and fill it as its owner through the loader; any error (ignored ones included)
        fails the restore. The loader is gone again when this returns."""
        limit = properties['connection_limit']
        loader, password = loader_of(scratch), generate_password()
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        self.driver.execute(self.driver.sql('CREATE ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION'
                                            ' NOBYPASSRLS INHERIT CONNECTION LIMIT %s PASSWORD %s VALID UNTIL %s'
                                            ' IN ROLE {}', loader, owner),
                            (jobs + 1, scram_sha_256_verifier(password), format_time(expires)))
        self.driver.create_closed_database(scratch, owner, 'TEMPLATE template0 ENCODING %s LC_COLLATE %s LC_CTYPE %s'
                                           ' CONNECTION LIMIT %s', (properties['encoding'], properties['collate'],
                                                                    properties['ctype'], -1 if limit is None else limit))
        self.change_access(add={scratch: loader})
        self._await_login(scratch, loader, password)
        # --exit-on-error: the first error stops it with a failure, so no error is ever "ignored" and passed.
        self.run([self._tool('pg_restore'), '--exit-on-error', '--no-owner', '--role=%s' % owner, '--no-tablespaces',
                  '--no-subscriptions', '--jobs=%d' % jobs, '--dbname=%s' % scratch]
                 + self._connection_args(loader) + [os.path.join(folder, self.data_name)],
                 env=dict(self._env(password), PGOPTIONS=self._load_options()))
        self._drop_loader(scratch, scratch, owner)

    def _load_options(self):
        """The loader's session settings, after SESSION_OPTIONS, from the administrator's view of the server (no
        tenant sets them; given at connection time, they outrank the loader's and the scratch database's own).
        synchronous_commit=off: a crash during the load loses the scratch database anyway, and the swap's
        commit (synchronous, the administrator's session) flushes the WAL of everything loaded before it."""
        current, buffers = self.driver.execute("SELECT pg_size_bytes(current_setting('maintenance_work_mem')),"
                                               " pg_size_bytes(current_setting('shared_buffers'))")[0]
        memory = max(int(current), min(int(buffers), _LOAD_MEMORY_CAP))
        return '%s -c synchronous_commit=off -c maintenance_work_mem=%dkB' % (SESSION_OPTIONS, memory // 1024)

    def _await_login(self, scratch, loader, password):
        """Wait until the server admits the loader (it reloads pg_hba.conf in its own time after the signal)."""
        psycopg2 = import_psycopg2()
        deadline = time.monotonic() + _LOGIN_WAIT
        while True:
            try:
                psycopg2.connect(dbname=scratch, user=loader, password=password, host=self._host(), port=self.driver.port,
                                 connect_timeout=self.driver.login.connect_timeout, options=SESSION_OPTIONS).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise BackendError('the restore login %s was not admitted to %s within %d s: is the collection\'s'
                                       ' block at the top of pg_hba.conf?' % (loader, scratch, _LOGIN_WAIT))
                time.sleep(0.05)

    def _drop_loader(self, scratch, db_name, owner):
        """Drop the loader of ``scratch``; what it came to own in ``db_name`` (the scratch database, or the target
        it became) goes to ``owner``. Repeatable, and a no-op when it is gone."""
        loader = loader_of(scratch)
        if not self.driver.user_exists(loader):
            return
        self._terminate('usename', loader)
        if self._exists(db_name):
            with self.driver.session_in(db_name) as conn:
                self.driver.execute(self.driver.sql('REASSIGN OWNED BY {} TO {}', loader, owner), conn=conn)
                self.driver.execute(self.driver.sql('DROP OWNED BY {}', loader), conn=conn)
        self.driver.execute(self.driver.sql('DROP OWNED BY {}', loader))
        self.driver.execute(self.driver.sql('DROP ROLE {}', loader))

    def apply_settings(self, scratch, connection_limit, description):
        """The original's database-level settings (pg_dump without --create carries none of them)."""
        self.driver.execute(self.driver.sql('ALTER DATABASE {} WITH CONNECTION LIMIT %s', scratch),
                            (-1 if connection_limit is None else connection_limit,))
        if description is not None:
            self.driver.set_description(scratch, description)

    def prepare(self, entry, detail, workdir, properties):
        """Nothing to set aside: the whole database moves with one rename."""

    def swap(self, entry, detail):
        """Rename the original aside and the scratch database in, in one transaction (retried while sessions
        reconnect); for a new database, only the scratch database is renamed."""
        renames = [(detail['scratch'], entry['target'])]
        if not entry['new_database']:
            renames.insert(0, (entry['target'], detail['aside']))
        for attempt in range(_SWAP_ATTEMPTS):
            self._terminate('datname', entry['target'])
            self.driver.execute('BEGIN')
            try:
                for old, new in renames:
                    self.driver.execute(self.driver.sql('ALTER DATABASE {} RENAME TO {}', old, new))
            except BackendError as exc:
                self.driver.execute('ROLLBACK')
                if exc.code != _OBJECT_IN_USE or attempt == _SWAP_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
                continue
            self.driver.execute('COMMIT')
            return

    def _terminate(self, column, value):
        """End every session on a database (``datname``) or of a role (``usename``) and wait (up to 5 s each)
        until they are gone."""
        wait = ', 5000' if self._server_major() >= 14 else ''  # PostgreSQL 13 cannot wait for them
        self.driver.execute('SELECT pg_terminate_backend(pid%s) FROM pg_stat_activity WHERE %s = %%s'
                            ' AND pid <> pg_backend_pid()' % (wait, column), (value,))

    def swapped(self, entry, detail):
        if entry['new_database']:
            return self.driver.read_database(entry['target']) is not None and not self._exists(detail['scratch'])
        return self._exists(detail['aside'])

    def _exists(self, name):
        return bool(self.driver.execute('SELECT 1 FROM pg_database WHERE datname = %s', (name,)))

    def finish(self, entry, detail):
        self._drop_loader(detail['scratch'], entry['target'], detail['owner'])
        if not entry['new_database']:
            self.driver.drop_database(detail['aside'])

    def abandon(self, entry, detail):
        self.driver.drop_database(detail['scratch'])
        self._drop_loader(detail['scratch'], detail['scratch'], detail['owner'])
