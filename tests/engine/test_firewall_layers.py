# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The servers are the truth for firewall rules (issue 18, items 1 and 2), on the database layer of both engines.

Drift: a layer edited by hand (a pg_hba line of the block deleted or added, its closing line gone, a MariaDB network
account dropped, its grant revoked, its password or limit changed) is named by ``drift`` without anything being
touched, and ``repair`` puts it right. Shared servers: two catalogs (state_dirs) on one server each keep to the
databases whose rules they hold, byte for byte; one asked to touch the other's is refused with a message naming
the owner, until the owner lets go (or its state_dir is gone). The packet filter's part runs in tests/network.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

import pytest

from commands import run
from snapshot_fixtures import hba_block

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import OWNERS_TABLE
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import (
    MARK, block_groups)
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

NETWORK = '198.51.100.0/24'
ACCOUNT_HOST = '198.51.100.0/255.255.255.0'


@pytest.fixture(params=['postgresql', 'mariadb'])
def shared(request, logins, tmp_path):
    """Two catalogs on one server, each with a database of its own: [(catalog, its firewall, its database)]."""
    db_type = request.param
    sides = []
    for customer in ('lyra', 'lyrb'):
        databases = HostDatabases(db_type, logins[db_type], str(tmp_path / customer), network=NETWORKS['none'](run),
                                  run=run)
        db_name = technical_name(db_type, customer, 'fw')
        databases.delete(db_name)
        databases.create(customer, 'fw')
        sides.append((databases, databases.firewall(), db_name))
    yield sides
    for databases, dummy, db_name in sides:
        databases.delete(db_name)
        databases.close()


def layer(databases, db_name):
    """What the server holds of a database's access: its group of the pg_hba block, or its user's accounts (with
    password hash and limit), grants and owner's row."""
    driver = databases.driver
    if databases.db_type == 'postgresql':
        return block_groups(hba_block(databases))[0].get(db_name)
    accounts = driver.execute('SELECT Host, authentication_string, max_user_connections FROM mysql.user'
                              ' WHERE User = %s ORDER BY Host', (db_name,))
    grants = driver.execute('SELECT Host, Db FROM mysql.db WHERE User = %s ORDER BY Host', (db_name,))
    owner = driver.execute('SELECT catalog_id, state_dir FROM %s WHERE user_name = %%s' % OWNERS_TABLE, (db_name,))
    return accounts, grants, owner


def hba_file(databases):
    return databases.driver.execute('SHOW hba_file')[0][0]


def edit_hba(databases, edit):
    path = hba_file(databases)
    with open(path) as handle:
        lines = handle.read().splitlines()
    with open(path, 'w') as handle:
        handle.write('\n'.join(edit(lines)) + '\n')


def admits(databases, db_name, network):
    return (db_name, db_name, network) in databases.driver.access()


def test_a_hand_edit_is_named_then_repaired(shared):
    (databases, firewall, db_name), dummy = shared
    firewall.add(db_name, NETWORK, 'app servers')
    assert firewall.drift(db_name) == []
    if databases.db_type == 'postgresql':
        allow = 'host "%s" "%s" %s scram-sha-256' % (db_name, db_name, NETWORK)
        stray = 'host "%s" "%s" 203.0.113.9/32 scram-sha-256' % (db_name, db_name)
        closing = 'host all +wayscloud_tenants all reject'
        edits = [
            (lambda lines: [line for line in lines if line != allow], ['pg_hba: %s missing' % allow]),
            (lambda lines: lines[:lines.index(allow) + 1] + [stray] + lines[lines.index(allow) + 1:],
             ['pg_hba: %s not declared' % stray]),
            (lambda lines: [line for line in lines if line != closing],
             ['pg_hba: the closing line that rejects the members of wayscloud_tenants over TCP is not as written']),
        ]
    else:
        account = "'%s'@'%s'" % (db_name, ACCOUNT_HOST)
        sql = databases.driver.execute
        edits = [
            (lambda: sql('DROP USER %s@%s', (db_name, ACCOUNT_HOST)), ['MariaDB account %s missing' % account]),
            (lambda: sql('REVOKE ALL PRIVILEGES ON `%s`.* FROM %%s@%%s' % db_name.replace('_', '\\_'),
                         (db_name, ACCOUNT_HOST)),
             ['MariaDB account %s lacks ALL PRIVILEGES on %s' % (account, db_name)]),
            (lambda: sql('ALTER USER %s@%s WITH MAX_USER_CONNECTIONS 7', (db_name, ACCOUNT_HOST)),
             ['MariaDB account %s has max_user_connections 7, not 0' % account]),
            (lambda: sql("ALTER USER %s@%s IDENTIFIED BY 'not the password'", (db_name, ACCOUNT_HOST)),
             ['MariaDB account %s has another password than its primary account' % account]),
            (lambda: sql('CREATE USER %s@%s', (db_name, '203.0.113.9')),
             ["MariaDB account '%s'@'203.0.113.9' not declared" % db_name]),
        ]
    good = layer(databases, db_name)
    for edit, named in edits:
        if databases.db_type == 'postgresql':
            edit_hba(databases, edit)
        else:
            edit()
        edited = layer(databases, db_name), open(hba_file(databases)).read() if databases.db_type == 'postgresql' else None
        assert firewall.drift(db_name) == named
        assert (layer(databases, db_name), open(hba_file(databases)).read() if databases.db_type == 'postgresql'
                else None) == edited, 'drift changed the server'
        assert firewall.repair(db_name) == named
        assert firewall.drift(db_name) == [] and firewall.repair(db_name) == []
        assert layer(databases, db_name) == good
    assert admits(databases, db_name, NETWORK)


