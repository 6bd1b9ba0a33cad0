# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module.py's pure parts: the error of a ``databases`` list that fails at an item, passwords left to Vault,
and the per-engine logins."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    HOST_ONLY_OPTIONS, LOGIN_SETTINGS, argument_spec, engine_logins, host_only, password_home, server_login,
    unfinished_list, without_passwords)
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError


def items(*names, **params):
    return [dict(dict(name=None, requested_name=name, return_password=True), **params) for name in names]


def test_names_the_failed_item_and_the_ones_created_before_it():
    results = [dict(changed=True, database={'db_name': 'a'}, password='secret-a', diff={}),
               dict(changed=False, database={'db_name': 'b'}, diff={}),
               dict(changed=True, database={'db_name': 'c'}, password='secret-c', diff={})]
    error = unfinished_list(BackendError('refused'), items('a', 'b', 'c', 'd', 'e'), results, dict(queries=['q']))
    assert str(error) == ('databases[3] (d): refused; created before it: databases[0] (a), databases[2] (c) (each'
                          ' password is in the result under databases[i].password)')
    assert 'secret' not in str(error)
    assert error.result == dict(changed=True, queries=['q'], databases=[
        dict(changed=True, database={'db_name': 'a'}, password='secret-a'),
        dict(changed=False, database={'db_name': 'b'}),
        dict(changed=True, database={'db_name': 'c'}, password='secret-c')])


def test_items_done_before_without_a_new_database_are_listed_too():
    error = unfinished_list(BackendError('refused'), items('a', 'b'), [dict(changed=True, rules=[])], {})
    assert str(error) == 'databases[1] (b): refused; the items before it were done (their results are in the result' \
        ' under databases)'
    assert error.result == dict(changed=True, databases=[dict(changed=True, rules=[])])


def test_a_first_item_failing_says_only_what_failed():
    error = unfinished_list(BackendError('refused'), items('a'), [], {})
    assert str(error) == 'databases[0] (a): refused'
    assert error.result == dict(changed=False, databases=[])


def test_a_list_that_leaves_passwords_to_vault_says_they_are_there():
    results = [dict(changed=True, database={'db_name': 'a'}, password='secret-a', diff={})]
    error = unfinished_list(BackendError('refused'), items('a', 'b', return_password=False), results, {})
    assert str(error) == 'databases[1] (b): refused; created before it: databases[0] (a) (each password is in Vault)'


def test_without_passwords_takes_every_password_out_when_the_task_leaves_them_to_vault():
    result = dict(changed=True, password='p', credentials={'username': 'u'},
                  databases=[dict(changed=True, password='p1', database={}), dict(changed=False, database={})])
    kept = without_passwords(dict(return_password=True), result)
    assert kept is result
    left = without_passwords(dict(return_password=False), result)
    assert left == dict(changed=True, credentials={'username': 'u'},
                        databases=[dict(changed=True, database={}), dict(changed=False, database={})])
    assert 'password' in result and 'password' in result['databases'][0]  # the task's own result is not changed


@pytest.mark.parametrize('backend', ['api', 'host'])
def test_a_password_left_out_needs_a_home(backend):
    with pytest.raises(ValidationError) as refused:
        password_home(dict(backend=backend, vault_url=None, return_password=False))
    assert 'needs vault_url' in str(refused.value)
    password_home(dict(backend=backend, vault_url=None, return_password=True))
    password_home(dict(backend=backend, vault_url='http://vault:8200', return_password=False))


class Module:
    """What engine_logins reads of an AnsibleModule."""

    def __init__(self, logins=None, login_passwords=None):
        self.params = dict(logins=logins, login_passwords=login_passwords)
        self.no_log_values = set()


def task(**params):
    values = dict((name, None) for name in LOGIN_SETTINGS + ('login_password',))
    values.update(db_type='postgresql')
    values.update(params)
    return values


def test_logins_give_each_engine_its_settings_and_the_task_overrides_its_own():
    module = Module(logins=dict(postgresql=dict(login_unix_socket='/run/pg', login_port='5433'),
                                mariadb=dict(login_host='db', login_user='admin')),
                    login_passwords=dict(mariadb='admin-secret'))
    logins = engine_logins(module)
    assert logins['postgresql']['login_port'] == 5433  # converted as login_port is
    own = server_login(task(login_port=6000), logins, 'postgresql')
    assert (own.unix_socket, own.port, own.password) == ('/run/pg', 6000, None)
    other = server_login(task(login_port=6000, login_password='pg-secret'), logins, 'mariadb')
    assert (other.host, other.user, other.port, other.password) == ('db', 'admin', None, 'admin-secret')


@pytest.mark.parametrize('logins, passwords, message', [
    (dict(oracle={}), None, 'logins is keyed by engine (postgresql, mariadb), not oracle'),
    (dict(postgresql='socket'), None, 'logins.postgresql must be a dict'),
    (dict(postgresql=dict(login_port='many')), None, "logins.postgresql: argument 'login_port'"),
    (dict(mariadb=dict(login_password='hunter2-secret')), None, 'logins.mariadb: no setting login_password'),
    (None, dict(postgresql=['hunter2-secret']), 'login_passwords.postgresql must be a string'),
    (None, dict(mysql='hunter2-secret'), 'login_passwords is keyed by engine'),
])
def test_logins_refuse_what_they_do_not_take_without_showing_a_secret(logins, passwords, message):
    module = Module(logins=logins, login_passwords=passwords)
    with pytest.raises(ValidationError) as refused:
        engine_logins(module)
    assert str(refused.value).startswith(message)
    assert 'hunter2' not in str(refused.value)
    if logins and 'mariadb' in logins:
        assert 'hunter2-secret' in module.no_log_values  # hidden from the task's output (its invocation)


def test_a_port_is_named_where_it_came_from():
    with pytest.raises(ValidationError) as refused:
        engine_logins(Module(logins=dict(mariadb=dict(login_port=70000))))
    assert str(refused.value) == 'logins.mariadb.login_port must be a TCP port, 1 to 65535 (got 70000)'
    with pytest.raises(ValidationError) as refused:
        server_login(task(login_port=0), {}, 'postgresql')
    assert str(refused.value) == 'login_port must be a TCP port, 1 to 65535 (got 0)'


def test_a_host_only_module_defaults_to_host_and_refuses_api_saying_why():
    spec = argument_spec(db_type=dict(type='str'), **HOST_ONLY_OPTIONS)
    assert spec['backend']['default'] == 'host' and argument_spec()['backend']['default'] == 'api'
    host_only(dict(backend='host'), 'wayscloud_database_quota', 'quota is the provider\'s')
    with pytest.raises(ValidationError) as refused:
        host_only(dict(backend='api'), 'wayscloud_database_quota', 'quota is the provider\'s')
    assert str(refused.value).startswith('backend api: wayscloud_database_quota acts on a database host only'
                                         ' (quota is the provider\'s); set backend: host')
