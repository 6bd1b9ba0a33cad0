# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Passwords created through the API kept in the caller's Vault, as community.hashi_vault users set Vault up (an AppRole
in a namespace, from the environment), read back by the credentials lookup from Ansible variables and ansible.cfg;
and the same through ansible-runner with the AWX Vault credential type's injectors, on a TLS OpenBao with its CA."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import shutil
import subprocess
import sys

import hvac
import hvac.exceptions
import jinja2
import pytest
import yaml

from ansible_collections.wayscloud.databases.tests import openbao
from ansible_collections.wayscloud.databases.tests.environment import setting
from ansible_collections.wayscloud.databases.tests.playbooks.test_playbooks import BIN, ROOT, SHAPE, connect

TAGS = {'postgresql': 'pg', 'mariadb': 'mdb'}


def private_file(path, text):
    with open(os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as handle:
        handle.write(text)


def ansible_playbook(work, tasks, env, extra_vars=None):
    """Run ``tasks`` on localhost; every secret reaches it through ``env`` or a 0600 variables file, never argv."""
    playbook = work / 'play.yml'
    playbook.write_text(yaml.safe_dump([dict(hosts='localhost', gather_facts=False, tasks=tasks)]))
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook)]
    if extra_vars:
        private_file(work / 'vars.yml', yaml.safe_dump(extra_vars))
        argv += ['-e', '@%s' % (work / 'vars.yml')]
    clean = dict((name, value) for name, value in os.environ.items() if 'VAULT' not in name)
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          env=dict(clean, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1', **env))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


def looked_up(work, db_name, env, extra_vars):
    """The lookup's answer, through a 0600 file."""
    path = work / ('lookup-%s.json' % db_name)
    ansible_playbook(work, [dict(name='Read the credentials', **{'ansible.builtin.copy': dict(
        content="{{ lookup('wayscloud.databases.credentials', '%s') | to_json }}" % db_name, dest=str(path), mode='0600')})],
        env, extra_vars)
    return json.loads(path.read_text())


@pytest.mark.parametrize('db_type', ['postgresql', 'mariadb'])
def test_api_passwords_go_to_the_callers_vault_and_the_lookup_reads_them(db_type, tmp_path):
    namespace = openbao.namespace_with_kv(openbao.unique('apins'))
    prefix = openbao.unique('apivault')
    role = openbao.approle(prefix, namespace=namespace)
    db_name = 'cust_itest1_%s_vlt_%s' % (TAGS[db_type], TAGS[db_type])
    # As community.hashi_vault users set it: Vault's environment variables, an AppRole, a namespace.
    module_env = dict(WAYSCLOUD_API_URL=setting('WAYSCLOUD_API_URL'), WAYSCLOUD_API_KEY=setting('WAYSCLOUD_TEST_KEY_CUSTOMER'),
                      VAULT_ADDR=setting('WAYSCLOUD_VAULT_ADDR'), VAULT_NAMESPACE=namespace,
                      VAULT_ROLE_ID=role['role_id'], VAULT_SECRET_ID=role['secret_id'])
    common = dict(backend='api', db_type=db_type, vault_path_prefix=prefix)
    task = dict(common, customer_id='itest1', requested_name='vlt_' + TAGS[db_type], return_password=False)
    rotate = dict(common, name=db_name, rotate=True, return_password=False)
    output = ansible_playbook(tmp_path, [
        {'name': 'Create', 'wayscloud.databases.wayscloud_database': task, 'register': 'created'},
        {'name': 'Again', 'wayscloud.databases.wayscloud_database': task, 'register': 'again'},
        {'name': 'Rotate', 'wayscloud.databases.wayscloud_database_credentials': rotate, 'register': 'rotated'},
        {'name': 'Nothing secret in the results', 'ansible.builtin.assert': {'that': [
            'created is changed', 'again is not changed', 'rotated is changed',
            "'password' not in created", "'password' not in rotated"]}},
    ], module_env)
    # The lookup, with no Vault variable in its environment: ansible.cfg as community.hashi_vault reads it, and Ansible
    # variables (the secret ID among them, from a 0600 file).
    (tmp_path / 'ansible.cfg').write_text('[hashi_vault_collection]\nurl = %s\nnamespace = %s\n\n[wayscloud_databases]\n'
                                          'vault_path_prefix = %s\n' % (setting('WAYSCLOUD_VAULT_ADDR'), namespace, prefix))
    found = looked_up(tmp_path, db_name, dict(ANSIBLE_CONFIG=str(tmp_path / 'ansible.cfg')),
                      dict(ansible_hashi_vault_role_id=role['role_id'], ansible_hashi_vault_secret_id=role['secret_id']))
    assert sorted(found) == SHAPE and found['database'] == found['username'] == db_name
    connect(db_type, db_name, found['password']).close()
    kv = openbao.admin(namespace).secrets.kv.v2
    path = '%s/%s/%s' % (prefix, db_type, db_name)
    secret = kv.read_secret_version(path=path, mount_point='secret', raise_on_deleted_version=True)
    assert secret['data']['metadata']['version'] == 2  # created, then rotated
    leaks = [name for name, value in (('password', found['password']), ('secret_id', role['secret_id'])) if value in output]
    assert leaks == []
    ansible_playbook(tmp_path, [{'name': 'Delete', 'wayscloud.databases.wayscloud_database': dict(
        common, name=db_name, state='absent')}], module_env)
    with pytest.raises(hvac.exceptions.InvalidPath):  # the secret went with the database and its user
        kv.read_secret_metadata(path=path, mount_point='secret')


def awx_injected(inputs, folder):
    """What AWX makes of the Vault credential type's injectors: its files written, its environment rendered."""
    with open(os.path.join(ROOT, 'docs', 'awx', 'vault-credential-type-injectors.yml')) as handle:
        injectors = yaml.safe_load(handle)
    values = dict((field['id'], inputs.get(field['id'], ''))
                  for field in yaml.safe_load(open(os.path.join(ROOT, 'docs', 'awx', 'vault-credential-type-inputs.yml')))['fields'])
    files = {}
    for key, template in injectors.get('file', {}).items():
        name = key.split('.', 1)[1]
        files[name] = str(folder / ('awx_%s' % name))
        private_file(files[name], jinja2.Template(template).render(**values))
    return dict((name, jinja2.Template(template).render(tower=dict(filename=files), **values))
                for name, template in injectors['env'].items())


@pytest.fixture(scope='module')
def tls(tmp_path_factory):
    server = openbao.TlsServer(tmp_path_factory.mktemp('bao-tls'))
    yield server
    server.stop()


def test_provision_through_ansible_runner_with_the_awx_vault_credential(tls, tmp_path):
    """AWX's way: both credential types' injectors, the role through the API, the passwords in a TLS Vault (the CA
    given as a file injector) logged in to with an AppRole in a namespace; no job event holds a secret."""
    namespace = openbao.namespace_with_kv(openbao.unique('awxns'), server=tls)
    prefix = openbao.unique('awx')
    role = openbao.approle(prefix, namespace=namespace, server=tls)
    with open(tls.ca) as handle:
        vault_inputs = dict(vault_url=tls.url, vault_role_id=role['role_id'], vault_secret_id=role['secret_id'],
                            vault_namespace=namespace, vault_ca_cert=handle.read())
    envvars = awx_injected(vault_inputs, tmp_path)
    envvars.update(WAYSCLOUD_API_URL=setting('WAYSCLOUD_API_URL'), WAYSCLOUD_API_KEY=setting('WAYSCLOUD_TEST_KEY_CUSTOMER'),
                   ANSIBLE_COLLECTIONS_PATH=os.environ['ANSIBLE_COLLECTIONS_PATH'])
    private = tmp_path / 'runner'
    (private / 'env').mkdir(parents=True)
    (private / 'inventory').mkdir()
    (private / 'inventory' / 'hosts').write_text('localhost\n')
    shutil.copytree(os.path.join(ROOT, 'playbooks'), str(private / 'project' / 'playbooks'))
    names = dict((db_type, 'cust_itest1_%s_awxv_%s' % (tag, tag)) for db_type, tag in TAGS.items())
    extravars = dict(wayscloud_backend='api', wayscloud_customer_id='itest1', wayscloud_credentials_dir='',
                     wayscloud_vault=dict(path_prefix=prefix),
                     wayscloud_databases=[dict(db_type=db_type, requested_name='awxv_' + tag) for db_type, tag in TAGS.items()],
                     ansible_python_interpreter=sys.executable, ansible_connection='local')
    private_file(private / 'env' / 'envvars', yaml.safe_dump(envvars))
    private_file(private / 'env' / 'extravars', yaml.safe_dump(extravars))
    clean = dict((name, value) for name, value in os.environ.items() if 'VAULT' not in name)
    done = subprocess.run([os.path.join(BIN, 'ansible-runner'), 'run', str(private), '-p', 'playbooks/provision.yml',
                           '--ident', 'vault', '--json'],
                          capture_output=True, text=True, check=False, env=dict(clean, PATH=BIN + ':' + os.environ['PATH']))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    store = openbao.admin(namespace, tls).secrets.kv.v2
    passwords = []
    for db_type, db_name in names.items():
        secret = store.read_secret_version(path='%s/%s/%s' % (prefix, db_type, db_name), mount_point='secret',
                                           raise_on_deleted_version=True)['data']['data']
        connect(db_type, db_name, secret['password']).close()
        passwords.append(secret['password'])
    events = glob.glob(str(private / 'artifacts' / 'vault' / 'job_events' / '*.json'))
    assert len(events) > 20
    everything = done.stdout + ''.join(open(path).read() for path in events)
    secrets = passwords + [role['secret_id'], setting('WAYSCLOUD_TEST_KEY_CUSTOMER')]
    assert [number for number, secret in enumerate(secrets) if secret in everything] == []
    removal = dict(clean, WAYSCLOUD_API_KEY=setting('WAYSCLOUD_TEST_KEY_CUSTOMER'), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    for db_type, db_name in names.items():
        removed = subprocess.run([os.path.join(BIN, 'ansible'), 'localhost', '-c', 'local', '-m', 'wayscloud.databases.wayscloud_database',
                                  '-a', json.dumps(dict(db_type=db_type, name=db_name, state='absent', api_url=setting('WAYSCLOUD_API_URL')))],
                                 capture_output=True, text=True, check=False, env=removal)
        assert removed.returncode == 0, removed.stdout[-2000:]


def api_backend(db_type, vault, customer_id='itest1'):
    """The customer key's backend; ``customer_id`` None as a playbook gives it: the key implies the customer."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import ApiClient
    from ansible_collections.wayscloud.databases.plugins.module_utils.api.databases import ApiDatabases
    return ApiDatabases(db_type, ApiClient(setting('WAYSCLOUD_API_URL'), setting('WAYSCLOUD_TEST_KEY_CUSTOMER'), retries=0),
                        customer_id=customer_id, vault=vault)


@pytest.mark.parametrize('db_type', ['postgresql', 'mariadb'])
def test_a_vault_that_will_not_take_the_password_leaves_none_unknown(db_type):
    """Vault refuses the write (a read-only policy): a new database is deleted again; a rotation, which cannot be
    taken back, is stopped before it by the check of the right to write, and Vault keeps the password that logs in.
    An unreachable Vault stops both before any change."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
    from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
    prefix = openbao.unique('ro')
    role = openbao.read_only_approle(prefix)
    url = setting('WAYSCLOUD_VAULT_ADDR')
    read_only = api_backend(db_type, VaultStore(url, role_id=role['role_id'], secret_id=role['secret_id'], prefix=prefix))
    requested = 'vlt_ro_' + TAGS[db_type]
    with pytest.raises(BackendError, match='could not be stored in Vault .* so it was deleted again') as refused:
        read_only.create('itest1', requested)
    assert role['secret_id'] not in str(refused.value)
    db_name = 'cust_itest1_%s_%s' % (TAGS[db_type], requested)
    assert read_only.get(db_name) is None
    writer = api_backend(db_type, VaultStore(url, setting('WAYSCLOUD_VAULT_TOKEN'), prefix=prefix))
    database, password, created = writer.create('itest1', requested)
    try:
        with pytest.raises(BackendError, match='Vault refused to write .*permission denied'):
            read_only.credentials().rotate(db_name)
        connect(db_type, db_name, password).close()  # not rotated
        assert writer.vault.read(db_type, db_name)[0]['password'] == password
        unreachable = api_backend(db_type, VaultStore('http://127.0.0.1:9', 'x', prefix=prefix))
        with pytest.raises(BackendError, match='unreachable'):
            unreachable.credentials().rotate(db_name)
        connect(db_type, db_name, password).close()  # not rotated
        with pytest.raises(BackendError, match='unreachable'):
            unreachable.delete(db_name)
        assert writer.get(db_name) is not None
    finally:
        assert writer.delete(db_name)
    assert writer.vault.read(db_type, db_name)[0] is None
    with pytest.raises(BackendError, match='unreachable'):
        unreachable.create('itest1', requested)
    blind = api_backend(db_type, unreachable.vault, customer_id=None)  # the name is the API's to tell
    with pytest.raises(BackendError, match='unreachable'):
        blind.create(None, requested)
    assert blind.client.requests == [] and writer.get(db_name) is None
