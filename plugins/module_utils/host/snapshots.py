# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Snapshots on a host: files with checksums, and restores that change the original only at one moment.

Layout (folders 0700, files 0600): ``<state_dir>/snapshots/<db_type>/<db_name>/<snapshot_id>/`` holds
the dump; the catalog holds its size, a manifest (every file's size and SHA-256) and the manifest's
SHA-256. A dump is written under ``<snapshot_id>.partial`` and renamed when complete, so a killed
dump never looks like a snapshot. Every restore first checks every file against the manifest.

A restore fills a scratch database (``wcr_<id>``), then the engine swaps it in (host/<engine>/snapshot.py)
and the old contents are dropped. The catalog's restore journal records each step; the next snapshot
task on the same database settles an interrupted restore: before the swap it drops the scratch
database (the original was never touched), after it finishes the swap.

Limits and fates (SNAPSHOT_LIMITS): a database holds at most ``manual`` snapshots taken on request (one
more is refused) and the backup job keeps at most ``automated`` automated ones (oldest pruned first). A
deleted database's snapshots expire ``deleted_grace_days`` after the deletion, and a disabled policy's
automated ones ``retention_days`` after it was disabled; expired ones are swept by every snapshot
operation, the backup job and database deletion on the host.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import datetime
import hashlib
import json
import os
import shutil

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Snapshots
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict, LimitReached, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import ensure_private_dir
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.snapshot import MariaDBSnapshotEngine
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.snapshot import PostgreSQLSnapshotEngine
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import format_time, parse_time, utc_now
from ansible_collections.wayscloud.databases.plugins.module_utils.snapshot_rules import (
    check_snapshot_id, new_snapshot_id, restore_needed, restored_marker, snapshot_result, target_name)

ENGINES = {'postgresql': PostgreSQLSnapshotEngine, 'mariadb': MariaDBSnapshotEngine}
_CHUNK = 1024 * 1024

# The engine's defaults; the API server's configuration (snapshot_limits) overrides them and records them in
# the catalog's settings, where the host's backup job reads them too.
SNAPSHOT_LIMITS = dict(manual=20, automated=50, deleted_grace_days=30)
_LIMIT_RANGES = dict(manual=(1, 10000), automated=(1, 10000), deleted_grace_days=(0, 3650))
LIMITS_SETTING = 'snapshot_limits'


def check_limits(limits):
    """``limits`` (some of SNAPSHOT_LIMITS' keys) checked; a message names the field and its rule."""
    if not isinstance(limits, dict):
        raise naming.ValidationError('snapshot_limits must be a mapping of %s' % ', '.join(sorted(SNAPSHOT_LIMITS)))
    for field, value in limits.items():
        if field not in _LIMIT_RANGES:
            raise naming.ValidationError('snapshot_limits.%s is unknown: use %s'
                                         % (field, ', '.join(sorted(SNAPSHOT_LIMITS))))
        low, high = _LIMIT_RANGES[field]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise naming.ValidationError('snapshot_limits.%s must be a whole number from %d to %d (got %r)'
                                         % (field, low, high, value))
    return limits


def snapshot_limits(catalog):
    """The limits this host keeps: the engine's defaults with what the catalog records over them."""
    recorded = catalog.setting(LIMITS_SETTING)
    return dict(SNAPSHOT_LIMITS, **(json.loads(recorded) if recorded else {}))


def record_limits(catalog, limits):
    """Record ``limits`` (over the defaults) for everything on this host that takes or prunes snapshots."""
    wanted = json.dumps(check_limits(dict(SNAPSHOT_LIMITS, **limits)), sort_keys=True)
    if catalog.setting(LIMITS_SETTING) != wanted:
        catalog.set_setting(LIMITS_SETTING, wanted)


def days_from_now(days, now=None):
    return format_time(parse_time(now or utc_now()) + datetime.timedelta(days=days))


def snapshot_folder(state_dir, db_type, db_name, snapshot_id):
    return os.path.join(state_dir, 'snapshots', db_type, db_name, snapshot_id)


def sweep_expired(catalog, now=None):
    """Delete every snapshot on this host whose expiry has come; one whose database's snapshots are locked now
    (a dump under way) goes at the next sweep. Returns [{db_type, db_name, snapshot_id}] of those deleted."""
    swept = []
    for row in catalog.expired_snapshots(now or utc_now()):
        with catalog.lock('snapshots', '%s-%s' % (row['db_type'], row['db_name']), wait=False) as held:
            if held:
                _remove(catalog, row)
                swept.append(dict((field, row[field]) for field in ('db_type', 'db_name', 'snapshot_id')))
    return swept


def _remove(catalog, row):
    """A snapshot's row, then its files; the caller holds its database's snapshot lock."""
    catalog.delete_snapshot(row['snapshot_id'])
    shutil.rmtree(snapshot_folder(catalog.state_dir, row['db_type'], row['db_name'], row['snapshot_id']),
                  ignore_errors=True)


def default_jobs():
    return max(1, min(4, os.cpu_count() or 1))


def file_digest(path, sync=False):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b''):
            digest.update(chunk)
        if sync:
            os.fsync(handle.fileno())
    return digest.hexdigest()


