# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.resources import database_changes, database_result


def test_database_result_has_every_field_and_only_those():
    result = database_result(db_type='postgresql', db_name='cust_a_pg_b')
    assert result['connection_limit'] is None
    assert set(result) >= {'db_type', 'db_name', 'username', 'connection_string', 'created_at'}
    with pytest.raises(KeyError):
        database_result(password='secret')


@pytest.mark.parametrize('current, wanted, changes', [
    ({'connection_limit': 20, 'description': 'a'}, {'connection_limit': None, 'description': None}, {}),
    ({'connection_limit': 20, 'description': 'a'}, {'connection_limit': 20, 'description': 'a'}, {}),
    ({'connection_limit': 20, 'description': 'a'}, {'connection_limit': 50, 'description': None}, {'connection_limit': 50}),
    ({'connection_limit': None, 'description': None}, {'connection_limit': None, 'description': ''}, {'description': ''}),
    ({'connection_limit': 20, 'description': 'a'}, {'connection_limit': 20, 'description': 'b'}, {'description': 'b'}),
])
def test_only_managed_fields_that_differ_change(current, wanted, changes):
    assert database_changes(current, wanted) == changes
