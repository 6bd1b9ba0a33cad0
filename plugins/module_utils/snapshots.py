# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Snapshot rules both backends share: ids, labels, target names, and the result shape.

A label makes creation idempotent. The contract has no label field, so the label travels at the end
of the description as `` [label=NAME]``; both backends store and parse it the same way, and results
show ``description`` and ``label`` apart again.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import datetime
import os
import re

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import Conflict, NotFound, database_missing
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

SNAPSHOT_ID = re.compile(r'snap_[0-9]{8}_[0-9]{6}_[0-9a-f]{8}')
LABEL = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,62}')
_LABEL_TAG = re.compile(r'(?:^| )\[label=(%s)\]$' % LABEL.pattern)

SNAPSHOT_FIELDS = ('snapshot_id', 'db_name', 'db_type', 'size_mb', 'created_at', 'description', 'label', 'expires_at')


def new_snapshot_id(now=None):
    """``snap_YYYYMMDD_HHMMSS_xxxxxxxx`` (UTC time and 32 random bits), the contract's form."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return 'snap_%s_%s' % (now.strftime('%Y%m%d_%H%M%S'), binascii.hexlify(os.urandom(4)).decode())


def check_snapshot_id(snapshot_id, field='snapshot_id'):
    if not isinstance(snapshot_id, str) or not SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ValidationError('%s %r is not a snapshot id: it must look like snap_YYYYMMDD_HHMMSS_xxxxxxxx'
                              ' (8 lower-case hex digits at the end)' % (field, snapshot_id))
    return snapshot_id


def check_label(label):
    if label is not None and not LABEL.fullmatch(label):
        raise ValidationError('label %r must be 1 to 63 letters, digits, _ . or -, starting with a letter or digit'
                              % (label,))
    return label


def tagged_description(description, label):
    """The description the snapshot is stored with: the user's text, then the label tag if any."""
    naming.check_description(description)
    check_label(label)
    if label is None:
        return description
    tag = '[label=%s]' % label
    return '%s %s' % (description, tag) if description else tag


def split_description(stored):
    """(description, label) from a stored description."""
    match = _LABEL_TAG.search(stored or '')
    if not match:
        return stored, None
    return stored[:match.start()] or None, match.group(1)


def snapshot_result(item, db_type, db_name):
    """A snapshot as results show it, from an API list item or a host catalog row turned into one."""
    description, label = split_description(item.get('description'))
    return dict(snapshot_id=item['snapshot_id'], db_name=item.get('db_name') or db_name,
                db_type=item.get('db_type') or db_type, size_mb=item.get('size_mb'),
                created_at=item.get('created_at'), description=description, label=label,
                expires_at=item.get('expires_at'))


def target_name(db_type, source_db_name, target):
    """The technical name of a restore target: given whole, or as a requested name of the source's customer."""
    customer_id = naming.parse_technical_name(db_type, source_db_name)[0]
    if not isinstance(target, str):
        raise ValidationError('target_db_name must be a string')
    try:
        if target.startswith('cust_'):
            target_customer = naming.parse_technical_name(db_type, target)[0]
            name = target
        else:
            target_customer, name = customer_id, naming.technical_name(db_type, customer_id, target)
    except ValidationError as exc:
        raise ValidationError('target_db_name: %s' % exc)
    if target_customer != customer_id:
        raise ValidationError('target_db_name %s belongs to customer %s; a snapshot of %s restores only into'
                              ' a database of customer %s' % (target, target_customer, source_db_name, customer_id))
    if name == source_db_name:
        raise ValidationError('target_db_name %s is the database itself: leave it out to restore in place' % name)
    return name


def restored_marker(snapshot_id, source_db_name):
    """The description a database restored into a new name gets; it also makes that restore idempotent."""
    return 'Restored from %s of %s' % (snapshot_id, source_db_name)


def restore_needed(db_type, db_name, snapshot_id, target, existing):
    """Whether restoring ``snapshot_id`` of ``db_name`` into ``target`` (now ``existing``, or None) changes it.

    A new database already restored from this snapshot (its description says so) needs nothing; any
    other existing one is never overwritten; an in-place restore needs the database.
    """
    if target != db_name:
        if existing is None:
            return True
        if existing['description'] == restored_marker(snapshot_id, db_name):
            return False
        raise Conflict('target_db_name %s exists already; restoring into a new database never overwrites one'
                       ' (restore %s in place, or choose another name)' % (target, target))
    if existing is None:
        raise NotFound('%s: restore its snapshot into a new database with target_db_name'
                       % database_missing(db_type, db_name))
    return True