def build_manifest(folder, sync=False):
    """[[relative path, size, sha256], ...] of every file under ``folder``, sorted; made private on the way."""
    files = []
    for root, dirs, names in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
        for name in names:
            path = os.path.join(root, name)
            os.chmod(path, 0o600)
            files.append([os.path.relpath(path, folder), os.path.getsize(path), file_digest(path, sync)])
    return sorted(files)


def manifest_digest(manifest):
    return hashlib.sha256(json.dumps(manifest, separators=(',', ':')).encode()).hexdigest()


class HostSnapshots(Snapshots):
    def __init__(self, backend, run):
        self.backend = backend
        self.db_type = backend.db_type
        self.driver = backend.driver
        self.catalog = backend.catalog
        self.engine = ENGINES[self.db_type](self.driver, run, os.path.join(self.catalog.state_dir, 'work'),
                                            backend.change_access)
        self.root = os.path.join(self.catalog.state_dir, 'snapshots', self.db_type)

    # ---------------------------------------------------------------- reading
    def _result(self, row):
        item = dict(row, size_mb=round(row['size_bytes'] / 1048576.0, 2))
        return snapshot_result(item, self.db_type, row['db_name'])

    def list(self, db_name):
        """Snapshots of the database, newest first; a deleted database's stay listed until they expire."""
        naming.parse_technical_name(self.db_type, db_name)
        sweep_expired(self.catalog)
        return [self._result(row) for row in self.catalog.snapshots(self.db_type, db_name)]

    def _row(self, db_name, snapshot_id):
        """The catalog row of one of this database's snapshots; another database's is as unknown as none."""
        check_snapshot_id(snapshot_id)
        row = self.catalog.snapshot(snapshot_id)
        if row is None or row['db_type'] != self.db_type or row['db_name'] != db_name or (
                row['expires_at'] is not None and row['expires_at'] <= utc_now()):
            raise NotFound('%s has no snapshot %s' % (db_name, snapshot_id))
        return row

    def get(self, db_name, snapshot_id):
        return self._result(self._row(db_name, snapshot_id))

    def _folder(self, db_name, snapshot_id):
        return snapshot_folder(self.catalog.state_dir, self.db_type, db_name, snapshot_id)

    def verify(self, row):
        """Every file as the manifest says, and nothing else; raises before anything is touched."""
        folder = self._folder(row['db_name'], row['snapshot_id'])
        manifest = json.loads(row['manifest'])
        if manifest_digest(manifest) != row['sha256']:
            raise BackendError('snapshot %s: its manifest in the catalog does not match its checksum'
                               % row['snapshot_id'])
        if not os.path.isdir(folder):
            raise BackendError('snapshot %s: its files are missing (%s)' % (row['snapshot_id'], folder))
        found = build_manifest(folder)
        if found != manifest:
            wanted = dict((entry[0], entry) for entry in manifest)
            have = dict((entry[0], entry) for entry in found)
            bad = sorted(name for name in set(wanted) | set(have) if wanted.get(name) != have.get(name))
            raise BackendError('snapshot %s is damaged: %s differ from what was written (size or SHA-256);'
                               ' it will not be restored' % (row['snapshot_id'], ', '.join(bad[:5])))

    # ---------------------------------------------------------------- writing
    def create(self, db_name, description=None, jobs=None):
        return self._take(db_name, description, jobs, automated=False)

    def create_automated(self, db_name, description):
        """A snapshot of the backup policy's (the host's backup job takes them)."""
        return self._take(db_name, description, None, automated=True)

    def _take(self, db_name, description, jobs, automated):
        """A new snapshot; ``automated`` ones are the backup policy's, pruned after its retention and beyond
        their cap. One taken on request is refused (LimitReached) when the database has its cap of them."""
        naming.check_description(description)
        jobs = jobs or default_jobs()
        database = self.backend.existing(db_name)
        snapshot_id = new_snapshot_id()
        sweep_expired(self.catalog)
        parent = self._private(os.path.join(self.root, db_name))
        with self.catalog.lock(self.db_type, db_name):
            self.settle(db_name)
        with self.catalog.lock('snapshots', '%s-%s' % (self.db_type, db_name)):
            self._sweep(db_name, parent)
            if not automated:
                self._check_cap(db_name)
            partial = os.path.join(parent, snapshot_id + '.partial')
            os.mkdir(partial, 0o700)
            try:
                properties = self.engine.properties(db_name)
                properties.update(self.engine.dump(db_name, partial, jobs))
                if properties.get('note'):
                    self.backend.warnings.append(properties['note'])
                manifest = build_manifest(partial, sync=True)
                final = os.path.join(parent, snapshot_id)
                os.rename(partial, final)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            row = dict(snapshot_id=snapshot_id, db_type=self.db_type, db_name=db_name,
                       customer_id=database['customer_id'], created_at=utc_now(), description=description,
                       size_bytes=sum(entry[1] for entry in manifest), sha256=manifest_digest(manifest),
                       manifest=json.dumps(manifest, separators=(',', ':')),
                       properties=json.dumps(dict(properties, owner=database['username'])), automated=int(automated))
            try:
                self.catalog.save_snapshot(row)
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise
        return self._result(row)

    def _check_cap(self, db_name):
        cap = snapshot_limits(self.catalog)['manual']
        taken = [row for row in self.catalog.snapshots(self.db_type, db_name) if not row['automated']]
        if len(taken) >= cap:
            raise LimitReached('%s has %d snapshots taken on request, the most a database may keep (automated backups'
                               ' are not counted): delete those it no longer needs (wayscloud_database_snapshot with'
                               ' state: absent, or DELETE .../snapshots/{snapshot_id}) before taking another'
                               % (db_name, len(taken)))

    def _private(self, path):
        for folder in (os.path.join(self.catalog.state_dir, 'snapshots'), self.root, path):
            ensure_private_dir(folder)
        return path

    def _sweep(self, db_name, parent):
        """Remove what killed snapshots left: partial dumps, and finished ones killed before their catalog row
        was written (we hold the database's snapshot lock, so none is being written)."""
        known = set(row['snapshot_id'] for row in self.catalog.snapshots(self.db_type, db_name))
        for name in os.listdir(parent):
            if name not in known and os.path.isdir(os.path.join(parent, name)):
                shutil.rmtree(os.path.join(parent, name), ignore_errors=True)

    def delete(self, db_name, snapshot_id):
        """Returns False when the database has no such snapshot (already gone)."""
        sweep_expired(self.catalog)
        try:
            row = self._row(db_name, snapshot_id)
        except NotFound:
            return False
        with self.catalog.lock('snapshots', '%s-%s' % (self.db_type, db_name)):
            _remove(self.catalog, row)
        return True

    def last_automated(self, db_name):
        """The newest automated snapshot's row, or None."""
        return next((row for row in self.catalog.snapshots(self.db_type, db_name) if row['automated']), None)

    def prune(self, db_name, older_than):
        """Delete the automated snapshots taken before ``older_than`` (ISO text) or beyond the newest ``automated``
        of the limits, except the newest one (so failing backups never end with none); manual ones stay.
        Returns their ids."""
        automated = [row for row in self.catalog.snapshots(self.db_type, db_name) if row['automated']]
        cap = snapshot_limits(self.catalog)['automated']
        expired = [row['snapshot_id'] for number, row in enumerate(automated[1:], start=1)
                   if row['created_at'] < older_than or number >= cap]
        for snapshot_id in expired:
            self.delete(db_name, snapshot_id)
        return expired

    # ---------------------------------------------------------------- restoring
    def plan_restore(self, db_name, snapshot_id, target_db_name=None):
        """Everything a restore checks before it touches anything, the snapshot's files included.

        Returns dict(target, new_database, changed, ...): a new database that already holds this
        snapshot's restore (its description says so) needs no change; any other existing one is an error.
        """
        row = self._row(db_name, snapshot_id)
        target = target_name(self.db_type, db_name, target_db_name) if target_db_name else db_name
        new_database = target != db_name
        properties = json.loads(row['properties'])
        existing = self.backend.get(target)
        plan = dict(target=target, new_database=new_database, changed=True, row=row, existing=existing,
                    properties=properties)
        if not restore_needed(self.driver.label, db_name, snapshot_id, target, existing):
            return dict(plan, changed=False)
        plan['owner'] = properties['owner'] if new_database else existing['username']
        if not self.driver.user_exists(plan['owner']):
            raise Conflict('user %s of snapshot %s no longer exists (its database was deleted with its user), and a'
                           ' restored database needs it: create database %s again (which makes the user), then restore'
                           ' the snapshot into it or into a new name' % (plan['owner'], snapshot_id, plan['owner']))
        self.verify(row)
        return plan

    def restore(self, db_name, snapshot_id, target_db_name=None, jobs=None):
        """Restore in place, or into a new database of the same customer reachable by the same user.

        Returns (db_name restored into, changed).
        """
        check_snapshot_id(snapshot_id)
        target = target_name(self.db_type, db_name, target_db_name) if target_db_name else db_name
        with self.catalog.lock(self.db_type, target):
            self.settle(target)
            plan = self.plan_restore(db_name, snapshot_id, target_db_name)
            if plan['changed']:
                self._restore(plan['row'], target, plan['new_database'], plan['owner'], plan['existing'],
                              plan['properties'], jobs or default_jobs())
        return target, plan['changed']

    def _restore(self, row, target, new_database, owner, existing, properties, jobs):
        restore_id = binascii.hexlify(os.urandom(4)).decode()
        workdir = self._private(os.path.join(self.catalog.state_dir, 'work', 'restore-%s' % restore_id))
        detail = dict(scratch='wcr_%s' % restore_id, aside='wco_%s' % restore_id, workdir=workdir, owner=owner,
                      folder=self._folder(row['db_name'], row['snapshot_id']))
        entry = dict(restore_id=restore_id, db_type=self.db_type, db_name=row['db_name'],
                     snapshot_id=row['snapshot_id'], target=target, new_database=int(new_database),
                     phase='restoring', detail=json.dumps(detail), started_at=utc_now())
        self.catalog.save_restore(entry)
        try:
            self.engine.restore_into(detail['scratch'], detail['folder'], properties, owner, jobs)
            if new_database:
                self.engine.apply_settings(detail['scratch'], properties['connection_limit'],
                                           restored_marker(row['snapshot_id'], row['db_name']))
            else:
                self.engine.apply_settings(detail['scratch'], existing['connection_limit'],
                                           self.driver.read_database(target)['comment'])
            self.engine.prepare(entry, detail, workdir, properties)
            self._journal(entry, 'swapping', detail)
            self.engine.swap(entry, detail)
        except BaseException:
            self._settle_entry(entry)  # the swap is all or nothing: settling sees which and acts on it
            raise
        self._journal(entry, 'swapped', detail)
        self._settle_entry(entry)

    def _journal(self, entry, phase, detail):
        entry.update(phase=phase, detail=json.dumps(detail))
        self.catalog.save_restore(entry)

    def settle(self, target=None):
        """Finish or undo restores a kill interrupted (into ``target``, or every one of this engine)."""
        for entry in self.catalog.restores(self.db_type, target):
            self._settle_entry(entry)

    def _settle_entry(self, entry):
        detail = json.loads(entry['detail'])
        swapped = entry['phase'] != 'restoring' and self.engine.swapped(entry, detail)
        if swapped:
            self.engine.finish(entry, detail)
            if entry['new_database']:
                self._adopt(entry, detail)
            self.catalog.record_restore(entry, utc_now())
        else:
            self.engine.abandon(entry, detail)
        shutil.rmtree(detail['workdir'], ignore_errors=True)
        self.catalog.delete_restore(entry['restore_id'])
        if self.driver.new_database_needs_access_lines:  # the scratch database's lines go, a new database's come
            added = {entry['target']: detail['owner']} if entry['new_database'] and swapped else {}
            self.backend.change_access(add=added, remove=[detail['scratch']])

    def _adopt(self, entry, detail):
        """A database restored under a new name joins the catalog, owned by the snapshot's customer and user."""
        if self.catalog.get(self.db_type, entry['target']) is not None:
            return
        customer_id, requested_name = naming.parse_technical_name(self.db_type, entry['target'])
        server = self.driver.read_database(entry['target'])
        self.catalog.record_created(dict(
            db_type=self.db_type, db_name=entry['target'], customer_id=customer_id, requested_name=requested_name,
            username=detail['owner'], created_at=utc_now(), connection_limit=server['connection_limit'],
            description=restored_marker(entry['snapshot_id'], entry['db_name'])))
