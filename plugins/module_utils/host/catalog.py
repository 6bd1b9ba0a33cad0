# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's catalog: what the servers cannot tell us (owner customer, description, history).

One SQLite file in ``state_dir`` (0600 in a 0700 folder). The database servers stay the truth for
whether a database exists; the catalog adds what they do not record. History rows are only ever
added. Per-database file locks serialise writers across processes (modules, the API server,
scheduled runners) on the same host.

How this file reads, top to bottom: the schema (``_MIGRATIONS``, one version per entry), then
``_Core`` (opening, migrating, transactions, locks, and the few helpers every query goes through),
then one class per kind of record, each over its own tables: databases and their history, firewall
rules and guarded ports, settings, snapshots and the restore journal, backup policies, metrics
samples, quotas. ``Catalog`` combines them, and is what callers use. They stay in one file rather
than a file each: the schema has to stay one tuple in order, so a table's columns would sit in
another file than its queries, and each part is a screenful that needs nothing but the core.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import contextlib
import fcntl
import json
import os
import sqlite3
import uuid
from urllib.parse import quote

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now

CATALOG_FILE = 'catalog.sqlite3'
CATALOG_ID = 'catalog_id'
# A catalog as the marks it leaves on a server name it: its random id, and its state_dir for messages (None where the
# mark had no room for it).
Owner = collections.namedtuple('Owner', 'catalog_id state_dir')

# Each entry upgrades the schema by one version (PRAGMA user_version); never edit a released one.
_MIGRATIONS = (
    # 1: databases and their history
    """
    CREATE TABLE databases (
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        requested_name TEXT NOT NULL,
        username TEXT NOT NULL,
        created_at TEXT,
        description TEXT,
        connection_limit INTEGER,
        PRIMARY KEY (db_type, db_name)
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        username TEXT
    );
    CREATE INDEX history_customer ON history (customer_id, id);
    """,
    # 2: firewall rules and guarded ports
    """
    CREATE TABLE firewall_rules (
        rule_id TEXT PRIMARY KEY,
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        ip_address TEXT NOT NULL,
        port INTEGER NOT NULL,
        description TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (db_type, db_name, ip_address)
    );
    CREATE TABLE guarded_ports (port INTEGER PRIMARY KEY);
    """,
    # 3: settings
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 4: snapshots and the restore journal
    """
    CREATE TABLE snapshots (
        snapshot_id TEXT PRIMARY KEY,
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        description TEXT,
        size_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        manifest TEXT NOT NULL,
        properties TEXT NOT NULL
    );
    CREATE INDEX snapshots_database ON snapshots (db_type, db_name, created_at);
    CREATE TABLE restores (
        restore_id TEXT PRIMARY KEY,
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        target TEXT NOT NULL,
        new_database INTEGER NOT NULL,
        phase TEXT NOT NULL,
        detail TEXT NOT NULL,
        started_at TEXT NOT NULL
    );
    """,
    # 5: snapshots.automated and backup policies
    """
    ALTER TABLE snapshots ADD COLUMN automated INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE backup_policies (
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        frequency TEXT NOT NULL,
        retention_days INTEGER NOT NULL,
        time_of_day TEXT NOT NULL,
        enabled_at TEXT,
        last_slot TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (db_type, db_name)
    );
    """,
    # 6: metrics samples and quotas
    """
    CREATE TABLE metrics_samples (
        db_type TEXT NOT NULL,
        db_name TEXT NOT NULL,
        measured_at TEXT NOT NULL,
        sample TEXT NOT NULL,
        PRIMARY KEY (db_type, db_name, measured_at)
    );
    CREATE TABLE quotas (
        customer_id TEXT PRIMARY KEY,
        databases INTEGER NOT NULL,
        storage_gb REAL NOT NULL
    );
    """,
    # 7: snapshots.expires_at
    """
    ALTER TABLE snapshots ADD COLUMN expires_at TEXT;
    CREATE INDEX snapshots_expiry ON snapshots (expires_at);
    """,
    # 8: a snapshot's last restore (a caller whose answer to a restore was lost reads it)
    """
    ALTER TABLE snapshots ADD COLUMN restore_id TEXT;
    ALTER TABLE snapshots ADD COLUMN restored_at TEXT;
    ALTER TABLE snapshots ADD COLUMN restored_into TEXT;
    """,
)