def test_the_task_own_changes_are_no_drift(shared):
    """A network the task adds or removes is its change, not a repair: drift leaves it out."""
    (databases, firewall, db_name), dummy = shared
    firewall.add(db_name, NETWORK)
    if databases.db_type == 'postgresql':
        edit_hba(databases, lambda lines: [line for line in lines if NETWORK not in line])
    else:
        databases.driver.execute('DROP USER %s@%s', (db_name, ACCOUNT_HOST))
    assert firewall.drift(db_name, changing=[NETWORK]) == []
    assert len(firewall.drift(db_name)) == 1
    rule = firewall.list(db_name)[0]
    firewall.remove(db_name, rule['rule_id'])
    assert firewall.drift(db_name) == [] and not admits(databases, db_name, NETWORK)


def test_catalogs_keep_to_their_own_databases(shared):
    """Each catalog rewrites only its databases' access, byte for byte; the other's is refused with a message naming
    its owner and the way to move it; once the owner has no rules left there, it may be moved."""
    (first, first_firewall, mine), (second, second_firewall, theirs) = shared
    first_firewall.add(mine, NETWORK)
    owner = first.catalog.identity()
    kept = layer(first, mine)
    rule = second_firewall.add(theirs, '203.0.113.0/24')[0]
    second_firewall.repair(theirs)
    second_firewall.remove(theirs, rule['rule_id'])
    second_firewall.add(theirs, '203.0.113.7/32')
    assert layer(first, mine) == kept, 'the other catalog rewrote this one\'s access'
    assert admits(first, mine, NETWORK)
    if first.db_type == 'postgresql':
        assert kept[0] == '%s%s %s "%s"' % (MARK, owner.catalog_id, mine, owner.state_dir)
    else:
        assert kept[2] == ((owner.catalog_id, owner.state_dir),)

    for attempt in (lambda: second_firewall.add(mine, '192.0.2.1/32'), lambda: second_firewall.drift(mine),
                    lambda: second_firewall.repair(mine)):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert 'held by catalog %s (state_dir %s)' % (owner.catalog_id, owner.state_dir) in str(refused.value)
        assert 'remove them there (rules: [] with purge: true), then add them here' in str(refused.value)
    assert layer(first, mine) == kept and second_firewall.list(mine) == []

    first_firewall.remove(mine, first_firewall.list(mine)[0]['rule_id'])
    second_firewall.add(mine, '192.0.2.1/32')
    assert admits(first, mine, '192.0.2.1/32') and not admits(first, mine, NETWORK)
    with pytest.raises(Conflict):
        first_firewall.add(mine, NETWORK)


def test_the_access_of_a_catalog_that_is_gone_is_taken_over(shared):
    (first, first_firewall, mine), (second, second_firewall, dummy) = shared
    first_firewall.add(mine, NETWORK)
    owner = first.catalog.identity()
    first.catalog.close()
    shutil.rmtree(owner.state_dir)
    drift = second_firewall.drift(mine)
    assert drift and all(message.endswith(' not declared') for message in drift), drift
    second_firewall.add(mine, '192.0.2.1/32')
    assert admits(first, mine, '192.0.2.1/32') and not admits(first, mine, NETWORK)
    assert second_firewall.drift(mine) == []


def test_a_new_database_carries_no_mark(engine):
    """Access without rules is the same whoever writes it: a new database's is no catalog's."""
    databases, dummy = engine
    db_name = technical_name(databases.db_type, 'lyrc', 'fw')
    databases.network = NETWORKS['none'](run)
    databases.delete(db_name)
    databases.create('lyrc', 'fw')
    databases.made.append(db_name)
    if databases.db_type == 'postgresql':
        assert layer(databases, db_name)[0] is None
    assert databases.firewall().drift(db_name) == []


