# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Result shapes both backends return, so one playbook runs unchanged on either."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DATABASE_FIELDS = ('db_type', 'db_name', 'username', 'customer_id', 'host', 'port', 'connection_limit',
                   'description', 'created_at', 'connection_string')

# What a task may change on an existing database (the API's PATCH body).
DATABASE_UPDATABLE = ('connection_limit', 'description')


def database_result(**fields):
    """The ``database`` dict of a result; unknown keys are a programming error."""
    unknown = set(fields) - set(DATABASE_FIELDS)
    if unknown:
        raise KeyError('not database fields: %s' % ', '.join(sorted(unknown)))
    return dict((field, fields.get(field)) for field in DATABASE_FIELDS)


def database_changes(current, wanted):
    """The updatable fields whose wanted value (None: not managed) differs from the current one."""
    return dict((field, wanted[field]) for field in DATABASE_UPDATABLE
                if wanted.get(field) is not None and wanted[field] != current.get(field))


def files_diff(drift):
    """The two sides of a diff, under ``host_files``, of the host files a task writes or removes ({path: (as found,
    as it will be)}, host/schedule.py's drift); empty sides when there are none."""
    if not drift:
        return {}, {}
    return (dict(host_files=dict((path, found) for path, (found, wanted) in drift.items())),
            dict(host_files=dict((path, wanted) for path, (found, wanted) in drift.items())))


# GET .../credentials of the contract, less the password it never shows, plus created_at after a rotation.
CREDENTIALS_FIELDS = ('host', 'port', 'database', 'username', 'connection_string', 'created_at')


def credentials_result(database, created_at=None):
    """Credentials metadata from a ``database`` dict."""
    return dict(host=database['host'], port=database['port'], database=database['db_name'],
                username=database['username'], connection_string=database['connection_string'],
                created_at=created_at)


# A firewall rule, as the contract's POST .../firewall answers it.
RULE_FIELDS = ('rule_id', 'db_name', 'db_type', 'ip_address', 'port', 'description', 'created_at')
