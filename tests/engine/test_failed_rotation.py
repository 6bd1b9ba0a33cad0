# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rotation that fails after the password changed, on real servers, with and without Vault: the old password
is put back (and is the one Vault holds), or, when the server refuses that too, the error returns the new one.

The failures are the servers' own. The rotating administrator may change passwords and read stored verifiers but
not end other users' sessions (PostgreSQL: CREATEROLE without pg_signal_backend; MariaDB: CREATE USER and PROCESS
without CONNECTION ADMIN), so the termination step fails after the password changed. For a refused put-back it
then also loses the right to change passwords right before that step (PostgreSQL: NOCREATEROLE; MariaDB: the
server goes read_only). A MariaDB account dropped by another connection between two accounts' ALTER USER makes
the password step itself fail halfway.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import secrets

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.credentials import holds_everywhere
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

from test_databases import connect_as

ADMIN = 'wc_rotation_admin'
PREFIX = 'engfail'
CASES = [('postgresql', False), ('postgresql', True), ('mariadb', False), ('mariadb', True)]


def vault_store():
    if not os.environ.get('WAYSCLOUD_VAULT_ADDR'):
        pytest.fail('WAYSCLOUD_VAULT_ADDR is not set: scripts/servers.sh starts OpenBao when .venv has bao')
    return VaultStore(os.environ['WAYSCLOUD_VAULT_ADDR'], os.environ['WAYSCLOUD_VAULT_TOKEN'], prefix=PREFIX)


class Scene:
    """A database made by the superuser (``owner``), and ``admin``: the same host seen by the narrower
    administrator; both share the state_dir and, with Vault, the store."""

    def __init__(self, owner, admin, db_name, password):
        self.owner, self.admin, self.db_name, self.password = owner, admin, db_name, password

    def logs_in(self, password):
        try:
            connect_as(self.owner, self.db_name, password, self.db_name).close()
        except Exception:
            return False
        return True

    def stored(self):
        return self.owner.vault.read(self.owner.db_type, self.db_name)[0]

    def revoke_password_changes(self):
        """From now on the administrator may not change passwords (put the right back with ``allow``)."""
        if self.owner.db_type == 'postgresql':
            self.owner.driver.execute(self.owner.driver.sql('ALTER ROLE {} NOCREATEROLE', ADMIN))
        else:
            self.owner.driver.execute('SET GLOBAL read_only = 1')

    def allow(self):
        if self.owner.db_type == 'postgresql':
            self.owner.driver.execute(self.owner.driver.sql('ALTER ROLE {} CREATEROLE', ADMIN))
        else:
            self.owner.driver.execute('SET GLOBAL read_only = 0')


def make_admin(driver):
    """The narrower administrator; returns its password (PostgreSQL's socket login is trusted, MariaDB's is not)."""
    password = secrets.token_hex(16)
    if driver.db_type == 'postgresql':
        driver.execute(driver.sql('CREATE ROLE {} LOGIN CREATEROLE', ADMIN))
        driver.execute(driver.sql('GRANT SELECT ON pg_authid TO {}', ADMIN))
        return None
    driver.execute('CREATE USER %s@%s IDENTIFIED BY %s', (ADMIN, 'localhost', password))
    driver.execute('GRANT CREATE USER, PROCESS, SHOW DATABASES ON *.* TO %s@%s', (ADMIN, 'localhost'))
    driver.execute('GRANT SELECT ON mysql.* TO %s@%s', (ADMIN, 'localhost'))
    return password


def drop_admin(driver):
    if driver.db_type == 'mariadb':
        driver.execute('SET GLOBAL read_only = 0')
    if not driver.user_exists(ADMIN):
        return
    if driver.db_type == 'postgresql':
        driver.execute(driver.sql('REVOKE SELECT ON pg_authid FROM {}', ADMIN))
        driver.execute(driver.sql('DROP ROLE {}', ADMIN))
    else:
        driver.execute('DROP USER %s@%s', (ADMIN, 'localhost'))


@pytest.fixture
def scene(request, logins, tmp_path):
    db_type, with_vault = request.param
    state_dir = str(tmp_path / 'state')
    vault = vault_store() if with_vault else None
    owner = HostDatabases(db_type, logins[db_type], state_dir, vault=vault)
    db_name = technical_name(db_type, 'engtest', 'rotfail')
    owner.delete(db_name)
    drop_admin(owner.driver)
    password = owner.create('engtest', 'rotfail')[1]
    login = logins[db_type]
    admin = HostDatabases(db_type, ServerLogin(unix_socket=login.unix_socket, port=login.port, user=ADMIN,
                                               password=make_admin(owner.driver), public_host='127.0.0.1'),
                          state_dir, vault=vault)
    yield Scene(owner, admin, db_name, password)
    admin.close()
    drop_admin(owner.driver)
    owner.delete(db_name)
    owner.close()


