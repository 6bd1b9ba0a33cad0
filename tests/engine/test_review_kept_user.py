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


def test_a_copy_whose_source_is_deleted_can_still_be_opened_to_a_network(logins, tmp_path):
    """Review finding 8: on MariaDB an address reaches all of a user's databases through one account, so a copy takes
    no rule of its own ("give the rule to <source> instead"). Once the source is deleted and its user kept for the
    copy, the source's rules are gone with it (the user's network accounts too), and the copy can be given none:
    nothing can open it to a network again short of creating the source again."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.errors import Conflict
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
    from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name
    from commands import run
    databases = HostDatabases('mariadb', logins['mariadb'], str(tmp_path / 'state'), network=NETWORKS['none'](run), run=run)
    db_name, copy = (technical_name('mariadb', 'engtest', name) for name in ('rvfw', 'rvfw_copy'))
    try:
        databases.create('engtest', 'rvfw')
        databases.firewall().add(db_name, '198.18.0.9/32')
        snapshots = databases.snapshots()
        snapshots.restore(db_name, snapshots.create(db_name)['snapshot_id'], 'rvfw_copy')
        assert (db_name, db_name, '198.18.0.9/32') in databases.driver.access()  # the copy is reachable through it
        databases.delete(db_name)
        assert databases.driver.user_exists(db_name)
        try:
            databases.firewall().add(copy, '198.18.0.9/32')
        except Conflict as exc:
            pytest.fail('the copy can no longer be opened to any network: %s' % exc)
    finally:
        databases.delete(copy)
        databases.delete(db_name)
        databases.close()
