# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Snapshots through the WaysCloud API: the same methods and shapes as host/snapshots.py.

Creating and restoring are never repeated after an unclear failure: a lost answer could mean a
second snapshot, or a second restore over data written since the first. They wait for their answer
operation_timeout seconds, not api_timeout; an answer that does not come or is lost is followed up by
reading what the server did (client.follow_up).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import database_request, follow_up
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Snapshots
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.snapshot_rules import (
    check_snapshot_id, restore_needed, restored_marker, snapshot_result, target_name)


class ApiSnapshots(Snapshots):
    def __init__(self, backend):
        self.backend = backend
        self.client = backend.client
        self.db_type = backend.db_type

    def _request(self, method, db_name, *parts, **kwargs):
        return database_request(self.client, method, self.db_type, db_name, *parts, **kwargs)

    def _items(self, db_name):
        """The database's snapshots as the API lists them."""
        return (self._request('GET', db_name, 'snapshots') or {}).get('snapshots', [])

    def list(self, db_name):
        return [snapshot_result(item, self.db_type, db_name) for item in self._items(db_name)]

    def _long(self, db_name, what, done, *parts, **kwargs):
        """A POST of a long operation: its answer, or (after one that did not come or was lost) done()'s reading
        of what the server did, with a warning. ``done`` None: the API does not show it, so nothing is read."""
        try:
            return self._request('POST', db_name, *parts, idempotent=False, timeout=self.client.operation_timeout,
                                 **kwargs)
        except BackendError as exc:
            if not self.client.last_request_unclear:
                raise
            if done is None:
                raise BackendError('%s; the API does not show whether %s was done: check the database before'
                                   ' running the task again' % (exc, what))
            found, warning = follow_up(self.client, what, exc, done)
        self.backend.warnings.append(warning)
        return found

    def get(self, db_name, snapshot_id):
        check_snapshot_id(snapshot_id)
        for snapshot in self.list(db_name):
            if snapshot['snapshot_id'] == snapshot_id:
                return snapshot
        raise NotFound('%s has no snapshot %s' % (db_name, snapshot_id))

    def create(self, db_name, description=None, jobs=None):
        """``jobs`` is the host's business; the API decides how it dumps."""
        naming.check_description(description)
        before = set(item['snapshot_id'] for item in self._items(db_name))

        def taken():
            return next((item for item in self._items(db_name) if item['snapshot_id'] not in before
                         and item.get('description') == description), None)
        answer = self._long(db_name, 'taking a snapshot of %s' % db_name, taken, 'snapshots',
                            body={'description': description})
        return snapshot_result(answer, self.db_type, db_name)

    def delete(self, db_name, snapshot_id):
        """True when this call deleted it: a retry answered 404 after an unclear attempt means that attempt did."""
        check_snapshot_id(snapshot_id)
        if snapshot_id not in [snapshot['snapshot_id'] for snapshot in self.list(db_name)]:
            return False
        try:
            self._request('DELETE', db_name, 'snapshots', snapshot_id)
        except NotFound:
            return self.client.last_request_unclear
        return True

    def plan_restore(self, db_name, snapshot_id, target_db_name=None):
        """What can be checked from here: the snapshot is the database's, the target is free or already restored."""
        self.get(db_name, snapshot_id)
        target = target_name(self.db_type, db_name, target_db_name) if target_db_name else db_name
        changed = restore_needed(self.db_type, db_name, snapshot_id, target, self.backend.get(target))
        return dict(target=target, new_database=target != db_name, changed=changed)

    def restore(self, db_name, snapshot_id, target_db_name=None, jobs=None):
        plan = self.plan_restore(db_name, snapshot_id, target_db_name)
        if not plan['changed']:
            return plan['target'], False
        body = {'snapshot_id': snapshot_id}
        if plan['new_database']:
            body['target_db_name'] = naming.parse_technical_name(self.db_type, plan['target'])[1]
        before = self._last_restore(db_name, snapshot_id)

        def restored():
            """The snapshot's last restore is a new one into the target."""
            last = self._last_restore(db_name, snapshot_id)
            return last if last not in (None, before) and last[1] == plan['target'] else None
        self._long(db_name, 'restoring %s of %s into %s' % (snapshot_id, db_name, plan['target']),
                   None if before is None else restored, 'restore', body=body)
        if plan['new_database']:
            marker = restored_marker(snapshot_id, db_name)
            restored = self.backend.get(plan['target'])
            if restored is not None and restored['description'] != marker:
                self.backend.update(plan['target'], {'description': marker})
        return plan['target'], True

    def _last_restore(self, db_name, snapshot_id):
        """(which, into what) the snapshot's last restore was, as the reference API server lists it; None when the
        list does not show restores (the contract's does not), so a lost answer cannot be followed up."""
        item = next((item for item in self._items(db_name) if item['snapshot_id'] == snapshot_id), {})
        if 'last_restore_id' not in item:
            return None
        return item['last_restore_id'], item.get('last_restored_into')
