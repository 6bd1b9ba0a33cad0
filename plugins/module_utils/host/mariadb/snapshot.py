# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MariaDB snapshots: mariadb-dump in one transaction, zstd-compressed; restore into a scratch schema.

MariaDB cannot rename a schema, so the swap moves tables: one RENAME TABLE statement (atomic since
10.6) renames the original's tables aside inside their schema and moves the scratch tables in. That
statement is the single moment the original changes. Triggers cannot change schema, so the scratch
tables lose theirs first; views, routines, events and triggers then come from a dump of the scratch
schema (objects.sql), applied after the swap by ``finish``, which a later run repeats if a kill cut it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import shutil
import tempfile

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import ensure_private_dir
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import (
    DEFAULT_SOCKET, quote_grant_database, quote_identifier)

# The dump and the restore run as pipelines; the script is fixed, every value is a positional argument.
_DUMP = 'set -o pipefail; tool="$1"; out="$2"; shift 2; "$tool" "$@" | zstd -q -1 -T0 -f -o "$out"'
_LOAD = 'set -o pipefail; tool="$1"; source="$2"; shift 2; zstd -q -dc "$source" | "$tool" "$@"'
_APPLY = 'tool="$1"; source="$2"; shift 2; "$tool" "$@" < "$source"'


class MariaDBSnapshotEngine:
    """``run(argv, env=...)`` runs the tools; the password reaches them in a 0600 defaults file, never argv."""

    data_name = 'dump.sql.zst'

    def __init__(self, driver, run, scratch_root, sync_access):
        """``scratch_root``: a private folder for the short-lived defaults files (never a snapshot's folder);
        ``sync_access`` is unused here: MariaDB accounts are made directly."""
        self.driver = driver
        self.run = run
        self.scratch_root = scratch_root

    def _tool(self, *names):
        for name in names:
            if shutil.which(name):
                return name
        raise BackendError('%s not found: install the MariaDB client (mariadb-client)' % names[0])

    @contextlib.contextmanager
    def _login_args(self):
        """Client options; the password, if any, in a defaults file of a private folder of its own that
        exists only while the tool runs."""
        login = self.driver.login
        args = []
        folder = None
        if login.password:
            ensure_private_dir(self.scratch_root)
            folder = tempfile.mkdtemp(prefix='client-', dir=self.scratch_root)
            path = os.path.join(folder, 'client.cnf')
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as handle:
                handle.write('[client]\npassword="%s"\n' % login.password.replace('\\', '\\\\').replace('"', '\\"'))
            args.append('--defaults-extra-file=%s' % path)
        args.append('--user=%s' % (login.user or self.driver.default_user))
        if login.host and not login.unix_socket:
            args += ['--host=%s' % login.host, '--port=%d' % self.driver.port, '--protocol=TCP']
        else:
            args.append('--socket=%s' % (login.unix_socket or DEFAULT_SOCKET))
        try:
            yield args
        finally:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)

    def properties(self, db_name):
        rows = self.driver.execute('SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM'
                                   ' information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME = %s', (db_name,))
        charset, collation = rows[0]
        database = self.driver.read_database(db_name)
        return dict(server_version=self.driver.server_version(), charset=charset, collation=collation,
                    owner=db_name, connection_limit=database['connection_limit'],
                    format='mariadb-dump single transaction, zstd 1')

    def dump(self, db_name, folder, jobs):
        """--single-transaction: one consistent view of InnoDB tables while the database is written to."""
        with self._login_args() as login:
            self.run(['bash', '-c', _DUMP, 'wayscloud-dump', self._tool('mariadb-dump', 'mysqldump'),
                      os.path.join(folder, self.data_name)] + login
                     + ['--single-transaction', '--routines', '--triggers', '--events', '--hex-blob',
                        '--default-character-set=utf8mb4', '--skip-dump-date', db_name])

    def _client(self, login, db_name):
        return login + ['--batch', '--default-character-set=utf8mb4', '--database=%s' % db_name]

    def restore_into(self, scratch, folder, properties, owner, jobs):
        """Create ``scratch`` and load the dump; the client stops at the first error and fails."""
        self.driver.execute('CREATE DATABASE %s CHARACTER SET %s COLLATE %s' % (
            quote_identifier(scratch), quote_identifier(properties['charset']),
            quote_identifier(properties['collation'])))
        with self._login_args() as login:
            self.run(['bash', '-c', _LOAD, 'wayscloud-load', self._tool('mariadb', 'mysql'),
                      os.path.join(folder, self.data_name)] + self._client(login, scratch))

    def apply_settings(self, scratch, connection_limit, description):
        """Limits and descriptions belong to the user and the catalog on MariaDB, not to the schema."""

    def _tables(self, schema):
        return [row[0] for row in self.driver.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE BINARY TABLE_SCHEMA = %s AND TABLE_TYPE <> 'VIEW'"
            ' ORDER BY TABLE_NAME', (schema,))]

    def _views(self, schema):
        return [row[0] for row in self.driver.execute(
            'SELECT TABLE_NAME FROM information_schema.VIEWS WHERE BINARY TABLE_SCHEMA = %s ORDER BY TABLE_NAME',
            (schema,))]

    def prepare(self, entry, detail, workdir, properties):
        """Before the swap: keep the scratch schema's non-table objects in objects.sql, then drop its triggers."""
        if entry['new_database']:
            self.driver.execute('CREATE DATABASE %s CHARACTER SET %s COLLATE %s' % (
                quote_identifier(entry['target']), quote_identifier(properties['charset']),
                quote_identifier(properties['collation'])))
        dump = self._tool('mariadb-dump', 'mysqldump')
        views = self._views(detail['scratch'])
        with self._login_args() as login:
            self.run([dump] + login + ['--no-create-info', '--no-data', '--routines', '--events', '--triggers',
                                       '--skip-comments', '--result-file=%s' % os.path.join(workdir, 'objects.sql'),
                                       detail['scratch']])
            if views:
                self.run([dump] + login + ['--no-data', '--skip-triggers', '--skip-comments',
                                           '--result-file=%s' % os.path.join(workdir, 'views.sql'),
                                           detail['scratch']] + views)
        for (trigger,) in self.driver.execute('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS'
                                              ' WHERE BINARY TRIGGER_SCHEMA = %s', (detail['scratch'],)):
            self.driver.execute('DROP TRIGGER %s.%s' % (quote_identifier(detail['scratch']), quote_identifier(trigger)))
        detail['aside'] = dict(('wco_%s_%d' % (entry['restore_id'], number), table)
                               for number, table in enumerate(self._tables(entry['target'])))
        detail['scratch_tables'] = self._tables(detail['scratch'])
        detail['views'] = bool(views)

    def swap(self, entry, detail):
        target, scratch = quote_identifier(entry['target']), quote_identifier(detail['scratch'])
        pairs = ['%s.%s TO %s.%s' % (target, quote_identifier(table), target, quote_identifier(aside))
                 for aside, table in sorted(detail['aside'].items())]
        pairs += ['%s.%s TO %s.%s' % (scratch, quote_identifier(table), target, quote_identifier(table))
                  for table in detail['scratch_tables']]
        self.driver.terminate_sessions(entry['target'])
        if pairs:
            self.driver.execute('SET SESSION lock_wait_timeout = 30')
            self.driver.execute('RENAME TABLE ' + ', '.join(pairs))

    def swapped(self, entry, detail):
        if entry['phase'] == 'swapped':
            return True
        if 'aside' not in detail:
            return False
        present = set(self._tables(entry['target']))
        if present & set(detail['aside']):
            return True
        return bool(detail['scratch_tables']) and not set(self._tables(detail['scratch'])) & set(detail['scratch_tables'])

    def finish(self, entry, detail):
        """After the swap (repeatable): old tables and objects out, the snapshot's objects in, grants for a new database."""
        target = entry['target']
        quoted = quote_identifier(target)
        for aside in sorted(detail['aside']):
            self.driver.execute('DROP TABLE IF EXISTS %s.%s' % (quoted, quote_identifier(aside)))
        for view in self._views(target):
            self.driver.execute('DROP VIEW IF EXISTS %s.%s' % (quoted, quote_identifier(view)))
        for kind, name in self.driver.execute('SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES'
                                              ' WHERE BINARY ROUTINE_SCHEMA = %s', (target,)):
            self.driver.execute('DROP %s IF EXISTS %s.%s' % (kind, quoted, quote_identifier(name)))
        for (name,) in self.driver.execute('SELECT EVENT_NAME FROM information_schema.EVENTS'
                                           ' WHERE BINARY EVENT_SCHEMA = %s', (target,)):
            self.driver.execute('DROP EVENT IF EXISTS %s.%s' % (quoted, quote_identifier(name)))
        for (name,) in self.driver.execute('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS'
                                           ' WHERE BINARY TRIGGER_SCHEMA = %s', (target,)):
            self.driver.execute('DROP TRIGGER IF EXISTS %s.%s' % (quoted, quote_identifier(name)))
        workdir = detail['workdir']
        with self._login_args() as login:
            for name in ('objects.sql', 'views.sql') if detail['views'] else ('objects.sql',):
                self.run(['bash', '-c', _APPLY, 'wayscloud-apply', self._tool('mariadb', 'mysql'),
                          os.path.join(workdir, name)] + self._client(login, target))
        self.driver.drop_database(detail['scratch'])
        if entry['new_database']:
            for host in self.driver.user_hosts(detail['owner']):
                self.driver.execute('GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s' % quote_grant_database(target),
                                    (detail['owner'], host))

    def abandon(self, entry, detail):
        self.driver.drop_database(detail['scratch'])
        if entry['new_database']:
            self.driver.drop_database(entry['target'])
