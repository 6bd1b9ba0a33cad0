# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Passwords: generated here, and sent to the servers only as verifiers.

Handing a server the hash instead of the clear text keeps passwords out of its statement logs
(``log_statement``, the MariaDB general log) and out of ``pg_stat_activity``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import hmac
import os
import secrets
import string

PASSWORD_LENGTH = 32
# Letters and digits only: safe in a URL, a shell word, a DSN and a YAML scalar without quoting.
_ALPHABET = string.ascii_letters + string.digits
_SCRAM_ITERATIONS = 4096


def generate_password(length=PASSWORD_LENGTH):
    return ''.join(secrets.choice(_ALPHABET) for dummy in range(length))


def scram_sha_256_verifier(password, salt=None, iterations=_SCRAM_ITERATIONS):
    """The SCRAM-SHA-256 secret PostgreSQL stores in pg_authid (RFC 5802/7677)."""
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(data):
        return base64.b64encode(data).decode('ascii')
    return 'SCRAM-SHA-256$%d:%s$%s:%s' % (iterations, b64(salt), b64(stored_key), b64(server_key))


def scram_matches(verifier, password):
    """Whether a stored SCRAM-SHA-256 verifier was made from ``password`` (recomputed with its salt)."""
    try:
        mechanism, rest = verifier.split('$', 1)
        iterations, salt = rest.split('$', 1)[0].split(':')
        salt = base64.b64decode(salt)
        iterations = int(iterations)
    except (AttributeError, ValueError, TypeError):
        return False
    if mechanism != 'SCRAM-SHA-256':
        return False
    return hmac.compare_digest(scram_sha_256_verifier(password, salt=salt, iterations=iterations), verifier)


def mysql_native_password_hash(password):
    """The hash MariaDB's mysql_native_password plugin stores: '*' + HEX(SHA1(SHA1(password)))."""
    inner = hashlib.sha1(password.encode('utf-8')).digest()
    return '*' + hashlib.sha1(inner).hexdigest().upper()
