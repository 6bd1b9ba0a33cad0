# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotation with Vault on real servers: killed at every step, Vault and the server still agree."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

from test_databases import connect_as

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5  # Vault journal, server password, sessions, Vault final, history


@pytest.fixture
def vaulted(logins, tmp_path, request):
    """A database of each engine created with Vault configured: (databases, state_dir, db_name)."""
    if not os.environ.get('WAYSCLOUD_VAULT_ADDR'):
        pytest.fail('WAYSCLOUD_VAULT_ADDR is not set: scripts/servers.sh starts OpenBao when .venv has bao')
    db_type = request.param
    state_dir = str(tmp_path / 'state')
    vault = VaultStore(os.environ['WAYSCLOUD_VAULT_ADDR'], os.environ['WAYSCLOUD_VAULT_TOKEN'], prefix='engtest')
    databases = HostDatabases(db_type, logins[db_type], state_dir, vault=vault)
    db_name = technical_name(db_type, 'engtest', 'rotate')
    databases.delete(db_name)
    databases.create('engtest', 'rotate')
    yield databases, state_dir, db_name
    databases.delete(db_name)
    databases.close()


def stored(databases, db_name):
    return databases.vault.read(databases.db_type, db_name)[0]


def assert_in_step(databases, db_name):
    """The secret a reader may use is the password the server accepts, proven by logging in."""
    data = stored(databases, db_name)
    assert not data['pending']
    connect_as(databases, db_name, data['password'], db_name).close()
    return data['password']


@pytest.mark.parametrize('vaulted', ['postgresql', 'mariadb'], indirect=True)
def test_rotation_killed_at_each_step_never_leaves_vault_out_of_step(vaulted):
    databases, state_dir, db_name = vaulted
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for step in range(1, STEPS + 1):
        before = assert_in_step(databases, db_name)
        run = subprocess.run([sys.executable, os.path.join(HERE, 'rotate_and_die.py'), databases.db_type, db_name,
                              state_dir, str(step)], env=env, capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == -9, run.stderr
        data = stored(databases, db_name)
        assert data['pending'] == (2 <= step <= 4), 'step %d' % step  # the journal is up from step 2 to 4
        if data['pending']:
            # A reader refuses a pending secret (the lookup plugin does); any credentials task settles it.
            databases.credentials().get(db_name)
        after = assert_in_step(databases, db_name)
        assert after == before if step <= 2 else after != before, 'step %d' % step


@pytest.mark.parametrize('vaulted', ['postgresql', 'mariadb'], indirect=True)
def test_rotation_replaces_the_password_and_ends_old_sessions(vaulted):
    databases, state_dir, db_name = vaulted
    old = assert_in_step(databases, db_name)
    session = connect_as(databases, db_name, old, db_name)
    credentials, new = databases.credentials().rotate(db_name)
    assert new != old and len(new) >= 32 and credentials['created_at']
    assert assert_in_step(databases, db_name) == new
    with pytest.raises(Exception):
        connect_as(databases, db_name, old, db_name)
    with pytest.raises(Exception):
        with session.cursor() as cursor:
            cursor.execute('SELECT 1')
    versions = databases.vault.read(databases.db_type, db_name)[1]
    assert versions == 3  # creation, journal, final


@pytest.mark.parametrize('vaulted', ['postgresql', 'mariadb'], indirect=True)
def test_a_failed_server_step_puts_the_old_password_back(vaulted, monkeypatch):
    databases, state_dir, db_name = vaulted
    old = assert_in_step(databases, db_name)

    def refuse(*args):
        raise BackendError('injected failure')
    monkeypatch.setattr(databases.driver, 'set_password', refuse)
    with pytest.raises(BackendError, match='injected failure'):
        databases.credentials().rotate(db_name)
    assert assert_in_step(databases, db_name) == old


@pytest.mark.parametrize('vaulted', ['postgresql'], indirect=True)
def test_unreachable_vault_or_wrong_token_changes_nothing(vaulted, logins):
    databases, state_dir, db_name = vaulted
    old = assert_in_step(databases, db_name)
    for vault in (VaultStore('http://127.0.0.1:9', 'x', prefix='engtest'),
                  VaultStore(os.environ['WAYSCLOUD_VAULT_ADDR'], 'wrong-token', prefix='engtest')):
        other = HostDatabases('postgresql', logins['postgresql'], state_dir, vault=vault)
        with pytest.raises(BackendError, match='unreachable|permission denied') as caught:
            other.credentials().rotate(db_name)
        assert 'wrong-token' not in str(caught.value)
        other.close()
    assert assert_in_step(databases, db_name) == old
    with pytest.raises(NotFound):
        databases.credentials().rotate(db_name + 'x')
