# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault client as community.hashi_vault users know it, against the test servers' real OpenBao: a token or an
AppRole, a namespace, a CA bundle, VAULT_SKIP_VERIFY; failures name what to check and never a secret. The checks
before a change (the right to write, where a change cannot be taken back), the paths secrets may have, and a mount
that is no KV version 2 engine."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError, technical_name
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore, auth_method_of, store_from
from ansible_collections.wayscloud.databases.tests import openbao
from ansible_collections.wayscloud.databases.tests.environment import setting

SECRET = dict(password='not-a-real-one', pending=False)


def round_trip(store, db_name='cust_vt_pg_one'):
    store.write('postgresql', db_name, SECRET)
    assert store.read('postgresql', db_name)[0] == SECRET


def test_approle_login_reads_and_writes_within_its_policy():
    prefix = openbao.unique('vtapp')
    role = openbao.approle(prefix, mount='approle-vt')
    store = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                       auth_mount='approle-vt', prefix=prefix)
    round_trip(store)
    other = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                       auth_mount='approle-vt', prefix=prefix + 'x')
    with pytest.raises(BackendError) as refused:
        other.read('postgresql', 'cust_vt_pg_one')
    assert 'permission denied' in str(refused.value)


def test_a_refused_approle_login_names_the_mount_and_no_secret():
    prefix = openbao.unique('vtbad')
    role = openbao.approle(prefix, mount='approle-vt')
    wrong = 'wrong-' + role['secret_id']
    with pytest.raises(BackendError) as refused:
        VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=wrong, auth_mount='approle-vt')
    message = str(refused.value)
    assert 'refused the AppRole login at auth/approle-vt' in message
    assert role['role_id'] not in message and wrong not in message and role['secret_id'] not in message


@pytest.mark.parametrize('given, method', [
    (dict(token='t'), 'token'), (dict(role_id='r'), 'approle'), (dict(token='t', role_id='r'), 'token'),
    (dict(auth_method='approle', token='t', role_id='r'), 'approle'), (dict(), 'token'),
])
def test_the_auth_method_is_the_one_given_else_what_the_options_say(given, method):
    assert auth_method_of(given.get('auth_method'), given.get('token'), given.get('role_id')) == method


def test_missing_or_odd_login_settings_fail_before_connecting():
    url = 'http://127.0.0.1:9'
    with pytest.raises(BackendError, match='vault_role_id and vault_secret_id'):
        VaultStore(url, auth_method='approle', role_id='r')
    with pytest.raises(BackendError, match='vault_token is required'):
        VaultStore(url)
    with pytest.raises(ValidationError, match='vault_auth_method must be one of'):
        VaultStore(url, token='t', auth_method='userpass')
    with pytest.raises(ValidationError, match='vault_namespace'):
        VaultStore(url, token='t', namespace='a/../b')


def test_a_namespace_keeps_its_secrets_apart():
    """OpenBao 2.3+ has namespaces: a secret written in one is not at the same path of the root namespace."""
    namespace = openbao.namespace_with_kv(openbao.unique('vtns'))
    prefix = openbao.unique('vtnsp')
    role = openbao.approle(prefix, namespace=namespace)
    inside = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                        namespace=namespace, prefix=prefix)
    round_trip(inside)
    root = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), setting('WAYSCLOUD_VAULT_TOKEN'), prefix=prefix)
    assert root.read('postgresql', 'cust_vt_pg_one')[0] is None
    with_token = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), setting('WAYSCLOUD_VAULT_TOKEN'), prefix=prefix,
                            namespace=namespace + '/')
    assert with_token.read('postgresql', 'cust_vt_pg_one')[0] == SECRET
    with pytest.raises(BackendError, match='refused the AppRole login'):  # the AppRole lives in the namespace only
        VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'], prefix=prefix)


@pytest.fixture(scope='module')
def tls(tmp_path_factory):
    server = openbao.TlsServer(tmp_path_factory.mktemp('bao-tls'))
    yield server
    server.stop()


def test_a_ca_bundle_verifies_vaults_certificate(tls):
    with pytest.raises(BackendError, match='unreachable') as refused:  # the system's CAs do not know it
        VaultStore(tls.url, tls.token).read('postgresql', 'cust_vt_pg_one')
    assert tls.token not in str(refused.value)
    round_trip(VaultStore(tls.url, tls.token, ca_cert=tls.ca))
    round_trip(VaultStore(tls.url, tls.token, validate_certs=False))


def test_vault_skip_verify_counts_only_when_validate_certs_is_not_given(tls):
    options = dict(vault_url=tls.url, vault_token=tls.token, vault_validate_certs=None)
    round_trip(store_from(options, dict(VAULT_SKIP_VERIFY='true')))
    with pytest.raises(BackendError, match='unreachable'):
        store_from(options, {}).read('postgresql', 'cust_vt_pg_one')
    with pytest.raises(BackendError, match='unreachable'):
        store_from(dict(options, vault_validate_certs=True), dict(VAULT_SKIP_VERIFY='1')).read('postgresql', 'x_pg_y')


def test_the_check_before_a_change_that_cannot_be_undone_asks_for_the_right_to_write():
    """A token that may read but not write passes the check of reading; before a change the caller cannot take back
    (an API rotation: the API has changed the password before Vault is asked to store it) the check asks Vault for
    the token's rights on the path, so such a token stops the change first."""
    prefix = openbao.unique('vtro')
    role = openbao.read_only_approle(prefix)
    read_only = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                           prefix=prefix)
    read_only.check('postgresql', 'cust_vt_pg_one')
    with pytest.raises(BackendError, match='Vault refused to write .*permission denied') as refused:
        read_only.check('postgresql', 'cust_vt_pg_one', write=True)
    assert role['secret_id'] not in str(refused.value)
    role = openbao.approle(prefix, mount='approle-vt')
    writer = VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), role_id=role['role_id'], secret_id=role['secret_id'],
                        auth_mount='approle-vt', prefix=prefix)
    writer.check('postgresql', 'cust_vt_pg_one', write=True)  # create: no secret yet
    round_trip(writer)
    writer.check('postgresql', 'cust_vt_pg_one', write=True)  # update
    VaultStore(setting('WAYSCLOUD_VAULT_ADDR'), setting('WAYSCLOUD_VAULT_TOKEN'), prefix=prefix).check(
        'postgresql', 'cust_vt_pg_one', write=True)  # the root token


@pytest.mark.parametrize('db_type, db_name', [
    ('postgresql', '../../other/secret'), ('postgresql', 'cust_a_pg_b/c'), ('postgresql', '..'),
    ('postgresql', ''), ('../sys', 'cust_a_pg_b')])
def test_a_secret_path_is_made_only_of_a_database_type_and_one_plain_name(db_type, db_name):
    """The API backend builds the path from the name the API answered: a name that is no plain path part would
    reach another secret."""
    store = VaultStore('http://127.0.0.1:9', 'x')
    with pytest.raises(ValidationError):
        store.path(db_type, db_name)


@pytest.mark.parametrize('mount', ['nosuchmount', 'rvkv1'])
def test_a_vault_mount_that_is_no_kv2_engine_fails_cleanly_and_leaves_no_database(engine, mount):
    """No engine at the mount (404), or a KV version 1 engine (its write answers 204, no version): the check before
    creating passes (there is nothing to read), so the write must fail as a BackendError for creation to roll back;
    a TypeError would leave the database with a password nobody got."""
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
