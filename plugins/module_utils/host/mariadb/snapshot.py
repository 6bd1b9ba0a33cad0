# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""MariaDB snapshots: the tables in one mariadb-dump transaction (zstd), the other objects as the server
describes them (objects.json); restore into a scratch schema, then a swap of tables.

Nothing a tenant wrote runs with more than the tenant's rights:
- the tables are dumped and loaded by a short-lived account (``wcl_...``) with rights on that one schema
  only, and the client loads in ``--sandbox`` mode (no client commands hidden in a dump);
- the dump holds tables and rows only: no trigger, routine, event or view, so nothing in it carries a
  DEFINER and nothing fires while it loads (MariaDB allows no stored function in a CHECK, DEFAULT or
  generated column);
- routines, views, triggers and events are kept as ``SHOW CREATE`` gave them and come back one statement
  each (no statement can smuggle another), with the tenant's own account as their DEFINER whatever the
  snapshot said, so a tenant can never gain an object that runs as someone else.

InnoDB tables in files of their own are not dumped but copied as tablespace files (host/mariadb/tablespaces.py)
and imported into the scratch schema; the other tables are dumped as above while those are frozen, so both parts
are of one moment.

MariaDB cannot rename a schema, so the swap moves tables: one RENAME TABLE statement (atomic since
10.6) renames the original's tables aside inside their schema and moves the scratch tables in. That
statement is the single moment the original changes. The objects come after the swap, in ``finish``,
which a later run repeats if a kill cut it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import ensure_private_dir
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import LOADER_PREFIX, loader_of
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import (
    DEFAULT_SOCKET, PRIMARY_HOST, quote_grant_database, quote_identifier)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.tablespaces import (
    DDL, Tablespaces, Unavailable)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import (
    generate_password, mysql_native_password_hash)

# The dump and the restore run as pipelines; the script is fixed, every value is a positional argument.
_DUMP = 'set -o pipefail; tool="$1"; out="$2"; shift 2; "$tool" "$@" | zstd -q -1 -T0 -f -o "$out"'
_LOAD = 'set -o pipefail; tool="$1"; source="$2"; shift 2; zstd -q -dc "$source" | "$tool" "$@"'
FORMAT = 'mariadb-dump tables (single transaction, zstd 1) and objects.json'
PHYSICAL_FORMAT = 'InnoDB tablespaces and mariadb-dump tables (zstd 1), objects.json'
OBJECTS = 'objects.json'
# What each login may do in its one schema: read the tables for a dump; make and fill them for a restore.
_DUMP_RIGHTS = 'SELECT, LOCK TABLES'
_LOAD_RIGHTS = 'SELECT, INSERT, CREATE, DROP, ALTER, INDEX, REFERENCES, LOCK TABLES'
# How SHOW CREATE begins: CREATE [ALGORITHM=...] DEFINER=`user`@`host` (backticks doubled inside).
_DEFINER = re.compile(r'^(CREATE (?:ALGORITHM=[A-Z]+ )?DEFINER=)(`(?:[^`]|``)*`(?:@`(?:[^`]|``)*`)?)( )')
_NO_SUCH_TABLE = 1146
# (kind, information_schema query of its names in a schema, SHOW CREATE column of the statement)
_KINDS = (
    ('PROCEDURE', "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE BINARY ROUTINE_SCHEMA = %s"
                  " AND ROUTINE_TYPE = 'PROCEDURE' ORDER BY 1", 'Create Procedure'),
    ('FUNCTION', "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE BINARY ROUTINE_SCHEMA = %s"
                 " AND ROUTINE_TYPE = 'FUNCTION' ORDER BY 1", 'Create Function'),
    ('VIEW', 'SELECT TABLE_NAME FROM information_schema.VIEWS WHERE BINARY TABLE_SCHEMA = %s ORDER BY 1', 'Create View'),
    ('TRIGGER', 'SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE BINARY TRIGGER_SCHEMA = %s'
                ' ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER', 'SQL Original Statement'),
    ('EVENT', 'SELECT EVENT_NAME FROM information_schema.EVENTS WHERE BINARY EVENT_SCHEMA = %s ORDER BY 1', 'Create Event'),
)


