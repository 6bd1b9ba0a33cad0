# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error of a ``databases`` list that fails at an item: what it says and what it carries."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.module import unfinished_list


def items(*names):
    return [dict(name=None, requested_name=name) for name in names]


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
