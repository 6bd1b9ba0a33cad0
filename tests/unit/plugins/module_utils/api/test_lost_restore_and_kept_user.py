# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two things the API backend cannot read from the contract's answers alone.

A restore whose answer is lost, on an API shaped like the contract (/work/shared/api/databases-api.md), whose
snapshot list has no last_restore_* fields (only the reference server adds them): the server may have restored, so
the task must not say "not done ... run the task again" (a second in-place restore would overwrite what was written
since); it fails at once, without reading for operation_timeout.

Deleting a database whose user the API keeps for restored copies keeps that user's secret in the caller's Vault; the
last copy going takes it.
"""

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


def api_keeping_the_user(listed):
    """An API that deleted DB but keeps its user for a copy; ``listed``: the databases it lists (as it holds them)."""
    message = ('database %s deleted; user %s stays: cust_rv1_pg_copy (restored from snapshots of %s) still use it;'
               ' it is dropped with the last of them' % (DB, DB, DB))

    def api(url, method=None, **kwargs):
        if method == 'GET' and '/v1/databases/postgresql' in url:
            return Response(json.dumps({'databases': [
                {'db_name': db_name, 'username': DB, 'customer_id': 'rv1', 'connection_limit': None}
                for db_name in listed]}).encode())
        assert method == 'DELETE', url
        listed.remove(url.split('?')[0].rsplit('/', 1)[1])
        return Response(json.dumps({'success': True, 'message': message if listed else 'deleted'}).encode())
    return api


def test_deleting_through_the_api_keeps_the_secret_of_a_user_the_api_kept(monkeypatch):
    """The API answers that the user stays (a copy restored from the database's snapshots still uses it,
    tests/api_server/README.md); the secret in the caller's Vault is that user's password, which the copy's clients
    need (backend host keeps it, host/databases.py delete)."""
    monkeypatch.setattr(client_module, 'open_url', api_keeping_the_user([DB, 'cust_rv1_pg_copy']))
    vault = RecordingVault()
    backend = ApiDatabases('postgresql', ApiClient(url='http://api.test', key='k'), vault=vault)
    assert backend.delete(DB) is True
    assert backend.warnings and vault.deleted == [], vault.deleted


def test_deleting_the_last_copy_through_the_api_takes_the_secret_of_its_user(monkeypatch):
    """The copy's user is its source's: when no database uses it any more, its secret goes, as on a host."""
    monkeypatch.setattr(client_module, 'open_url', api_keeping_the_user(['cust_rv1_pg_copy']))
    vault = RecordingVault()
    backend = ApiDatabases('postgresql', ApiClient(url='http://api.test', key='k'), vault=vault)
    assert backend.delete('cust_rv1_pg_copy') is True
    assert vault.deleted == [DB]