def test_a_line_of_no_database_in_the_block_is_drift(logins, tmp_path):
    """The block is the collection's: a line in it that is no existing customer or scratch database's (one added by
    hand for ``sameuser``, the lines of a database dropped outside the collection) is named by every database's drift,
    without anything being touched, and the next write of the block takes it out."""
    databases = HostDatabases('postgresql', logins['postgresql'], str(tmp_path / 'state'), network=NETWORKS['none'](run),
                              run=run)
    db_name = technical_name('postgresql', 'lyre', 'fw')
    hand = ['host sameuser all 0.0.0.0/0 trust', 'host "%s" all 203.0.113.0/24 scram-sha-256'
            % technical_name('postgresql', 'lyre', 'gone')]
    databases.delete(db_name)
    try:
        databases.create('lyre', 'fw')
        firewall = databases.firewall()
        firewall.add(db_name, NETWORK)
        edit_hba(databases, lambda lines: lines[:1] + hand + lines[1:])
        edited = open(hba_file(databases)).read()
        named = ['pg_hba: %s not declared' % line for line in hand]
        assert firewall.drift(db_name) == named and open(hba_file(databases)).read() == edited
        assert firewall.repair(db_name) == named
        assert not set(hand) & set(hba_block(databases)) and firewall.drift(db_name) == []
        edit_hba(databases, lambda lines: lines[:1] + hand + lines[1:])
        firewall.add(db_name, '192.0.2.1/32')  # any write of the block
        assert not set(hand) & set(hba_block(databases)) and admits(databases, db_name, NETWORK)
    finally:
        edit_hba(databases, lambda lines: [line for line in lines if line not in hand])
        databases.delete(db_name)
        databases.close()


def test_a_mariadb_copy_holds_its_users_rules_once_the_original_is_gone(logins, tmp_path):
    """On MariaDB an address reaches all of a user's databases through one account, so one of the user's databases
    holds the rules its accounts follow: the original while it exists, else the copy restored first (the others are
    refused a rule, named the holder). Deleting the original hands its rules to that copy, whose access stays as it
    was; the copy takes new rules; creating the original again takes them back; the last database of the user,
    deleted without the user, closes the user's network accounts."""
    databases = HostDatabases('mariadb', logins['mariadb'], str(tmp_path / 'state'), network=NETWORKS['none'](run),
                              run=run)
    db_name, first, second = (technical_name('mariadb', 'lyrd', name) for name in ('fw', 'fw_one', 'fw_two'))
    firewall = databases.firewall()
    try:
        databases.create('lyrd', 'fw')
        rule = firewall.add(db_name, NETWORK)[0]
        snapshots = databases.snapshots()
        snapshot_id = snapshots.create(db_name)['snapshot_id']
        snapshots.restore(db_name, snapshot_id, 'fw_one')
        snapshots.restore(db_name, snapshot_id, 'fw_two')
        with pytest.raises(Conflict, match='whose rules %s holds, so give the rule to %s instead' % (db_name, db_name)):
            firewall.add(first, '192.0.2.1/32')

        databases.delete(db_name)
        assert [r['rule_id'] for r in firewall.list(first)] == [rule['rule_id']] and admits(databases, db_name, NETWORK)
        assert 'the firewall rules of %s (%s) now belong to %s' % (db_name, NETWORK, first) in databases.warnings[-1]
        assert firewall.drift(first) == []
        firewall.add(first, '192.0.2.1/32')
        assert admits(databases, db_name, '192.0.2.1/32')
        with pytest.raises(Conflict, match='give the rule to %s instead' % first):
            firewall.add(second, '192.0.2.2/32')

        databases.create('lyrd', 'fw')  # adopts the kept user, and takes its rules back
        assert sorted(r['ip_address'] for r in firewall.list(db_name)) == ['192.0.2.1/32', NETWORK]
        assert firewall.list(first) == [] and firewall.drift(db_name) == []

        databases.delete(db_name)
        databases.delete(first)
        assert sorted(r['ip_address'] for r in firewall.list(second)) == ['192.0.2.1/32', NETWORK]
        assert firewall.drift(second) == []
        databases.delete(second, drop_user=False)
        assert databases.driver.user_exists(db_name) and not [row for row in databases.driver.access() if row[0] == db_name]
        assert databases.catalog.rules('mariadb') == []
    finally:
        for name in (second, first, db_name):
            databases.delete(name)
        databases.close()
