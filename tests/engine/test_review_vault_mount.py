# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Review finding (issue 20 review): VaultStore._call turns InvalidPath (404) into None, which is right for a read
(no secret yet) but not for a write: on a mount that does not exist (a mistyped vault_mount), or a KV version 1 mount whose write answers 204, the check before
creating passes (nothing to read) and the write fails with a TypeError, not a BackendError. HostDatabases.create's
rollback catches BackendError only, so the database stays, with a password nobody got (the module dies with a
traceback); ApiDatabases.create and ApiCredentials.rotate are hit the same way."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from ansible_collections.wayscloud.databases.tests import openbao
from ansible_collections.wayscloud.databases.tests.environment import setting


@pytest.mark.parametrize('mount', ['nosuchmount', 'rvkv1'])
def test_a_vault_mount_that_is_no_kv2_engine_fails_cleanly_and_leaves_no_database(engine, mount):
    """No engine at the mount (404), or a KV version 1 engine (its write answers 204, no version)."""
    databases, state_dir = engine
    if mount == 'rvkv1' and 'rvkv1/' not in openbao.admin().sys.list_mounted_secrets_engines()['data']:
        openbao.admin().sys.enable_secrets_engine('kv', path='rvkv1', options={'version': '1'})
    db_name = technical_name(databases.db_type, 'engtest', 'rvmount')
    databases.made.append(db_name)
    databases.vault = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), setting('WAYSCLOUD_VAULT_TOKEN'), mount=mount)
    try:
        with pytest.raises(BackendError, match='no KV version 2 secrets engine at %s' % mount):
            databases.create('engtest', 'rvmount')
    finally:
        databases.vault = None
    assert databases.get(db_name) is None, 'created, its password in no result and in no Vault'