def rotate_failing(scene):
    """The administrator's rotation, with a session of the user open (so that terminating has work to do);
    returns (the error, whether the session survived)."""
    session = connect_as(scene.owner, scene.db_name, scene.password, scene.db_name)
    try:
        with pytest.raises(BackendError) as caught:
            scene.admin.credentials().rotate(scene.db_name)
        try:
            with session.cursor() as cursor:
                cursor.execute('SELECT 1')
            alive = True
        except Exception:
            alive = False
    finally:
        try:
            session.close()
        except Exception:
            pass
    return caught.value, alive


@pytest.mark.parametrize('scene', CASES, indirect=True, ids=['%s-%s' % (t, 'vault' if v else 'plain') for t, v in CASES])
def test_refused_termination_puts_the_old_password_back(scene):
    error, alive = rotate_failing(scene)
    assert 'the old password was put back' in str(error) and error.result is None, str(error)
    assert scene.password not in str(error)
    assert scene.logs_in(scene.password) and alive
    assert holds_everywhere(scene.owner.driver, scene.db_name, scene.password)  # every account of the user
    if scene.owner.vault:
        stored = scene.stored()
        assert not stored['pending'] and stored['password'] == scene.password


@pytest.mark.parametrize('scene', CASES, indirect=True, ids=['%s-%s' % (t, 'vault' if v else 'plain') for t, v in CASES])
def test_refused_put_back_returns_the_new_password(scene):
    driver = scene.admin.driver
    terminate = driver.terminate_user_sessions

    def revoked_first(username):
        scene.revoke_password_changes()
        return terminate(username)
    driver.terminate_user_sessions = revoked_first
    try:
        error, alive = rotate_failing(scene)
    finally:
        scene.allow()
    new = (error.result or {}).get('password')
    assert new and new != scene.password, str(error)
    assert 'putting the old one back failed too' in str(error)
    assert new not in str(error) and scene.password not in str(error)
    assert error.result['changed'] and error.result['credentials']['database'] == scene.db_name
    assert scene.logs_in(new) and not scene.logs_in(scene.password)
    if scene.owner.vault:
        stored = scene.stored()
        assert stored['pending'] and stored['password'] == new
        scene.owner.credentials().get(scene.db_name)  # the next credentials task settles it
        stored = scene.stored()
        assert not stored['pending'] and stored['password'] == new and scene.logs_in(new)


MDB_CASES = [case for case in CASES if case[0] == 'mariadb']


@pytest.mark.parametrize('scene', MDB_CASES, indirect=True, ids=['vault' if v else 'plain' for t, v in MDB_CASES])
def test_mariadb_account_dropped_between_two_accounts(scene, logins):
    """The second account's ALTER USER fails (another connection dropped it): the first gets its old hash back."""
    driver = scene.owner.driver
    hosts = driver.user_hosts(scene.db_name)
    assert len(hosts) >= 3
    other = HostDatabases('mariadb', logins['mariadb'], scene.owner.catalog.state_dir)
    execute = driver.execute
    altered = []

    def dropping_the_second(query, params=None, log=True):
        if isinstance(query, str) and query.startswith('ALTER USER %s@%s IDENTIFIED BY PASSWORD'):
            altered.append(params[1])
            if len(altered) == 2:
                other.driver.execute('DROP USER %s@%s', (params[0], params[1]))
        return execute(query, params, log)
    driver.execute = dropping_the_second
    try:
        with pytest.raises(BackendError) as caught:
            scene.owner.credentials().rotate(scene.db_name)
    finally:
        driver.execute = execute
        other.close()
    assert 'the old password was put back' in str(caught.value), str(caught.value)
    assert sorted(driver.user_hosts(scene.db_name)) == sorted(set(hosts) - set(altered[1:2]))
    assert holds_everywhere(driver, scene.db_name, scene.password)  # every remaining account
    assert scene.logs_in(scene.password)
    if scene.owner.vault:
        stored = scene.stored()
        assert not stored['pending'] and stored['password'] == scene.password
