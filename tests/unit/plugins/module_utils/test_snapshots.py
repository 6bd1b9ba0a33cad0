# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils import snapshots
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import Conflict, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

DB = 'cust_abc_pg_shop'


def test_new_ids_have_the_contract_form_and_differ():
    now = datetime.datetime(2026, 11, 26, 14, 30, 0, tzinfo=datetime.timezone.utc)
    first, second = snapshots.new_snapshot_id(now), snapshots.new_snapshot_id(now)
    assert first.startswith('snap_20261126_143000_') and first != second
    assert snapshots.check_snapshot_id(first) == first


@pytest.mark.parametrize('bad', ['', '../snap_20261126_143000_a1b2c3d4', 'snap_20261126_143000_a1b2c3d4/..',
                                 'snap_20261126_143000_A1B2C3D4', 'snap_2026112_143000_a1b2c3d4', '/etc/passwd',
                                 'snap_20261126_143000_a1b2c3d4\x00', None, 5])
def test_bad_ids_are_refused(bad):
    with pytest.raises(ValidationError, match='snapshot id'):
        snapshots.check_snapshot_id(bad)


@pytest.mark.parametrize('description, label', [
    (None, None), ('before', None), (None, 'nightly'), ('before migration', 'pre-42.v1'), ('a [label=x] b', 'y')])
def test_label_travels_in_the_description_and_comes_back(description, label):
    stored = snapshots.tagged_description(description, label)
    assert snapshots.split_description(stored) == (description, label)


@pytest.mark.parametrize('label', ['', '-x', 'a b', 'x]', 'ä', 'a' * 64, '../x'])
def test_bad_labels_are_refused(label):
    with pytest.raises(ValidationError, match='label'):
        snapshots.check_label(label)


def test_target_names_follow_the_naming_rule_of_the_same_customer():
    assert snapshots.target_name('postgresql', DB, 'shop_copy') == 'cust_abc_pg_shop_copy'
    assert snapshots.target_name('postgresql', DB, 'cust_abc_pg_shop_copy') == 'cust_abc_pg_shop_copy'
    for bad, message in (('../evil', 'target_db_name'), ('cust_xyz_pg_shop', 'belongs to customer'),
                         ('cust_abc_mdb_shop2', 'target_db_name'), (DB, 'the database itself'),
                         ('shop', 'the database itself'), ('a' * 31, 'target_db_name'), (None, 'string')):
        with pytest.raises(ValidationError, match=message):
            snapshots.target_name('postgresql', DB, bad)


def test_restore_needed_knows_a_done_restore_and_refuses_others():
    snap = 'snap_20261126_143000_a1b2c3d4'
    copy = 'cust_abc_pg_copy'
    assert snapshots.restore_needed('postgresql', DB, snap, copy, None) is True
    done = dict(description=snapshots.restored_marker(snap, DB))
    assert snapshots.restore_needed('postgresql', DB, snap, copy, done) is False
    with pytest.raises(Conflict, match='exists already'):
        snapshots.restore_needed('postgresql', DB, snap, copy, dict(description='mine'))
    assert snapshots.restore_needed('postgresql', DB, snap, DB, dict(description=None)) is True
    with pytest.raises(NotFound, match='does not exist'):
        snapshots.restore_needed('postgresql', DB, snap, DB, None)
