# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Name rules shared by both backends: the API's naming scheme, checked before anything is touched.

Technical names are ``cust_{customer_id}_{pg|mdb}_{requested_name}``; the database's user has the
same name. Every rule here raises ``ValidationError`` naming the field and the rule, so a module can
hand the message to the user unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import WaysCloudError

DB_TYPES = ('postgresql', 'mariadb')
TYPE_TAGS = {'postgresql': 'pg', 'mariadb': 'mdb'}

# PostgreSQL truncates identifiers past 63 bytes (NAMEDATALEN - 1); MariaDB allows 64 for
# databases and 80 for users. The smallest limit binds both, since the user is named like the database.
MAX_NAME_LENGTH = 63
MAX_REQUESTED_NAME_LENGTH = 30
CONNECTION_LIMIT_MIN = 10
CONNECTION_LIMIT_MAX = 1000

_REQUESTED_NAME = re.compile(r'[A-Za-z0-9_]+')
_CUSTOMER_ID = re.compile(r'[A-Za-z0-9]+')
_TECHNICAL_NAME = re.compile(r'cust_([A-Za-z0-9]+)_(pg|mdb)_([A-Za-z0-9_]+)')


class ValidationError(WaysCloudError):
    """Bad input, found before anything was touched."""


def check_db_type(db_type):
    if db_type not in DB_TYPES:
        raise ValidationError('db_type must be one of %s, got %r' % (', '.join(DB_TYPES), db_type))
    return db_type


def check_requested_name(requested_name):
    if not isinstance(requested_name, str) or not _REQUESTED_NAME.fullmatch(requested_name):
        raise ValidationError('requested_name may contain only ASCII letters, digits and underscore'
                              ' (got %r)' % (requested_name,))
    if len(requested_name) > MAX_REQUESTED_NAME_LENGTH:
        raise ValidationError('requested_name must be at most %d characters (got %d)'
                              % (MAX_REQUESTED_NAME_LENGTH, len(requested_name)))
    return requested_name


def check_customer_id(customer_id):
    if not isinstance(customer_id, str) or not _CUSTOMER_ID.fullmatch(customer_id):
        raise ValidationError('customer_id may contain only ASCII letters and digits (got %r)' % (customer_id,))
    return customer_id


def technical_name(db_type, customer_id, requested_name):
    """The database name (and user name) the API would give; fails if the engines could not hold it."""
    check_db_type(db_type)
    check_customer_id(customer_id)
    check_requested_name(requested_name)
    name = 'cust_%s_%s_%s' % (customer_id, TYPE_TAGS[db_type], requested_name)
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError('the database name %s is %d characters; PostgreSQL and MariaDB identifiers'
                              ' hold at most %d, so shorten customer_id or requested_name'
                              % (name, len(name), MAX_NAME_LENGTH))
    return name


def parse_technical_name(db_type, name):
    """Split a technical name into (customer_id, requested_name); it must belong to ``db_type``."""
    check_db_type(db_type)
    match = _TECHNICAL_NAME.fullmatch(name) if isinstance(name, str) else None
    if not match:
        raise ValidationError('name must look like cust_{customer_id}_{pg|mdb}_{requested_name}'
                              ' with ASCII letters, digits and underscore (got %r)' % (name,))
    customer_id, tag, requested_name = match.groups()
    if tag != TYPE_TAGS[db_type]:
        raise ValidationError('name %s is a %s name but db_type is %s'
                              % (name, 'PostgreSQL' if tag == 'pg' else 'MariaDB', db_type))
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError('name must be at most %d characters (got %d)' % (MAX_NAME_LENGTH, len(name)))
    check_requested_name(requested_name)
    return customer_id, requested_name


def db_type_of(name):
    """The engine a technical name belongs to (its _pg_ or _mdb_ part), validating the whole name."""
    match = _TECHNICAL_NAME.fullmatch(name) if isinstance(name, str) else None
    if not match:
        raise ValidationError('%r is not a database name (cust_{customer_id}_{pg|mdb}_{requested_name})' % (name,))
    db_type = dict((tag, db_type) for db_type, tag in TYPE_TAGS.items())[match.group(2)]
    parse_technical_name(db_type, name)
    return db_type


def check_connection_limit(limit):
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValidationError('connection_limit must be a whole number (got %r)' % (limit,))
    if not CONNECTION_LIMIT_MIN <= limit <= CONNECTION_LIMIT_MAX:
        raise ValidationError('connection_limit must be between %d and %d (got %d)'
                              % (CONNECTION_LIMIT_MIN, CONNECTION_LIMIT_MAX, limit))
    return limit


def check_description(description, max_length=1024):
    if description is None:
        return None
    if not isinstance(description, str):
        raise ValidationError('description must be a string')
    if len(description) > max_length:
        raise ValidationError('description must be at most %d characters (got %d)' % (max_length, len(description)))
    if '\x00' in description:
        raise ValidationError('description must not contain NUL characters')
    return description