def dump_login(db_name):
    """The dumping login of a database: one name per database (its dumps take turns), so a login a killed dump
    left behind is dropped by the next one."""
    return LOADER_PREFIX + 'd' + hashlib.sha256(db_name.encode()).hexdigest()[:16]


class MariaDBSnapshotEngine:
    """``run(argv, env=...)`` runs the tools; a password reaches them in a 0600 defaults file, never argv."""

    data_name = 'dump.sql.zst'

    def __init__(self, driver, run, scratch_root, change_access):
        """``scratch_root``: a private folder for the short-lived defaults files (never a snapshot's folder);
        ``change_access`` is unused here: MariaDB accounts are made directly."""
        self.driver = driver
        self.run = run
        self.scratch_root = scratch_root
        self.tablespaces = Tablespaces(driver, run)

    def _tool(self, *names):
        for name in names:
            if shutil.which(name):
                return name
        raise BackendError('%s not found: install the MariaDB client (mariadb-client)' % names[0])

    @contextlib.contextmanager
    def _login_args(self, user, password):
        """Client options to log in as ``user``; the password in a defaults file of a private folder of its own
        that exists only while the tool runs."""
        login = self.driver.login
        ensure_private_dir(self.scratch_root)
        folder = tempfile.mkdtemp(prefix='client-', dir=self.scratch_root)
        path = os.path.join(folder, 'client.cnf')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            handle.write('[client]\npassword="%s"\n' % password.replace('\\', '\\\\').replace('"', '\\"'))
        args = ['--defaults-extra-file=%s' % path, '--user=%s' % user]
        if login.host and not login.unix_socket:
            args += ['--host=%s' % login.host, '--port=%d' % self.driver.port, '--protocol=TCP']
        else:
            args.append('--socket=%s' % (login.unix_socket or DEFAULT_SOCKET))
        try:
            yield args
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextlib.contextmanager
    def _loader(self, name, schema, rights):
        """A login that may do ``rights`` in ``schema`` and nothing else, from where this task connects; yields
        the tool's login options and is dropped (its sessions ended) on the way out."""
        host = self._own_host()
        password = generate_password()
        self._drop_account(name)
        self.driver.execute('CREATE USER %s@%s IDENTIFIED BY PASSWORD %s WITH MAX_USER_CONNECTIONS 2',
                            (name, host, mysql_native_password_hash(password)))
        try:
            self.driver.execute('GRANT %s ON %s.* TO %%s@%%s' % (rights, quote_grant_database(schema)), (name, host))
            with self._login_args(name, password) as login:
                yield login
        finally:
            self._drop_account(name)

    def _own_host(self):
        """The host part the server gives this task's connections (an account must match it)."""
        return self.driver.execute('SELECT USER()')[0][0].rsplit('@', 1)[1]

    def _drop_account(self, name):
        """End the account's sessions and drop it (every host of it); a no-op when it is gone."""
        self.driver.terminate_user_sessions(name)
        self.driver.drop_user(name)

    def properties(self, db_name):
        rows = self.driver.execute('SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM'
                                   ' information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME = %s', (db_name,))
        charset, collation = rows[0]
        database = self.driver.read_database(db_name)
        return dict(server_version=self.driver.server_version(), charset=charset, collation=collation,
                    owner=db_name, connection_limit=database['connection_limit'])

    def dump(self, db_name, folder, jobs):
        """The objects first (as the server describes them), then the tables: InnoDB ones as tablespace files
        while they are frozen, the others meanwhile in one transaction (--single-transaction: a consistent view
        while the database is written to). Returns what the snapshot's properties record of it, with a ``note``
        naming the tables that were dumped as SQL, and why."""
        with open(os.path.join(folder, OBJECTS), 'w') as handle:
            json.dump(self._objects(db_name), handle, sort_keys=True)
        split = self.tablespaces.split(db_name)
        try:
            with self.tablespaces.exported(db_name, split.physical, folder) as frozen:
                if split.logical:
                    self._dump_tables(db_name, folder, split.physical)
        except Unavailable as exc:
            self._dump_tables(db_name, folder, [])
            return dict(format=FORMAT, note='%s: every table was dumped as SQL, not copied as InnoDB files: %s'
                        % (db_name, exc))
        if not split.physical:
            return dict(format=FORMAT)
        why = ', '.join('%s (%s)' % (table, split.reasons[table]) for table in split.logical[:5])
        return dict(format=PHYSICAL_FORMAT, tablespaces=split.physical, tables_locked_seconds=frozen[0],
                    default_row_format=self.tablespaces.default_row_format(),
                    note='%s: %s dumped as SQL, not copied as InnoDB files' % (db_name, why) if why else None)

    def _dump_tables(self, db_name, folder, copied):
        """The schema's tables but the views and those ``copied`` as files; every name goes in one option of its own
        (a tenant's table name never reaches argv as an argument of its own)."""
        views = [row[0] for row in self.driver.execute(_KINDS[2][1], (db_name,))]
        with self._loader(dump_login(db_name), db_name, _DUMP_RIGHTS) as login:
            self.run(['bash', '-c', _DUMP, 'wayscloud-dump', self._tool('mariadb-dump', 'mysqldump'),
                      os.path.join(folder, self.data_name)] + login
                     + ['--single-transaction', '--skip-triggers', '--skip-routines', '--skip-events', '--no-tablespaces',
                        '--hex-blob', '--default-character-set=utf8mb4', '--skip-dump-date', '--skip-comments']
                     + ['--ignore-table=%s.%s' % (db_name, name) for name in views + copied] + [db_name])

    def _objects(self, db_name):
        """[{kind, name, statement, sql_mode, time_zone}] of the schema's routines, views, triggers and events,
        in an order they can be made in (views may need to wait for the views they read)."""
        found = []
        with self.driver.session_in(db_name) as conn:  # SHOW CREATE leaves the current schema's names unqualified
            self.driver.execute('SET SESSION sql_quote_show_create = 1', conn=conn)
            for kind, names, column in _KINDS:
                for (name,) in self.driver.execute(names, (db_name,), conn=conn):
                    with conn.cursor() as cursor:
                        cursor.execute('SHOW CREATE %s %s' % (kind, quote_identifier(name)))
                        row = dict(zip([field[0] for field in cursor.description], cursor.fetchone()))
                    found.append(dict(kind=kind, name=name, statement=row[column], sql_mode=row.get('sql_mode'),
                                      time_zone=row.get('time_zone')))
        return found

    def _client(self, login, db_name):
        return login + ['--batch', '--sandbox', '--default-character-set=utf8mb4', '--database=%s' % db_name]

    def restore_into(self, scratch, folder, properties, owner, jobs):
        """Create ``scratch`` and load the tables as its loader (the client stops at the first error and fails),
        then import the tablespace files into those made empty for them."""
        if properties.get('format') not in (FORMAT, PHYSICAL_FORMAT):
            raise Conflict('this snapshot was taken by an earlier version of the collection, whose dump holds'
                           ' triggers, routines and views that would load with foreign DEFINERs: it is not'
                           ' restored; take a new snapshot')
        tablespaces = properties.get('tablespaces', [])
        if tablespaces:
            self.tablespaces.check_restorable(properties)
        self.driver.execute('CREATE DATABASE %s CHARACTER SET %s COLLATE %s' % (
            quote_identifier(scratch), quote_identifier(properties['charset']),
            quote_identifier(properties['collation'])))
        dumps = [name for name in (DDL + '.zst', self.data_name) if os.path.exists(os.path.join(folder, name))]
        with self._loader(loader_of(scratch), scratch, _LOAD_RIGHTS) as login:
            for name in dumps:
                self.run(['bash', '-c', _LOAD, 'wayscloud-load', self._tool('mariadb', 'mysql'),
                          os.path.join(folder, name)] + self._client(login, scratch))
        if tablespaces:
            self.tablespaces.imported(scratch, folder, tablespaces)

    def apply_settings(self, scratch, connection_limit, description):
        """Limits and descriptions belong to the user and the catalog on MariaDB, not to the schema."""

    def _tables(self, schema):
        return [row[0] for row in self.driver.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE BINARY TABLE_SCHEMA = %s AND TABLE_TYPE <> 'VIEW'"
            ' ORDER BY TABLE_NAME', (schema,))]

    def prepare(self, entry, detail, workdir, properties):
        """Before the swap: the snapshot's objects into the restore's folder (a later run may finish without the
        snapshot), the new schema for a new database, and the names the original's tables are set aside as."""
        if entry['new_database']:
            self.driver.execute('CREATE DATABASE %s CHARACTER SET %s COLLATE %s' % (
                quote_identifier(entry['target']), quote_identifier(properties['charset']),
                quote_identifier(properties['collation'])))
        shutil.copyfile(os.path.join(detail['folder'], OBJECTS), os.path.join(workdir, OBJECTS))
        detail['aside'] = dict(('wco_%s_%d' % (entry['restore_id'], number), table)
                               for number, table in enumerate(self._tables(entry['target'])))
        detail['scratch_tables'] = self._tables(detail['scratch'])

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
        """After the swap (repeatable): old tables and objects out, the snapshot's objects in as the tenant's,
        grants for a new database."""
        target = entry['target']
        quoted = quote_identifier(target)
        self._drop_account(loader_of(detail['scratch']))
        for aside in sorted(detail['aside']):
            self.driver.execute('DROP TABLE IF EXISTS %s.%s' % (quoted, quote_identifier(aside)))
        for kind, names, column in _KINDS:
            for (name,) in self.driver.execute(names, (target,)):
                self.driver.execute('DROP %s IF EXISTS %s.%s' % (kind, quoted, quote_identifier(name)))
        with open(os.path.join(detail['workdir'], OBJECTS)) as handle:
            self._create_objects(target, detail['owner'], json.load(handle))
        self.driver.drop_database(detail['scratch'])
        if entry['new_database']:
            self.driver.set_owner(target, detail['owner'])

    def _create_objects(self, target, owner, objects):
        """Make each object in ``target`` as the snapshot describes it, with ``owner``'s primary account as its
        DEFINER. A view that reads a view not made yet waits for the next round."""
        definer = '%s@%s' % (quote_identifier(owner), quote_identifier(PRIMARY_HOST))
        with self.driver.session_in(target) as conn:
            waiting = list(objects)
            while waiting:
                failed = []
                for item in waiting:
                    try:
                        self._create_object(conn, item, definer)
                    except BackendError as exc:
                        if item['kind'] != 'VIEW' or exc.code != _NO_SUCH_TABLE:
                            raise
                        failed.append((item, exc))
                if len(failed) == len(waiting):
                    raise failed[0][1]
                waiting = [item for item, dummy in failed]

    def _create_object(self, conn, item, definer):
        statement, count = _DEFINER.subn(lambda match: match.group(1) + definer + match.group(3), item['statement'], 1)
        if not count:
            raise BackendError('the snapshot describes %s %s in a form this collection does not know; it is not made'
                               % (item['kind'].lower(), item['name']))
        self.driver.execute('SET SESSION sql_mode = %s', (item['sql_mode'] or '',), conn=conn)
        if item['time_zone']:
            self.driver.execute('SET SESSION time_zone = %s', (item['time_zone'],), conn=conn)
        self.driver.execute(statement, conn=conn, log=False)  # the tenant's text: the object's name is enough
        self.driver.queries.append('CREATE %s %s' % (item['kind'], quote_identifier(item['name'])))

    def abandon(self, entry, detail):
        self._drop_account(loader_of(detail['scratch']))
        self.driver.drop_database(detail['scratch'])
        if entry['new_database']:
            self.driver.drop_database(entry['target'])
