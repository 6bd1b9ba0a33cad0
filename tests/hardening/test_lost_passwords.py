# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No password is lost (docs/modules/wayscloud_database.md, "When an item fails"), module by module as Ansible
runs them, on real servers.

A ``databases`` list whose item N fails, on both engines and both backends: the task fails naming the item, and
its result holds the passwords of the items created before it, which log in and, where Vault is configured (the
host's, or the API server's own), are stored there. The failures are real: the engine refuses the item (a
PostgreSQL database of that name left invalid by an interrupted DROP DATABASE; a MariaDB role named like the
item's user), the Vault token's policy refuses that item's secret, or the API's quota refuses it.

A rotation whose session-termination step fails after the password changed (an administrator without the right
to end other users' sessions): the old password is back and still logs in; when the put-back is refused too (the
administrator loses the right to change passwords right before that step), the failed result's ``password`` logs
in instead.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import secrets
import shutil
import tempfile

import pytest

from conftest import api_options, host_options, run_module
from faults_support import (Api, clear_failure, connect, logs_in, redacted, run_module_hooked, server_databases, sql,
                            sql_argv)

TAGS = dict(postgresql='pg', mariadb='mdb')
CUSTOMER = 'lostpw'
QUOTA_CUSTOMER = 'quota1'  # scripts/api_server.sh gives its key one database
ADMIN = 'wc_lostpw_admin'
LIST_CASES = [(backend, db_type, failure) for db_type in ('postgresql', 'mariadb')
              for backend, failure in (('host', 'engine'), ('host', 'vault'), ('api', 'engine'), ('api', 'quota'))]


def technical(db_type, customer, requested):
    return 'cust_%s_%s_%s' % (customer, TAGS[db_type], requested)


def vault_client(servers):
    import hvac
    return hvac.Client(url=servers['WAYSCLOUD_VAULT_ADDR'], token=servers['WAYSCLOUD_VAULT_TOKEN'])


def stored_password(servers, prefix, db_type, db_name):
    """The password Vault holds for the database under ``prefix`` (None when there is no secret)."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
    data = VaultStore(servers['WAYSCLOUD_VAULT_ADDR'], servers['WAYSCLOUD_VAULT_TOKEN'], prefix=prefix).read(
        db_type, db_name)[0]
    return data and not data['pending'] and data['password']


class Trap:
    """What makes the engine refuse to create a database (and takes it away again)."""

    def __init__(self, servers, db_type, db_name):
        self.servers, self.db_type, self.db_name = servers, db_type, db_name

    def set(self):
        if self.db_type == 'postgresql':  # what PostgreSQL 15 leaves of a DROP DATABASE interrupted midway
            sql(self.servers, self.db_type, 'CREATE DATABASE %s' % self.db_name)
            sql(self.servers, self.db_type, "UPDATE pg_database SET datconnlimit = -2 WHERE datname = '%s'" % self.db_name)
        else:  # a role (not a user) already holds the user's name
            sql(self.servers, self.db_type, 'CREATE ROLE %s' % self.db_name)

    def clear(self):
        if self.db_type == 'postgresql':
            sql(self.servers, self.db_type, 'DROP DATABASE IF EXISTS %s' % self.db_name)
        else:
            sql(self.servers, self.db_type, "DROP ROLE IF EXISTS %s; DROP USER IF EXISTS %s@'localhost', %s@'127.0.0.1',"
                " %s@'::1'" % ((self.db_name,) * 4))


def refusing_token(servers, prefix, db_type, db_name):
    """A Vault token that may keep secrets under ``prefix`` except the one of ``db_name``, which it may only read."""
    client = vault_client(servers)
    policy = '\n'.join([
        'path "secret/data/%s/*" { capabilities = ["create", "read", "update", "delete"] }' % prefix,
        'path "secret/metadata/%s/*" { capabilities = ["read", "delete", "list"] }' % prefix,
        'path "secret/data/%s/%s/%s" { capabilities = ["read"] }' % (prefix, db_type, db_name)])
    client.sys.create_or_update_policy(name='lostpw-refuse', policy=policy)
    return client.auth.token.create(policies=['lostpw-refuse'], ttl='10m')['auth']['client_token']


@pytest.fixture
def state_dir():
    folder = tempfile.mkdtemp(prefix='wayscloud-lostpw-')
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def without_passwords(result):
    """The result without the fields the docs name for passwords (databases[i].password, password)."""
    rest = dict((key, value) for key, value in result.items() if key not in ('password', '_stderr'))
    rest['databases'] = [dict((key, value) for key, value in item.items() if key != 'password')
                         for item in result.get('databases') or []]
    return rest


@pytest.mark.parametrize('backend,db_type,failure', LIST_CASES)
def test_a_failing_item_loses_no_earlier_password(servers, state_dir, backend, db_type, failure):
    customer = QUOTA_CUSTOMER if failure == 'quota' else CUSTOMER
    requested = ['lpa', 'lpb'] if failure == 'quota' else ['lpa', 'lpb', 'lpc']
    names = [technical(db_type, customer, name) for name in requested]
    failing = len(names) - 1
    if backend == 'host':
        options = dict(host_options(servers, db_type, state_dir), customer_id=customer)
        prefix = 'lostpw'
        options.update(vault_url=servers['WAYSCLOUD_VAULT_ADDR'], vault_path_prefix=prefix,
                       vault_token=refusing_token(servers, prefix, db_type, names[failing]) if failure == 'vault'
                       else servers['WAYSCLOUD_VAULT_TOKEN'])
    else:
        key = 'WAYSCLOUD_TEST_KEY_QUOTA' if failure == 'quota' else 'WAYSCLOUD_TEST_KEY_INTERNAL'
        options = dict(api_options(servers, db_type, key=key), **({} if failure == 'quota' else dict(customer_id=customer)))
        prefix = 'wayscloud-api/databases'  # the API server's own Vault (scripts/api_server.sh)
    trap = Trap(servers, db_type, names[failing])
    if failure == 'engine':
        trap.set()
    try:
        result = run_module('wayscloud_database', dict(options, databases=[dict(requested_name=name) for name in requested]))
        passwords = [item.get('password') for item in result.get('databases') or []]
        assert result.get('failed'), redacted(result.get('msg'), passwords)
        msg = result['msg']
        assert msg.startswith('databases[%d] (%s): ' % (failing, requested[failing])), redacted(msg, passwords)
        assert all('databases[%d] (%s)' % (index, name) in msg for index, name in enumerate(requested[:failing])), msg
        assert [item['database']['db_name'] for item in result['databases']] == names[:failing]
        assert all(password for password in passwords) and result['changed']
        assert clear_failure(without_passwords(result), None, passwords) == []
        assert [logs_in(servers, db_type, name, password) for name, password in zip(names, passwords)] == [True] * failing
        kept = [stored_password(servers, prefix, db_type, name) for name in names[:failing]]
        assert [kept_one == password for kept_one, password in zip(kept, passwords)] == [True] * failing
        if not (failure == 'engine' and db_type == 'postgresql'):  # there the trap is a database of that name
            assert names[failing] not in server_databases(servers, db_type)
    finally:
        trap.clear()
        for db_name in names:
            if backend == 'host':
                gone = run_module('wayscloud_database', dict(options, name=db_name, state='absent',
                                                             vault_token=servers['WAYSCLOUD_VAULT_TOKEN']))
                assert not gone.get('failed'), gone.get('msg')
            else:
                Api(servers, db_type, customer).drop(db_name)


@pytest.mark.parametrize('db_type', ['postgresql', 'mariadb'])
def test_a_failing_item_leaves_the_earlier_passwords_to_vault(servers, state_dir, db_type):
    """With return_password false, the failed list's result holds no password; each is in Vault and logs in."""
    requested = ['lva', 'lvb']
    names = [technical(db_type, CUSTOMER, name) for name in requested]
    options = dict(host_options(servers, db_type, state_dir), customer_id=CUSTOMER, vault_path_prefix='lostpw',
                   vault_url=servers['WAYSCLOUD_VAULT_ADDR'], vault_token=servers['WAYSCLOUD_VAULT_TOKEN'],
                   return_password=False)
    trap = Trap(servers, db_type, names[1])
    trap.set()
    try:
        result = run_module('wayscloud_database', dict(options, databases=[dict(requested_name=name) for name in requested]))
        kept = stored_password(servers, 'lostpw', db_type, names[0])
        assert result.get('failed') and kept, redacted(result.get('msg'), [kept])
        assert result['msg'].startswith('databases[1] (lvb): ') and result['msg'].endswith(
            'created before it: databases[0] (lva) (each password is in Vault)'), redacted(result['msg'], [kept])
        assert [sorted(item) for item in result['databases']] == [['changed', 'database']] and result['changed']
        assert clear_failure(result, None, [kept]) == []
        assert logs_in(servers, db_type, names[0], kept)
    finally:
        trap.clear()
        for db_name in names:
            gone = run_module('wayscloud_database', dict(options, name=db_name, state='absent'))
            assert not gone.get('failed'), gone.get('msg')


# ---------------------------------------------------------------- rotation
def make_admin(servers, db_type):
    """An administrator that may change passwords and read stored ones but not end other users' sessions;
    returns its login options."""
    if db_type == 'postgresql':
        sql(servers, db_type, 'CREATE ROLE %s LOGIN CREATEROLE; GRANT SELECT ON pg_authid TO %s' % (ADMIN, ADMIN))
        return dict(login_user=ADMIN)
    password = secrets.token_hex(16)
    sql(servers, db_type, "CREATE USER %s@localhost IDENTIFIED BY '%s'; GRANT CREATE USER, PROCESS, SHOW DATABASES ON *.*"
        ' TO %s@localhost; GRANT SELECT ON mysql.* TO %s@localhost' % (ADMIN, password, ADMIN, ADMIN))
    return dict(login_user=ADMIN, login_password=password)


def drop_admin(servers, db_type):
    if db_type == 'postgresql':
        sql(servers, db_type, "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN"
            ' REVOKE SELECT ON pg_authid FROM %s; DROP ROLE %s; END IF; END $$' % (ADMIN, ADMIN, ADMIN))
    else:
        sql(servers, db_type, 'SET GLOBAL read_only = 0; DROP USER IF EXISTS %s@localhost' % ADMIN)


REVOKE = dict(postgresql='ALTER ROLE %s NOCREATEROLE' % ADMIN, mariadb='SET GLOBAL read_only = 1')


@pytest.fixture(params=['postgresql', 'mariadb'])
def rotation(request, servers, state_dir):
    """(db_type, module options of the narrower administrator for the database, db_name, its password)."""
    db_type = request.param
    options = dict(host_options(servers, db_type, state_dir), customer_id=CUSTOMER, requested_name='lprot')
    drop_admin(servers, db_type)
    made = run_module('wayscloud_database', options)
    assert made.get('password'), made.get('msg')
    admin = dict(options, **make_admin(servers, db_type))
    yield db_type, admin, made['database']['db_name'], made['password']
    drop_admin(servers, db_type)
    run_module('wayscloud_database', dict(options, state='absent'))


def with_a_session(servers, db_type, db_name, password, run):
    """``run()`` while a session of the user is open, so that the termination step has work to do."""
    session = connect(servers, db_type, db_name, password)
    try:
        return run()
    finally:
        session.close()


def test_a_refused_termination_leaves_the_old_password(servers, rotation):
    db_type, admin, db_name, old = rotation
    result = with_a_session(servers, db_type, db_name, old,
                            lambda: run_module('wayscloud_database_credentials', dict(admin, rotate=True)))
    assert result.get('failed') and 'the old password was put back' in result.get('msg', ''), \
        redacted(result.get('msg'), [old])
    assert 'password' not in result and clear_failure(result, db_name, [old]) == []
    assert logs_in(servers, db_type, db_name, old)


def test_a_refused_put_back_returns_the_new_password(servers, rotation):
    db_type, admin, db_name, old = rotation
    driver = 'ansible_collections.wayscloud.databases.plugins.module_utils.host.%s.database' % db_type
    terminate = (driver, ('PostgreSQLDriver' if db_type == 'postgresql' else 'MariaDBDriver') + '.terminate_user_sessions')
    try:
        result = with_a_session(servers, db_type, db_name, old, lambda: run_module_hooked(
            'wayscloud_database_credentials', dict(admin, rotate=True), 1, [terminate],
            action=sql_argv(servers, db_type, REVOKE[db_type])))
    finally:
        drop_admin(servers, db_type)
    new = result.get('password')
    assert result.get('failed') and new and new != old, redacted(result.get('msg'), [old, new])
    assert 'putting the old one back failed too' in result['msg'] and result['changed']
    assert result['credentials']['database'] == db_name
    assert clear_failure(without_passwords(result), db_name, [old, new]) == []
    assert logs_in(servers, db_type, db_name, new) and not logs_in(servers, db_type, db_name, old)


def test_a_list_failing_at_its_first_item_created_nothing(servers, state_dir):
    db_name = technical('postgresql', CUSTOMER, 'lpfirst')
    trap = Trap(servers, 'postgresql', db_name)
    trap.set()
    try:
        result = run_module('wayscloud_database', dict(host_options(servers, 'postgresql', state_dir), customer_id=CUSTOMER,
                                                       databases=[dict(requested_name='lpfirst')]))
    finally:
        trap.clear()
    assert result.get('failed') and result['databases'] == [] and not result['changed'] and result['queries']
    assert result['msg'].startswith('databases[0] (lpfirst): PostgreSQL: ') and 'before it' not in result['msg']
