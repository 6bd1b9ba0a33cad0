# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Database lifecycle on a host: the one implementation behind the host backend and the API server.

The database server says whether a database exists and what its connection limit is; the catalog
adds owner customer, description and creation time. Writers hold the database's catalog lock, so
two processes creating the same database at once end with one creation and one "already exists".
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils import backend, naming
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import database_result
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backup_policy import HostBackupPolicy, recorded_schedule
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
from ansible_collections.wayscloud.databases.plugins.module_utils.host.credentials import HostCredentials
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.host.firewall import HostFirewall
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import MariaDBDriver
from ansible_collections.wayscloud.databases.plugins.module_utils.host.metrics import HostMetrics
from ansible_collections.wayscloud.databases.plugins.module_utils.host.overview import HostOverview
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import PostgreSQLDriver
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import logins
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import generate_password
from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import (
    HostSnapshots, days_from_now, snapshot_limits, sweep_expired)
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import secret_for
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now

DRIVERS = {'postgresql': PostgreSQLDriver, 'mariadb': MariaDBDriver}


class HostDatabases(backend.Databases):
    def __init__(self, db_type, login, state_dir, vault=None, network=None, run=None, schedule=None, queries=None,
                 logins=None):
        """``vault``: a VaultStore to keep credentials in; ``network``: the packet-filter driver of
        firewall rules (host/network.py), needed to take a deleted database's rules away; ``run``:
        runs the dump and restore tools (``run(argv, stdin=None, env=None)``, as network.py describes);
        ``schedule``: the host/schedule.py Schedule backup policies install (default: the one the host's
        policies were installed with); ``queries``: the statement log to share (a sibling's); ``logins``:
        {db_type: ServerLogin} of other engines, for siblings (the task's own)."""
        self.db_type = naming.check_db_type(db_type)
        self.driver = DRIVERS[db_type](login, queries)
        # A batch remembers what it read of the server (driver.reads); a change, made under its database's lock,
        # reads afresh (the firewall's write forgets by itself).
        self.catalog = Catalog(state_dir, on_lock=lambda kind, name: kind == self.db_type and self.driver.forget_reads())
        self.vault = vault
        self.network = network
        self.run = run
        self.schedule = schedule
        self.logins = logins or {}
        self._firewall = None

    def credentials(self):
        return HostCredentials(self)

    def firewall(self):
        if self.network is None:
            raise BackendError('firewall rules need a packet-filter driver (firewall_driver)')
        if self._firewall is None:  # one, so that a batch spans every item of a list
            self._firewall = HostFirewall(self)
        return self._firewall

    def batch(self):
        """A list's firewall changes, each layer written once at its end (HostFirewall.batch)."""
        return self.firewall().batch() if self.network is not None else super(HostDatabases, self).batch()

    def snapshots(self):
        if self.run is None:
            raise BackendError('snapshots need a command runner for the dump tools')
        return HostSnapshots(self, self.run)

    def backup_policy(self):
        if self.run is None:
            raise BackendError('backup schedules need a command runner')
        return HostBackupPolicy(self, self.schedule or recorded_schedule(self.catalog, self.run))

    def change_access(self, add=None, remove=()):
        """The database layer's lines of these databases only (``add``: {db_name: user}), under the host's
        firewall lock: a new or restored database's own lines, a restore's scratch database's. Callers hold the
        database's lock, if any, first."""
        with self.catalog.lock('firewall', 'host'):
            self.driver.change_access(add, remove)

    def sibling(self, db_type):
        """This backend for ``db_type``: itself, or a new one (the caller closes it) with the login the task gave
        for that engine, else the one the host's runner recorded, else its default local socket; its statements
        join this one's log."""
        if db_type == self.db_type:
            return self
        login = self.logins.get(db_type) or logins(self.catalog.state_dir).get(db_type) or ServerLogin()
        return HostDatabases(db_type, login, self.catalog.state_dir, vault=self.vault, network=self.network,
                             run=self.run, schedule=self.schedule, queries=self.queries)

    def overview(self):
        """Engines, quota and history of this host (host/overview.py)."""
        return HostOverview(self)

    def metrics(self, db_name):
        """The contract's metrics of one database (host/metrics.py says where each comes from)."""
        self.existing(db_name)
        return HostMetrics(self).metrics(db_name)

    def close(self):
        self.driver.close()
        self.catalog.close()

    @property
    def queries(self):
        return self.driver.queries

    @property
    def warnings(self):
        return self.driver.warnings

    def _view(self, db_name, connection_limit, description, created_at, username=None):
        """A database's user is named like it, except for one restored under a new name (the snapshot's user)."""
        customer_id = naming.parse_technical_name(self.db_type, db_name)[0]
        username = username or db_name
        return database_result(
            db_type=self.db_type, db_name=db_name, username=username, customer_id=customer_id,
            host=self.driver.public_host, port=self.driver.port, connection_limit=connection_limit,
            description=description, created_at=created_at,
            connection_string=self.driver.connection_string(db_name, username))

    def _merge(self, server, record):
        """A database's view from the server's row and the catalog's (None when unknown to the catalog)."""
        description = record['description'] if record else server['comment']
        return self._view(server['db_name'], server['connection_limit'], description,
                          record['created_at'] if record else None, record['username'] if record else None)

    def catalog_record(self, db_name):
        """The catalog row, or one made from the name for a database the catalog did not know."""
        record = self.catalog.get(self.db_type, db_name)
        if record is None:
            customer_id, requested_name = naming.parse_technical_name(self.db_type, db_name)
            record = dict(db_type=self.db_type, db_name=db_name, customer_id=customer_id,
                          requested_name=requested_name, username=db_name)
        return record

    def _checked(self, db_name):
        """Every entry point takes only names of our scheme: the drivers and lock files rely on it."""
        naming.parse_technical_name(self.db_type, db_name)
        return db_name

    def get(self, db_name):
        """The database as a result dict, or None when the server has no such database."""
        server = self.driver.read_database(self._checked(db_name))
        if server is None:
            return None
        return self._merge(server, self.catalog.get(self.db_type, db_name))

    def find(self, requested_name):
        """Addressing by requested_name alone needs the customer, which only an API key implies."""
        raise naming.ValidationError('customer_id is required with requested_name when backend=host')

    def list(self, customer_id=None):
        """This engine's customer databases (one customer's, or all), one query to the server."""
        prefix = 'cust_%s_%s_' % (customer_id, naming.TYPE_TAGS[self.db_type]) if customer_id else 'cust_'
        records = dict((record['db_name'], record) for record in self.catalog.list(self.db_type, customer_id))
        views = []
        for server in self.driver.list_databases(prefix):
            try:
                views.append(self._merge(server, records.get(server['db_name'])))
            except naming.ValidationError:
                continue  # named like ours but not by our scheme: not a customer database
        return views

    def info(self, db_name):
        """The API's info fields; None when the database does not exist."""
        server = self.driver.read_database(self._checked(db_name))
        if server is None:
            return None
        record = self.catalog.get(self.db_type, db_name)
        created_at = self.vault.first_created(self.db_type, db_name) if self.vault else None
        return dict(db_name=db_name, db_type=self.db_type,
                    size_mb=round(self.driver.size_bytes(db_name) / 1048576.0, 2),
                    connection_count=self.driver.count_sessions(db_name),
                    connection_limit=server['connection_limit'], owner=server['owner'],
                    created_at=created_at or (record['created_at'] if record else None))

    def preview(self, db_name, connection_limit=None, description=None):
        """What ``create`` would return, without touching anything (check mode)."""
        return self._view(db_name, connection_limit, description, None)

    def create(self, customer_id, requested_name, connection_limit=None, description=None):
        """Create the database and its user; returns (database, password, created).

        When the database exists already (another process may just have made it) nothing changes:
        (database, None, False).
        """
        db_name = naming.technical_name(self.db_type, customer_id, requested_name)
        naming.check_connection_limit(connection_limit)
        naming.check_description(description)
        with self.catalog.lock(self.db_type, db_name):
            if self.run is not None and self.catalog.restores(self.db_type, db_name):
                self.snapshots().settle(db_name)  # a killed restore into this name: its leftovers go first
            existing = self.get(db_name)
            if existing is not None:
                return existing, None, False
            if self.vault:
                self.vault.check(self.db_type, db_name)
            password = generate_password()
            kept = self.driver.user_state(db_name)  # a user kept for copies restored from the database deleted before
            self.driver.create_database(db_name, db_name, password, connection_limit, description)
            record = dict(db_type=self.db_type, db_name=db_name, customer_id=customer_id,
                          requested_name=requested_name, username=db_name, created_at=utc_now(),
                          description=description, connection_limit=connection_limit)
            database = self._view(db_name, connection_limit, description, record['created_at'])
            try:
                if self.driver.new_database_needs_access_lines:
                    self.change_access({db_name: db_name})
                if kept is not None:
                    self._hand_over(db_name, self._copies(db_name))
                if self.vault:
                    self.vault.write(self.db_type, db_name, secret_for(database, password))
            except BackendError as exc:
                self._undo_creation(db_name, kept, exc)
                raise
            self.catalog.record_created(record)
        return database, password, True

    def _undo_creation(self, db_name, kept, exc):
        """Take back what a creation that failed after its database was made did, and only that: the database, its
        pg_hba lines, and its user if the creation made it; a user it adopted (kept for copies) gets back the password
        and limit it had, so the copies' logins (and the secret Vault kept for them) work again, and its copies the
        rules it took. What cannot be undone is added to ``exc``'s message."""
        try:
            self.driver.drop_database(db_name)
            if self.driver.new_database_needs_access_lines:
                self.change_access(remove=[db_name])
            if kept is None:
                self.driver.drop_user(db_name)
            else:
                self.driver.restore_user_state(db_name, kept)
                self._hand_over(db_name, [db_name])
        except BackendError as failed:
            exc.args = ('%s; then undoing the creation of %s failed too: %s' % (exc, db_name, failed),)

    def drift(self, database, wanted):
        """What the server holds beyond ``database`` (get's view) that differs from ``wanted``, {field: {place: as
        found}}: a connection limit or description (when wanted, not None) in a place the view does not show (the
        owner role's limit, another MariaDB account's, PostgreSQL's comment), and ``owner`` when the catalog's user
        no longer owns the database (``update`` gives it back). Refuses an owner that cannot be given back."""
        db_name = database['db_name']
        drift = {}
        for field, places in self.driver.kept_settings(db_name).items():
            if wanted.get(field) is not None:
                found = dict((place, value) for place, value in places.items()
                             if value not in (wanted[field], database[field]))
                if found:
                    drift[field] = found
        owner = self.driver.owner_drift(db_name, self._owner(db_name))
        if owner:
            drift['owner'] = owner
        return drift

    def _owner(self, db_name):
        """The user the catalog says owns the database; refused when giving the database back to it could hand a
        tenant's database to someone else (another customer's user) or cannot be done (the user is gone)."""
        username = self.catalog_record(db_name)['username']
        customer_id = naming.parse_technical_name(self.db_type, db_name)[0]
        if not self._customers_user(db_name, username):
            raise BackendError('the catalog in %s names %s as the user of %s database %s, which is not a user of'
                               ' customer %s: the collection will not give the database to it; correct or restore'
                               ' the catalog' % (self.catalog.state_dir, username, self.db_type, db_name, customer_id))
        if not self.driver.user_exists(username):
            raise Conflict('user %s of %s database %s no longer exists (dropped outside the collection); the'
                           ' collection does not make up a user nobody has the password of: take a snapshot,'
                           ' delete the database and create it again, then restore the snapshot into it'
                           % (username, self.db_type, db_name))
        return username

    def update(self, db_name, changes):
        """Apply ``changes`` (connection_limit, description, set in every place the server keeps them) and give the
        database back to its user if someone else came to own it (drift); returns the database afterwards."""
        naming.check_connection_limit(changes.get('connection_limit'))
        naming.check_description(changes.get('description'))
        with self.catalog.lock(self.db_type, db_name):
            self.existing(db_name)
            username = self._owner(db_name)
            if self.driver.owner_drift(db_name, username):
                self.driver.set_owner(db_name, username)
            if 'connection_limit' in changes:
                self.driver.set_connection_limit(db_name, db_name, changes['connection_limit'])
            if 'description' in changes:
                self.driver.set_description(db_name, changes['description'])
            record = self.catalog_record(db_name)
            record.update(changes)
            self.catalog.save(record)
        return self.get(db_name)

    def count_sessions(self, db_name):
        return self.driver.count_sessions(self._checked(db_name))

    def restart(self, db_name):
        """Terminate every session on this database (not the server, not other databases)."""
        self.existing(db_name)
        return self.driver.terminate_sessions(db_name)

    def _customers_user(self, db_name, username):
        """Whether ``username`` is a user of the customer of ``db_name``."""
        try:
            return naming.parse_technical_name(self.db_type, username)[0] == naming.parse_technical_name(
                self.db_type, db_name)[0]
        except naming.ValidationError:
            return False

    def _user_of(self, db_name):
        """What deleting ``db_name`` with its user does to that user: (the user, the other databases that keep it,
        whether it goes). The user is the catalog's (for a copy restored from a snapshot, the snapshot's database's);
        it stays while another database uses it, and is never dropped when it is not one of the customer's."""
        username = self.catalog_record(db_name)['username']
        others = [other for other in self.databases_of(username) if other != db_name]
        goes = not others and self._customers_user(db_name, username) and self.driver.user_exists(username)
        return username, others, goes

    def databases_of(self, username):
        """The databases the catalog says ``username`` reaches (its own, the copies restored from its snapshots), in the
        order they were made."""
        return [record['db_name'] for record in sorted(self.catalog.list(self.db_type), key=lambda record: (
            record['created_at'] or '', record['db_name'])) if record['username'] == username]

    def _copies(self, username):
        return [db_name for db_name in self.databases_of(username) if db_name != username]

    def _hand_over(self, username, names):
        """MariaDB: the rules of ``names`` go to the database that holds ``username``'s accounts now (HostFirewall.hand_over)."""
        if self.network is not None and self.driver.access_follows_user:
            self.firewall().hand_over(username, names)

    def drops_user(self, db_name):
        return self._user_of(self._checked(db_name))[2]

    def delete(self, db_name, drop_user=True):
        """Drop the database (its sessions first), with ``drop_user`` its user, its firewall rules and backup
        policy; its snapshots stay, restorable into a new name, until they expire (the host's deleted_grace_days).
        Copies restored from its snapshots are databases of their own and stay; while one does, so does the user
        that reaches it (_user_of), with its secret in Vault, and a warning says so: it goes with the last of them.

        True if anything went or a snapshot was given its expiry, for a database dropped outside the collection too.
        """
        with self.catalog.lock(self.db_type, self._checked(db_name)):
            exists = self.driver.read_database(db_name) is not None
            username, others, goes = self._user_of(db_name)
            user = username if drop_user and goes else None
            if drop_user and others and username == db_name:
                self.warnings.append('user %s stays: %s (restored from snapshots of %s) still use it; it is dropped'
                                     ' with the last of them' % (db_name, ', '.join(others), db_name))
            if self.vault and (exists or user):
                self.vault.check(self.db_type, user or db_name)
            if exists:
                record = self.catalog_record(db_name)
                self.driver.drop_database(db_name)
                self.catalog.record_deleted(record)
                if self.driver.new_database_needs_access_lines:
                    self.change_access(remove=[db_name])
            if user:
                self.driver.drop_user(user)
                if self.vault:
                    self.vault.delete(self.db_type, user)
        if not user:  # the user stays, and with it its accounts
            self._hand_over(username, [db_name])
        rules = self.firewall().forget_database(db_name) if self.network is not None else 0
        policy = self.run is not None and self.backup_policy().forget(db_name)
        fated = self._expire_snapshots(db_name)
        return bool(exists or user or rules or policy or fated)

    def _expire_snapshots(self, db_name):
        """A deleted database's snapshots get their expiry; every expired one on the host goes now."""
        expires_at = days_from_now(snapshot_limits(self.catalog)['deleted_grace_days'])
        fated = self.catalog.set_snapshot_expiry(self.db_type, db_name, expires_at) if self.catalog.snapshots(
            self.db_type, db_name) else 0
        sweep_expired(self.catalog)
        return fated
