# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault set-ups on the test servers' real OpenBao, made with its root token: namespaces, AppRoles, a TLS server."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import secrets
import socket
import subprocess
import sys
import time

import hvac

from ansible_collections.wayscloud.databases.tests.environment import setting

BAO = os.path.join(os.path.dirname(sys.executable), 'bao')


def admin(namespace=None, server=None):
    """An hvac client with the root token (in ``namespace``) of the test servers' OpenBao, or of a TlsServer."""
    if server is not None:
        return hvac.Client(url=server.url, token=server.token, namespace=namespace, verify=server.ca)
    return hvac.Client(url=setting('WAYSCLOUD_VAULT_ADDR'), token=setting('WAYSCLOUD_VAULT_TOKEN'), namespace=namespace)


def namespace_with_kv(name, server=None):
    """A new namespace ``name`` with KV version 2 at ``secret`` (OpenBao 2.3+ has namespaces)."""
    admin(server=server).adapter.post('/v1/sys/namespaces/%s' % name, json={})
    admin(name, server).sys.enable_secrets_engine('kv', path='secret', options={'version': '2'})
    return name


def approle(prefix, namespace=None, mount='approle', server=None):
    """An AppRole that may use ``secret/<prefix>/*`` only: dict(role_id, secret_id)."""
    client = admin(namespace, server)
    if '%s/' % mount not in client.sys.list_auth_methods()['data']:
        client.sys.enable_auth_method('approle', path=mount)
    policy = 'p_' + prefix.replace('/', '_')
    client.sys.create_or_update_policy(policy, 'path "secret/data/%s/*" { capabilities = ["create", "read", "update"] }\n'
                                               'path "secret/metadata/%s/*" { capabilities = ["read", "delete"] }\n'
                                       % (prefix, prefix))
    role = 'r_' + prefix.replace('/', '_')
    client.auth.approle.create_or_update_approle(role, token_policies=[policy], mount_point=mount)
    return dict(role_id=client.auth.approle.read_role_id(role, mount_point=mount)['data']['role_id'],
                secret_id=client.auth.approle.generate_secret_id(role, mount_point=mount)['data']['secret_id'])


def unique(label):
    return '%s%s' % (label, secrets.token_hex(3))


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class TlsServer:
    """A second OpenBao dev server on HTTPS with its own CA (bao -dev-tls): .url, .ca (the CA bundle), .token."""

    def __init__(self, folder):
        self.port = free_port()
        self.url = 'https://127.0.0.1:%d' % self.port
        self.token = secrets.token_urlsafe(18)
        self.ca = os.path.join(str(folder), 'vault-ca.pem')
        self._log = open(os.path.join(str(folder), 'bao.log'), 'wb')
        self._process = subprocess.Popen(
            [BAO, 'server', '-dev', '-dev-tls', '-dev-tls-cert-dir=%s' % folder, '-dev-no-store-token',
             '-dev-listen-address=127.0.0.1:%d' % self.port],
            env=dict(os.environ, BAO_DEV_ROOT_TOKEN_ID=self.token), stdout=self._log, stderr=subprocess.STDOUT)
        for dummy in range(100):
            if os.path.exists(self.ca):
                try:
                    if hvac.Client(url=self.url, verify=self.ca, timeout=1).sys.is_initialized():
                        return
                except Exception:  # not listening yet
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError('OpenBao with TLS did not start; see %s' % self._log.name)

    def stop(self):
        self._process.terminate()
        self._process.wait(10)
        self._log.close()


def read_only_approle(prefix):
    """An AppRole that may read ``secret/<prefix>/*`` but not write: dict(role_id, secret_id)."""
    client = admin()
    if 'approle/' not in client.sys.list_auth_methods()['data']:
        client.sys.enable_auth_method('approle')
    policy = 'ro_' + prefix
    client.sys.create_or_update_policy(policy, 'path "secret/data/%s/*" { capabilities = ["read"] }\n'
                                               'path "secret/metadata/%s/*" { capabilities = ["read"] }\n' % (prefix, prefix))
    client.auth.approle.create_or_update_approle('ro_' + prefix, token_policies=[policy])
    return dict(role_id=client.auth.approle.read_role_id('ro_' + prefix)['data']['role_id'],
                secret_id=client.auth.approle.generate_secret_id('ro_' + prefix)['data']['secret_id'])
