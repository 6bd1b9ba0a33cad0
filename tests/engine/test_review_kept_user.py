# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Review finding (issue 20 review): a database deleted while a copy restored from its snapshots still uses its
user keeps that user (host/databases.py delete). Creating the database again then adopts the kept user (a new
password); when storing that password in Vault fails, HostDatabases.create's rollback drops the user whatever it
was before: MariaDB drops it (the copy is left without a user), PostgreSQL refuses (the copy owns a database) and
that error replaces Vault's. The copy must keep its user, reachable with the password it had."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from ansible_collections.wayscloud.databases.tests import openbao
from ansible_collections.wayscloud.databases.tests.environment import setting

from test_databases import connect_as, create


def test_a_failed_re_creation_leaves_the_copys_kept_user_alone(engine):
    databases, state_dir = engine
    database, password = create(databases, 'rvkept')
    db_name = database['db_name']
    snapshots = databases.snapshots()
    copy = snapshots.restore(db_name, snapshots.create(db_name)['snapshot_id'], 'rvkept_copy')[0]
    databases.made.insert(0, copy)
    assert databases.delete(db_name) and databases.driver.user_exists(db_name)  # kept for the copy
    prefix = openbao.unique('rvkept')
    role = openbao.read_only_approle(prefix)  # reads (the check before creating) but may not write
    databases.vault = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                                 prefix=prefix)
    with pytest.raises(BackendError) as refused:
        databases.create('engtest', 'rvkept')
    databases.vault = None
    assert 'Vault refused to write' in str(refused.value), str(refused.value)
    assert databases.driver.user_exists(db_name), 'the copy %s lost its user %s' % (copy, db_name)
    connect_as(databases, db_name, password, copy).close()
