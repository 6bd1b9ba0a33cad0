# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""PostgreSQL snapshots: pg_dump in directory format (parallel), pg_restore into a scratch database,
and a swap by renaming both databases in one transaction, the single moment the original changes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import time

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import DEFAULT_SOCKET_DIR

_OBJECT_IN_USE = '55006'
_SWAP_ATTEMPTS = 10


class PostgreSQLSnapshotEngine:
    """``run(argv, env=...)`` runs the tools; the password reaches them as PGPASSWORD, never in argv."""

    data_name = 'data'

    def __init__(self, driver, run, scratch_root):
        """``scratch_root`` is unused here: the password travels in PGPASSWORD."""
        self.driver = driver
        self.run = run
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
        found = re.search(r'(\d+)', self.run([name, '--version'], env=self._env()) or '')
        if not found or int(found.group(1)) < major:
            raise BackendError('%s of PostgreSQL %d or newer is needed (found: %s); install postgresql-client-%d'
                               % (name, major, found.group(1) if found else 'none', major))
        return name

    def _env(self):
        env = dict(PGAPPNAME='wayscloud.databases', PGCONNECT_TIMEOUT=str(self.driver.login.connect_timeout))
        if self.driver.login.password:
            env['PGPASSWORD'] = self.driver.login.password
        return env

    def _connection_args(self):
        login = self.driver.login
        host = login.unix_socket or login.host or DEFAULT_SOCKET_DIR
        if os.path.basename(host).startswith('.s.PGSQL.'):
            host = os.path.dirname(host)
        return ['--no-password', '--host=%s' % host, '--port=%d' % self.driver.port,
                '--username=%s' % (login.user or self.driver.default_user)]

    def properties(self, db_name):
        """What a restore needs besides the dump: the database's encoding, locale, owner and limit."""
        rows = self.driver.execute('SELECT pg_encoding_to_char(encoding), datcollate, datctype,'
                                   ' pg_get_userbyid(datdba), datconnlimit FROM pg_database WHERE datname = %s',
                                   (db_name,))
        encoding, collate, ctype, owner, limit = rows[0]
        return dict(server_version=self.driver.server_version(), encoding=encoding, collate=collate, ctype=ctype,
                    owner=owner, connection_limit=None if limit < 0 else limit, format='pg_dump directory, gzip 1')

    def dump(self, db_name, folder, jobs):
        """pg_dump's own snapshot keeps every worker on one consistent view of the database."""
        self.run([self._tool('pg_dump'), '--format=directory', '--compress=1', '--jobs=%d' % jobs,
                  '--file=%s' % os.path.join(folder, self.data_name)] + self._connection_args() + [db_name],
                 env=self._env())

    def restore_into(self, scratch, folder, properties, owner, jobs):
        """Create ``scratch`` and fill it; any error (ignored ones included) fails the restore."""
        limit = properties['connection_limit']
        self.driver.execute(self.driver.sql('CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING %s'
                                            ' LC_COLLATE %s LC_CTYPE %s CONNECTION LIMIT %s', scratch, owner),
                            (properties['encoding'], properties['collate'], properties['ctype'],
                             -1 if limit is None else limit))
        self.driver.execute(self.driver.sql('REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC', scratch))
        # --exit-on-error: the first error stops it with a failure, so no error is ever "ignored" and passed.
        self.run([self._tool('pg_restore'), '--exit-on-error', '--jobs=%d' % jobs, '--dbname=%s' % scratch]
                 + self._connection_args() + [os.path.join(folder, self.data_name)], env=self._env())

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
            self._terminate(entry['target'])
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

    def _terminate(self, db_name):
        """End every session on the database and wait (up to 5 s each) until they are gone."""
        wait = ', 5000' if self._server_major() >= 14 else ''  # PostgreSQL 13 cannot wait for them
        self.driver.execute('SELECT pg_terminate_backend(pid%s) FROM pg_stat_activity WHERE datname = %%s'
                            ' AND pid <> pg_backend_pid()' % wait, (db_name,))

    def swapped(self, entry, detail):
        if entry['new_database']:
            return self.driver.read_database(entry['target']) is not None and not self._exists(detail['scratch'])
        return self._exists(detail['aside'])

    def _exists(self, name):
        return bool(self.driver.execute('SELECT 1 FROM pg_database WHERE datname = %s', (name,)))

    def finish(self, entry, detail):
        if not entry['new_database']:
            self.driver.drop_database(detail['aside'])

    def abandon(self, entry, detail):
        self.driver.drop_database(detail['scratch'])
