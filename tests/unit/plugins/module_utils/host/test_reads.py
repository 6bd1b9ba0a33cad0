# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a batch reads rows (host/driver.py remembered_item, read_once): a request about one database reads that
database's rows; a list of thousands reads each table once; a value some readers never need is read once at most."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wayscloud.databases.plugins.module_utils.host import driver
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import UfwNetwork
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Owner

TABLE = dict(('user%d' % number, number) for number in range(100))


class Reads:
    """A table read one row or all rows at a time, counting the queries."""

    def __init__(self):
        self.one, self.all = [], 0

    def read_one(self, item):
        self.one.append(item)
        return TABLE.get(item, -1)

    def read_all(self):
        self.all += 1
        return dict(TABLE)


def test_a_batch_reads_a_row_each_for_its_first_items_then_the_table_once():
    store, reads = {}, Reads()
    asked = ['user%d' % number for number in range(50)] + ['user3', 'nobody']
    answers = [driver.remembered_item(store, 'table', item, reads.read_one, reads.read_all, -1) for item in asked]
    assert answers == list(range(50)) + [3, -1]
    assert reads.one == asked[:driver._ONE_BY_ONE] and reads.all == 1


def test_a_batch_asking_about_one_row_again_reads_it_once():
    store, reads = {}, Reads()
    for dummy in range(20):
        assert driver.remembered_item(store, 'table', 'user7', reads.read_one, reads.read_all) == 7
    assert reads.one == ['user7'] and reads.all == 0


def test_outside_a_batch_each_call_reads_its_row():
    reads = Reads()
    for dummy in range(20):
        driver.remembered_item(None, 'table', 'user7', reads.read_one, reads.read_all)
    assert len(reads.one) == 20 and reads.all == 0


def test_a_forgotten_store_reads_again():
    store, reads = {}, Reads()
    for item in list(TABLE)[:20]:
        driver.remembered_item(store, 'table', item, reads.read_one, reads.read_all)
    store.clear()  # what Driver.forget_reads does after a statement
    assert driver.remembered_item(store, 'table', 'user99', reads.read_one, reads.read_all) == 99
    assert reads.one[-1] == 'user99' and reads.all == 1


def test_ufw_reads_the_catalogs_rule_ids_once_for_any_number_of_old_comments():
    """Rules written before catalogs had ids carry '<comment> <rule id>': each is matched against the catalog's ids,
    read once per read of ufw, and not at all when no such comment is there."""
    lines = ["ufw allow from 192.0.2.%d to any port 5432 proto tcp comment 'wayscloud r%d'" % (n, n) for n in range(50)]
    lines.append("ufw allow from 198.51.100.1 to any port 5432 proto tcp comment 'wayscloud cat1 r99'")
    network = UfwNetwork(lambda argv, **kwargs: '\n'.join(lines))
    calls = []

    def rule_ids():
        calls.append(1)
        return set('r%d' % n for n in range(0, 50, 2))
    state = network.read(Owner('cat1', None), driver.read_once(rule_ids))
    assert len(calls) == 1 and len(state.admitted) == 51
    assert state.mine == set([('192.0.2.%d/32' % n, 5432) for n in range(0, 50, 2)] + [('198.51.100.1/32', 5432)])
    network = UfwNetwork(lambda argv, **kwargs: lines[-1])
    network.read(Owner('cat1', None), driver.read_once(rule_ids))
    assert len(calls) == 1


def test_a_batch_that_writes_now_and_then_reads_a_table_whole_a_few_times_only():
    """Each write forgets what was read; past driver._WHOLE_READS whole reads, a batch reads a row each again."""
    store, reads = {}, Reads()
    for number in range(90):
        assert driver.remembered_item(store, 'table', 'user%d' % number, reads.read_one, reads.read_all) == number
        if number % 9 == 8:
            driver.forget(store)  # an item that wrote
    assert reads.all == driver._WHOLE_READS
    assert len(reads.one) == driver._WHOLE_READS * driver._ONE_BY_ONE + (90 - 9 * driver._WHOLE_READS)


def test_the_developer_guide_says_how_often_a_batch_reads_a_table_whole():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), *['..'] * 5))
    with open(os.path.join(root, 'docs', 'dev.md')) as handle:
        guide = ' '.join(handle.read().split())
    words = {1: 'once', 2: 'twice', 3: 'three times', 4: 'four times'}
    assert 'the whole table, at most %s a batch' % words[driver._WHOLE_READS] in guide
