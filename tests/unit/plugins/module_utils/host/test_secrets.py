# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wayscloud.databases.plugins.module_utils.host import secrets


def test_generated_passwords_are_long_url_safe_and_distinct():
    passwords = set(secrets.generate_password() for dummy in range(200))
    assert len(passwords) == 200
    assert all(re.fullmatch('[A-Za-z0-9]{32}', password) for password in passwords)


def test_mysql_native_password_hash_known_value():
    # MariaDB: SELECT PASSWORD('password')
    assert secrets.mysql_native_password_hash('password') == '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'


def test_scram_verifier_shape_and_salt():
    verifier = secrets.scram_sha_256_verifier('pencil', salt=b'0123456789abcdef')
    assert re.fullmatch(r'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+', verifier)
    assert verifier == secrets.scram_sha_256_verifier('pencil', salt=b'0123456789abcdef')
    assert verifier != secrets.scram_sha_256_verifier('pencil')
    assert 'pencil' not in verifier


def test_scram_matches_only_its_own_password():
    verifier = secrets.scram_sha_256_verifier('pencil')
    assert secrets.scram_matches(verifier, 'pencil')
    assert not secrets.scram_matches(verifier, 'pencil2')
    assert not secrets.scram_matches('md5abcdef', 'pencil')
    assert not secrets.scram_matches(None, 'pencil')
