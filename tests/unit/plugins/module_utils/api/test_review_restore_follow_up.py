# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Review finding (issue 20 review): a restore whose answer is lost, against an API shaped like the contract
(/work/shared/api/databases-api.md), whose snapshot list has no last_restore_* fields (only the reference server adds
them). The server DID restore (HTTP 200 with a truncated body); follow_up cannot see it and, after operation_timeout,
says it "was not done ... run the task again" - a second in-place restore would overwrite what was written since."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.api import client as client_module
from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import ApiClient
from ansible_collections.wayscloud.databases.plugins.module_utils.api.databases import ApiDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError

DB = 'cust_rv1_pg_shop'
SNAPSHOT = 'snap_20261201_060000_a1b2c3d4'


class Response:
    def __init__(self, body):
        self.body = body

    def getcode(self):
        return 200

    def read(self):
        return self.body

    def close(self):
        pass


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def contract_api(url, method=None, **kwargs):
    """The contract's answers: a list item has snapshot_id, db_name, created_at, size_mb, description only."""
    if method == 'GET' and url.endswith('/snapshots'):
        return Response(json.dumps({'db_name': DB, 'db_type': 'postgresql', 'snapshots': [
            {'snapshot_id': SNAPSHOT, 'db_name': DB, 'created_at': '2026-12-01T06:00:00Z', 'size_mb': 1.0,
             'description': None}]}).encode())
    if method == 'GET' and '/v1/databases/postgresql' in url:
        return Response(json.dumps({'databases': [{'db_name': DB, 'username': DB, 'customer_id': 'rv1',
                                                   'connection_limit': None}]}).encode())
    if method == 'POST' and url.endswith('/restore'):
        return Response(b'{"success": true, "db_na')  # restored; the answer is cut short
    raise AssertionError('unexpected %s %s' % (method, url))


def test_a_lost_in_place_restore_is_not_reported_as_not_done_when_the_api_cannot_show_restores(monkeypatch):
    monkeypatch.setattr(client_module, 'open_url', contract_api)
    clock = Clock()
    client = ApiClient(url='http://api.test', key='k', sleep=clock.sleep, clock=clock, operation_timeout=30)
    with pytest.raises(BackendError) as failed:
        ApiDatabases('postgresql', client).snapshots().restore(DB, SNAPSHOT)
    message = str(failed.value)
    assert 'run the task again' not in message and 'was not done' not in message, message


class RecordingVault:
    """Stands in for VaultStore: records what is deleted (the finding is about which calls are made)."""

    def __init__(self):
        self.deleted = []

    def check(self, db_type, db_name):
        pass

    def delete(self, db_type, db_name):
        self.deleted.append(db_name)


def test_deleting_through_the_api_keeps_the_secret_of_a_user_the_api_kept(monkeypatch):
    """Review finding 2: the API answers that the user stays (a copy restored from the database's snapshots still
    uses it, tests/api_server/README.md); the secret in the caller's Vault is that user's password, which the copy's
    clients need (backend host keeps it, host/databases.py delete). ApiDatabases.delete destroys it all the same."""
    message = ('database %s deleted; user %s stays: cust_rv1_pg_copy (restored from snapshots of %s) still use it;'
               ' it is dropped with the last of them' % (DB, DB, DB))

    def api(url, method=None, **kwargs):
        assert method == 'DELETE', url
        return Response(json.dumps({'success': True, 'message': message}).encode())
    monkeypatch.setattr(client_module, 'open_url', api)
    vault = RecordingVault()
    backend = ApiDatabases('postgresql', ApiClient(url='http://api.test', key='k'), vault=vault)
    assert backend.delete(DB) is True
    assert backend.warnings and vault.deleted == [], vault.deleted