def ensure_private_dir(path):
    """Create ``path`` (0700) if needed; refuse a folder others may write to (it would not stay ours)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise BackendError('cannot use state_dir %s: %s' % (path, exc.strerror))
    if mode & 0o022:
        raise BackendError('state_dir %s is writable by other users (mode %o); give the collection a folder of its own'
                           % (path, mode & 0o7777))
    return path


def gone(owner):
    """Whether the catalog that left the mark ``owner`` is no more: its state_dir holds no catalog, or another one.
    Read without creating or changing anything; whatever cannot be read (or a mark without its state_dir) counts as
    still there."""
    if not owner.state_dir:
        return False
    path = os.path.join(owner.state_dir, CATALOG_FILE)
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:  # a folder this user may not enter (state_dirs are 0700) holds a live catalog as well as any
        return False
    try:
        conn = sqlite3.connect('file:%s?mode=ro' % quote(path), uri=True, timeout=5)
        try:
            row = conn.execute('SELECT value FROM settings WHERE key = ?', (CATALOG_ID,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is None or row[0] != owner.catalog_id


class _Core:
    """The file, its schema, transactions and locks, and the helpers the records' queries go through; every read
    goes through ``_rows``, which finds nothing (and creates nothing) while the file does not exist."""

    def __init__(self, state_dir, on_lock=None):
        """``on_lock(db_type, db_name)``: called each time a lock is taken (what was read of the server before it may
        be stale)."""
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, CATALOG_FILE)
        self._conn = None
        self.on_lock = on_lock

    def _exists(self):
        return self._conn is not None or os.path.exists(self.path)

    @property
    def conn(self):
        if self._conn is None:
            ensure_private_dir(self.state_dir)
            old_umask = os.umask(0o077)
            try:
                self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self._conn.row_factory = sqlite3.Row
                self._conn.execute('PRAGMA journal_mode=WAL')
                self._migrate()
            except sqlite3.Error as exc:
                self._conn = None
                raise BackendError('catalog %s: %s' % (self.path, exc))
            finally:
                os.umask(old_umask)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _migrate(self):
        with self.transaction() as conn:
            version = conn.execute('PRAGMA user_version').fetchone()[0]
            for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                for statement in script.split(';'):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute('PRAGMA user_version = %d' % number)

    @contextlib.contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE: take the write lock up front so readers never upgrade into a deadlock."""
        conn = self.conn
        try:
            conn.execute('BEGIN IMMEDIATE')
        except sqlite3.Error as exc:
            raise BackendError('catalog %s: %s' % (self.path, exc))
        try:
            yield conn
        except sqlite3.Error as exc:
            conn.execute('ROLLBACK')
            raise BackendError('catalog %s: %s' % (self.path, exc))
        except BaseException:
            conn.execute('ROLLBACK')
            raise
        conn.execute('COMMIT')

    @contextlib.contextmanager
    def lock(self, db_type, db_name, wait=True):
        """Exclusive lock on one database (or job) across processes on this host, released on exit or death.

        Yields True; with ``wait=False`` yields False at once when another process holds it.
        """
        ensure_private_dir(self.state_dir)
        lock_dir = ensure_private_dir(os.path.join(self.state_dir, 'locks'))
        try:
            fd = os.open(os.path.join(lock_dir, '%s-%s.lock' % (db_type, db_name)), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise BackendError('cannot lock %s in %s: %s' % (db_name, lock_dir, exc.strerror))
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (IOError, OSError):
                if wait:
                    raise
                yield False
                return
            if self.on_lock is not None:
                self.on_lock(db_type, db_name)
            yield True
        finally:
            os.close(fd)

    def _rows(self, query, params=()):
        """The rows a read finds (sqlite3.Row); none while the catalog file does not exist."""
        if not self._exists():
            return []
        return self.conn.execute(query, params).fetchall()

    def _row(self, query, params):
        """The one row a read by key finds, as a dict, or None."""
        rows = self._rows(query, params)
        return dict(rows[0]) if rows else None

    def _select(self, table, order, **filters):
        """Rows of ``table`` whose columns equal the filters given (None: any), as dicts, in ``order``."""
        given = [(column, value) for column, value in sorted(filters.items()) if value is not None]
        where = ''.join(' AND %s = ?' % column for column, dummy in given)
        return [dict(row) for row in self._rows('SELECT * FROM %s WHERE 1 = 1%s ORDER BY %s' % (table, where, order),
                                                [value for dummy, value in given])]

    @staticmethod
    def _insert(conn, table, fields, row, replace=True):
        conn.execute('INSERT%s INTO %s (%s) VALUES (%s)' % (' OR REPLACE' if replace else '', table, ', '.join(fields),
                                                            ', '.join('?' * len(fields))),
                     tuple(row.get(field) for field in fields))

    def _write(self, query, params):
        """One statement in a transaction of its own; returns how many rows it changed."""
        with self.transaction() as conn:
            return conn.execute(query, params).rowcount


class _DatabaseRecords(_Core):
    """``databases``: one row per customer database this host made or adopted (owner customer, the name asked
    for, user, description, connection limit); ``history``: an event row per creation, deletion or rotation,
    only ever added. Written by the host's database service (create, update, delete), a restore into a new
    database (it adopts the copy) and a password rotation; read for ownership, listings and the info module's
    history (``lifetimes``)."""

    _DATABASE_FIELDS = ('db_type', 'db_name', 'customer_id', 'requested_name', 'username',
                        'created_at', 'description', 'connection_limit')

    def get(self, db_type, db_name):
        return self._row('SELECT * FROM databases WHERE db_type = ? AND db_name = ?', (db_type, db_name))

    def list(self, db_type=None, customer_id=None):
        return self._select('databases', 'db_type, db_name', db_type=db_type, customer_id=customer_id)

    def save(self, record):
        """Insert or replace a database's row (metadata changes, or adopting one made elsewhere)."""
        with self.transaction() as conn:
            self._upsert(conn, record)

    def record_created(self, record):
        """Store a new database and its history row in one transaction."""
        with self.transaction() as conn:
            self._upsert(conn, record)
            self._add_history(conn, 'created', record)

    def record_deleted(self, record):
        with self.transaction() as conn:
            conn.execute('DELETE FROM databases WHERE db_type = ? AND db_name = ?',
                         (record['db_type'], record['db_name']))
            self._add_history(conn, 'deleted', record)

    def record_event(self, event, record):
        """A history row for something other than create and delete (a rotation, say)."""
        with self.transaction() as conn:
            self._add_history(conn, event, record)

    def history(self, customer_id=None):
        query = 'SELECT at, event, db_type, db_name, customer_id, username FROM history'
        params = ()
        if customer_id is not None:
            query += ' WHERE customer_id = ?'
            params = (customer_id,)
        return [dict(row) for row in self._rows(query + ' ORDER BY id', params)]

    def lifetimes(self, customer_id=None):
        """Every database a customer (or anyone) ever had, one entry per life: created_at and deleted_at
        (null while it exists), oldest first; a name used again starts a new entry."""
        open_lives, lives = {}, []
        for row in self.history(customer_id):
            key = (row['db_type'], row['db_name'])
            if row['event'] == 'created':
                life = dict(db_type=row['db_type'], db_name=row['db_name'], customer_id=row['customer_id'],
                            username=row['username'], created_at=row['at'], deleted_at=None)
                lives.append(life)
                open_lives[key] = life
            elif row['event'] == 'deleted':
                life = open_lives.pop(key, None)
                if life is None:  # made before the catalog knew it
                    life = dict(db_type=row['db_type'], db_name=row['db_name'], customer_id=row['customer_id'],
                                username=row['username'], created_at=None)
                    lives.append(life)
                life['deleted_at'] = row['at']
        return lives

    @classmethod
    def _upsert(cls, conn, record):
        cls._insert(conn, 'databases', cls._DATABASE_FIELDS, record)

    @staticmethod
    def _add_history(conn, event, record):
        conn.execute('INSERT INTO history (at, event, db_type, db_name, customer_id, username)'
                     ' VALUES (?, ?, ?, ?, ?, ?)',
                     (utc_now(), event, record['db_type'], record['db_name'], record['customer_id'],
                      record.get('username')))


class _FirewallRecords(_Core):
    """``firewall_rules``: the addresses allowed to each database, with the engine port they open;
    ``guarded_ports``: every port a rule ever opened, which the packet filter keeps closed to everyone else
    after its last rule goes. Written by the host's firewall service under the host-wide firewall lock: a rule
    is saved once both layers (engine access lines and packet filter) let it in, deleted once they no longer do."""

    _RULE_FIELDS = ('rule_id', 'db_type', 'db_name', 'ip_address', 'port', 'description', 'created_at')

    def rules(self, db_type=None, db_name=None):
        """Firewall rules, of one engine or one database, oldest first."""
        return self._select('firewall_rules', 'created_at, rule_id', db_type=db_type, db_name=db_name)

    def change_rules(self, saved, deleted=()):
        """Insert or update the rules ``saved`` (their ports stay guarded by the nftables driver from then on) and
        delete those whose ids are ``deleted``, in one transaction."""
        with self.transaction() as conn:
            for rule in saved:
                self._insert(conn, 'firewall_rules', self._RULE_FIELDS, rule)
            conn.executemany('INSERT OR IGNORE INTO guarded_ports (port) VALUES (?)',
                             sorted(set((rule['port'],) for rule in saved)))
            conn.executemany('DELETE FROM firewall_rules WHERE rule_id = ?', [(rule_id,) for rule_id in deleted])

    def move_rules(self, rule_ids, db_name):
        """Give the rules ``rule_ids`` to database ``db_name`` of their engine, in one transaction (where it has a rule
        for the same address already, that one stays instead)."""
        with self.transaction() as conn:
            for rule_id in rule_ids:
                conn.execute('UPDATE OR IGNORE firewall_rules SET db_name = ? WHERE rule_id = ?', (db_name, rule_id))
                conn.execute('DELETE FROM firewall_rules WHERE rule_id = ? AND db_name <> ?', (rule_id, db_name))

    def describe_rule(self, rule_id, description):
        """Change a stored rule's description; returns whether there was one (a rule is never made here)."""
        return self._write('UPDATE firewall_rules SET description = ? WHERE rule_id = ?', (description, rule_id)) > 0

    def guarded_ports(self):
        return [row[0] for row in self._rows('SELECT port FROM guarded_ports ORDER BY port')]


class _SettingRecords(_Core):
    """``settings``: host-wide choices later runs must keep to, one text value a key (the firewall driver the
    rules are enforced with, the schedule the backup jobs were installed with, the snapshot limits). Each is
    written by the service that owns the key, the first time it acts or when the choice changes."""

    def setting(self, key):
        row = self._row('SELECT value FROM settings WHERE key = ?', (key,))
        return row['value'] if row else None

    def set_setting(self, key, value):
        self._write('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)', (key, value))

    def identity(self, create=False):
        """This catalog as an Owner: what marks its databases' access on the servers (docs/security.md, one owner per
        database). The id is made on first use with ``create``; before that (check mode) None: nothing carries it yet."""
        catalog_id = self.setting(CATALOG_ID)
        if catalog_id is None and create:
            with self.transaction() as conn:
                conn.execute('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)', (CATALOG_ID, uuid.uuid4().hex[:16]))
            catalog_id = self.setting(CATALOG_ID)
        return Owner(catalog_id, os.path.abspath(self.state_dir)) if catalog_id else None


class _SnapshotRecords(_Core):
    """``snapshots``: one row per snapshot on disk (owner customer, size, checksum, manifest, whether a backup
    job took it, when it expires, if it does, and its last restore); ``restores``: the journal of restores under way, so a restore
    a kill interrupted is finished or undone by the next operation on its target. Written by the host's snapshot
    service (take, delete, restore, sweep of the expired), the backup-policy service (expiry of automated
    snapshots when a policy is disabled) and database deletion (expiry after the grace period)."""

    _SNAPSHOT_FIELDS = ('snapshot_id', 'db_type', 'db_name', 'customer_id', 'created_at', 'description',
                        'size_bytes', 'sha256', 'manifest', 'properties', 'automated')
    _RESTORE_FIELDS = ('restore_id', 'db_type', 'db_name', 'snapshot_id', 'target', 'new_database', 'phase',
                       'detail', 'started_at')

    def snapshots(self, db_type, db_name=None):
        """Snapshots of one engine (or one database), newest first."""
        return self._select('snapshots', 'created_at DESC, snapshot_id DESC', db_type=db_type, db_name=db_name)

    def snapshot(self, snapshot_id):
        return self._row('SELECT * FROM snapshots WHERE snapshot_id = ?', (snapshot_id,))

    def save_snapshot(self, snapshot):
        with self.transaction() as conn:
            self._insert(conn, 'snapshots', self._SNAPSHOT_FIELDS, snapshot, replace=False)

    def delete_snapshot(self, snapshot_id):
        self._write('DELETE FROM snapshots WHERE snapshot_id = ?', (snapshot_id,))

    def expired_snapshots(self, now):
        """Snapshots whose ``expires_at`` is ``now`` (ISO text) or earlier, of every engine."""
        return [dict(row) for row in self._rows(
            'SELECT * FROM snapshots WHERE expires_at <= ? ORDER BY expires_at, snapshot_id', (now,))]

    def set_snapshot_expiry(self, db_type, db_name, expires_at, automated_only=False):
        """Give a database's snapshots (or its automated ones) an expiry, keeping any sooner one; None takes the
        expiry away. Returns how many rows changed."""
        where = ' AND automated = 1' if automated_only else ''
        if expires_at is None:
            return self._write('UPDATE snapshots SET expires_at = NULL WHERE db_type = ? AND db_name = ?'
                               ' AND expires_at IS NOT NULL' + where, (db_type, db_name))
        return self._write('UPDATE snapshots SET expires_at = ? WHERE db_type = ? AND db_name = ?'
                           ' AND (expires_at IS NULL OR expires_at > ?)' + where,
                           (expires_at, db_type, db_name, expires_at))

    def snapshot_bytes(self, db_type, customer_id, now):
        """Bytes of one customer's snapshots on one engine not expired at ``now``, deleted databases' included."""
        rows = self._rows('SELECT COALESCE(SUM(size_bytes), 0) FROM snapshots WHERE db_type = ?'
                          ' AND customer_id = ? AND (expires_at IS NULL OR expires_at > ?)',
                          (db_type, customer_id, now))
        return rows[0][0] if rows else 0

    def record_restore(self, entry, at):
        """The snapshot's last restore (a journal entry of ``restores``), finished at ``at``."""
        self._write('UPDATE snapshots SET restore_id = ?, restored_at = ?, restored_into = ? WHERE snapshot_id = ?',
                    (entry['restore_id'], at, entry['target'], entry['snapshot_id']))

    def restores(self, db_type, target=None):
        """Restore journal entries (restores under way or interrupted) of an engine, or into one database."""
        return self._select('restores', 'started_at', db_type=db_type, target=target)

    def save_restore(self, entry):
        with self.transaction() as conn:
            self._insert(conn, 'restores', self._RESTORE_FIELDS, entry)

    def delete_restore(self, restore_id):
        self._write('DELETE FROM restores WHERE restore_id = ?', (restore_id,))


class _BackupPolicyRecords(_Core):
    """``backup_policies``: one row per database with automated backups set (frequency, time of day, retention,
    when it was enabled, the last slot taken). Written by the host's backup-policy service (set, forget when the
    database goes) and by the scheduled backup job (``set_last_slot``), which reads every policy to find what is
    due."""

    _POLICY_FIELDS = ('db_type', 'db_name', 'enabled', 'frequency', 'retention_days', 'time_of_day', 'enabled_at',
                      'last_slot', 'updated_at')

    def backup_policy(self, db_type, db_name):
        row = self._row('SELECT * FROM backup_policies WHERE db_type = ? AND db_name = ?', (db_type, db_name))
        return dict(row, enabled=bool(row['enabled'])) if row else None

    def backup_policies(self):
        return [dict(row, enabled=bool(row['enabled'])) for row in self._select('backup_policies', 'db_type, db_name')]

    def save_backup_policy(self, policy):
        with self.transaction() as conn:
            self._insert(conn, 'backup_policies', self._POLICY_FIELDS, dict(policy, enabled=int(policy['enabled'])))

    def set_last_slot(self, db_type, db_name, slot):
        """The slot whose backup was taken (so a slot is taken once, whatever the clocks say)."""
        self._write('UPDATE backup_policies SET last_slot = ? WHERE db_type = ? AND db_name = ?',
                    (slot, db_type, db_name))

    def delete_backup_policy(self, db_type, db_name):
        self._write('DELETE FROM backup_policies WHERE db_type = ? AND db_name = ?', (db_type, db_name))


class _MetricsRecords(_Core):
    """``metrics_samples``: one JSON reading per database and time (size, sessions, counters, CPU ticks). Written
    by the scheduled metrics collector, which also drops the samples past their retention; read by the metrics
    result, whose rates come from the two newest."""

    def save_samples(self, samples, keep_after):
        """Store metric samples (dicts with db_type, db_name, measured_at) and drop those measured before
        ``keep_after`` (ISO text), in one transaction."""
        with self.transaction() as conn:
            conn.executemany('INSERT OR REPLACE INTO metrics_samples (db_type, db_name, measured_at, sample)'
                             ' VALUES (?, ?, ?, ?)',
                             [(s['db_type'], s['db_name'], s['measured_at'], json.dumps(s, sort_keys=True))
                              for s in samples])
            conn.execute('DELETE FROM metrics_samples WHERE measured_at < ?', (keep_after,))

    def samples(self, db_type, db_name, limit=2):
        """The newest samples of a database, newest first."""
        return [json.loads(row[0]) for row in self._rows(
            'SELECT sample FROM metrics_samples WHERE db_type = ? AND db_name = ? ORDER BY measured_at DESC LIMIT ?',
            (db_type, db_name, limit))]


class _QuotaRecords(_Core):
    """``quotas``: a customer's limits on this host (databases, storage in GB) a DBA set; a customer without a row
    has the defaults. Written by the quota module; read by the info module's quota and by the API server before
    a creation or a restore into a new database."""

    def quota(self, customer_id):
        return self._row('SELECT * FROM quotas WHERE customer_id = ?', (customer_id,))

    def set_quota(self, customer_id, databases, storage_gb):
        self._write('INSERT OR REPLACE INTO quotas (customer_id, databases, storage_gb) VALUES (?, ?, ?)',
                    (customer_id, databases, storage_gb))


class Catalog(_DatabaseRecords, _FirewallRecords, _SettingRecords, _SnapshotRecords, _BackupPolicyRecords,
              _MetricsRecords, _QuotaRecords):
    """The catalog in ``state_dir``: every kind of record above over one file, opened on first use; a read of a
    catalog that does not exist yet finds nothing and creates nothing."""
