# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a list reads of the server (issue 20, item 1): past its first few databases, every database's row in one query,
and a change, made under its database's lock, from the server as it is then (not as the list read it before).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from commands import run

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

CUSTOMER = 'brds'
COUNT = 20
# The statements that read a database's row (and, on PostgreSQL, its settings and owner).
ROW_READS = ('FROM pg_database d', 'information_schema.SCHEMATA')


def made(engine, requested_names):
    databases = engine[0]
    databases.network = NETWORKS['none'](run)
    names = []
    for requested in requested_names:
        db_name = technical_name(databases.db_type, CUSTOMER, requested)
        databases.delete(db_name)
        databases.create(CUSTOMER, requested, connection_limit=17)
        databases.made.append(db_name)
        names.append(db_name)
    return names


def test_a_list_with_nothing_to_do_reads_the_rows_of_its_databases_once(engine):
    databases, dummy = engine
    names = made(engine, ['brd%02d' % number for number in range(COUNT)])
    del databases.driver.queries[:]
    with databases.batch():
        for db_name in names:
            database = databases.get(db_name)
            assert databases.drift(database, dict(connection_limit=17, description=None)) == {}
    reads = [query for query in databases.driver.queries if any(table in query for table in ROW_READS)]
    # The first few a query each (one kind of read on MariaDB, two on PostgreSQL), then one for all: 20 databases
    # read one by one would be 20 and 40.
    assert len(reads) <= 2 * 9, reads


def test_a_creation_in_a_list_sees_a_database_made_since_the_list_read_them_all(engine, logins):
    """Another process makes a database after the list has read every database's row: the list's creation of the
    same database, under its lock, finds it there and leaves it (as it would without a list)."""
    databases, state_dir = engine
    names = made(engine, ['brc%02d' % number for number in range(10)])
    late = technical_name(databases.db_type, CUSTOMER, 'brlate')
    other = HostDatabases(databases.db_type, logins[databases.db_type], state_dir, run=run)
    try:
        databases.delete(late)
        with databases.batch():
            for db_name in names:
                databases.get(db_name)
            assert databases.get(late) is None
            other.create(CUSTOMER, 'brlate')
            databases.made.append(late)
            database, password, created = databases.create(CUSTOMER, 'brlate')
        assert (database['db_name'], password, created) == (late, None, False)
    finally:
        other.close()


def test_a_request_without_a_packet_filter_reads_only_its_own_database_s_rules(engine, monkeypatch):
    """The API server's batch of one, on a host whose other databases have rules: with firewall_driver none nothing
    reads the catalog's every rule (a packet filter needs them all; the database layer its own database's)."""
    databases, dummy = engine
    first, second = made(engine, ['brdra', 'brdrb'])
    databases.firewall().add(second, '198.51.100.7/32')
    whole = []
    rules = databases.catalog.rules
    monkeypatch.setattr(databases.catalog, 'rules', lambda db_type=None, db_name=None: (
        whole.append(1) if db_name is None else None) or rules(db_type, db_name))
    rule = databases.firewall().add(first, '198.51.100.8/32')[0]
    databases.firewall().remove(first, rule['rule_id'])
    assert whole == []
    monkeypatch.undo()
    assert [r['ip_address'] for r in databases.catalog.rules(db_name=second)] == ['198.51.100.7/32']
