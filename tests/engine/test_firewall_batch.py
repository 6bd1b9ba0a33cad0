# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A list's firewall changes are written at its end (issue 20, item 1): what each database's change does there.

Another process changing the catalog meanwhile is a second HostDatabases on the same state_dir, made to act at the
moment named (just before the batch's write, or between two items).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from commands import run

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import PRIMARY_HOST
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

FIRST, SECOND = '198.51.100.0/24', '203.0.113.7/32'


@pytest.fixture
def two(engine, logins):
    """(this task's HostDatabases, another process's on the same state_dir, [two new databases])."""
    databases, state_dir = engine
    databases.network = NETWORKS['none'](run)
    other = HostDatabases(databases.db_type, logins[databases.db_type], state_dir, network=NETWORKS['none'](run), run=run)
    names = []
    for requested in ('bta', 'btb'):
        db_name = technical_name(databases.db_type, 'lyrd', requested)
        databases.delete(db_name)
        databases.create('lyrd', requested)
        databases.made.append(db_name)
        names.append(db_name)
    yield databases, other, names
    other.close()


def stored(databases, db_name):
    return [(rule['ip_address'], rule['description']) for rule in databases.catalog.rules(db_name=db_name)]


def admits(databases, db_name, network):
    return (db_name, db_name, network) in databases.driver.access()


def added_first_before_the_write(monkeypatch, firewall, other, db_name):
    """Have ``other`` give ``db_name`` a rule for FIRST just before ``firewall`` writes its batch."""
    write = firewall._write

    def racing(queued):
        other.firewall().add(db_name, FIRST)
        write(queued)
    monkeypatch.setattr(firewall, '_write', racing)


def test_a_user_without_a_password_hash_fails_at_its_own_item(two):
    """A MariaDB user a network account cannot copy fails the item that asks for it; the items before it are stored."""
    databases, dummy, (first, second) = two
    if databases.db_type != 'mariadb':
        pytest.skip('PostgreSQL needs no account per network')
    databases.driver.execute('ALTER USER %s@%s IDENTIFIED VIA unix_socket', (second, PRIMARY_HOST))
    firewall = databases.firewall()
    with databases.batch():
        firewall.add(first, FIRST)
        with pytest.raises(Conflict, match='MariaDB user %s has no password hash' % second):
            firewall.add(second, FIRST)
    assert stored(databases, first) == [(FIRST, None)]
    assert admits(databases, first, FIRST) and stored(databases, second) == []


def test_a_database_deleted_in_a_list_leaves_no_rule(two):
    """A rule another process gave the database after the list read the catalog goes with it, and its access."""
    databases, other, (first, dummy) = two
    databases.firewall().add(first, FIRST)
    with databases.batch():
        databases.firewall().list(first)
        other.firewall().add(first, SECOND)
        databases.delete(first)
    assert stored(databases, first) == []
    assert not databases.driver.access()


def test_a_database_made_again_before_the_list_ends_keeps_its_access(two):
    """Deleted in a list and made again (with a rule) by another process before the list's end: the new one's access
    stays; only the old rules are forgotten (that process wrote the old one's too, from the catalog then: drift names
    it)."""
    databases, other, (first, dummy) = two
    databases.firewall().add(first, FIRST)
    with databases.batch():
        databases.delete(first)
        other.create('lyrd', 'bta')
        other.firewall().add(first, SECOND)
    assert stored(databases, first) == [(SECOND, None)]
    assert admits(databases, first, SECOND)
    assert databases.firewall().drift(first) == [{
        'postgresql': 'pg_hba: host "%s" "%s" %s scram-sha-256 not declared' % (first, first, FIRST),
        'mariadb': "MariaDB account '%s'@'198.51.100.0/255.255.255.0' not declared" % first}[databases.db_type]]


def test_a_description_in_a_list_waits_for_its_rule(two):
    """A queued rule's description is stored with it, not before; a rule gone meanwhile is not made again."""
    databases, other, (first, second) = two
    firewall = databases.firewall()
    with databases.batch():
        rule, dummy = firewall.add(first, FIRST)
        firewall.describe(first, rule, 'office')
        assert stored(other, first) == []
    assert stored(databases, first) == [(FIRST, 'office')]
    rule, dummy = firewall.add(second, FIRST)
    other.firewall().remove(second, rule['rule_id'])
    with pytest.raises(NotFound):
        firewall.describe(second, rule, 'office')
    assert stored(databases, second) == []


def test_add_returns_the_rule_stored(two, monkeypatch):
    """Another process adding the same address first: add answers with that rule, the one stored."""
    databases, other, (first, dummy) = two
    firewall = databases.firewall()
    added_first_before_the_write(monkeypatch, firewall, other, first)
    rule, dummy = firewall.add(first, FIRST)
    assert [r['rule_id'] for r in databases.catalog.rules(db_name=first)] == [rule['rule_id']]


def test_a_list_answers_with_the_rules_stored(two, monkeypatch):
    """In a list too: another process adding the same address before the list's write, what the list handed out (the
    item's rules, as the module reports them) names the rule stored, not the one this list made and never stored."""
    databases, other, (first, dummy) = two
    firewall = databases.firewall()
    added_first_before_the_write(monkeypatch, firewall, other, first)
    with databases.batch():
        firewall.add(first, FIRST, 'office')
        listed = firewall.list(first)
    assert [(r['rule_id'], r['ip_address'], r['description']) for r in listed] == [
        (r['rule_id'], r['ip_address'], r['description']) for r in databases.catalog.rules(db_name=first)]


def test_a_database_whose_layer_fails_is_named_and_the_others_are_stored(two, monkeypatch):
    """The write leaves one database's layer as it was (as a statement that failed would): the other's rules are
    stored, the error names the one whose are not, and the items' own errors are kept."""
    databases, dummy, (first, second) = two
    firewall = databases.firewall()
    set_accesses = databases.driver.set_accesses
    monkeypatch.setattr(databases.driver, 'set_accesses', lambda accesses, owner: set_accesses(
        dict((db_name, access) for db_name, access in accesses.items() if db_name != second), owner))
    with pytest.raises(Exception, match='rules of %s database %s are not changed' % (databases.db_type, second)):
        with databases.batch():
            firewall.add(first, FIRST)
            firewall.add(second, FIRST)
    assert stored(databases, first) == [(FIRST, None)] and stored(databases, second) == []
    with pytest.raises(NotFound, match='no such item.*then.*%s' % second):
        with databases.batch():
            firewall.add(first, SECOND)
            firewall.add(second, SECOND)
            raise NotFound('no such item')
    assert sorted(stored(databases, first)) == [(FIRST, None), (SECOND, None)]


def test_a_database_whose_layer_cannot_be_read_back_is_named_and_the_others_are_stored(two, monkeypatch):
    """Reading one database's layer back after the write fails (a connection lost, say): the other's rules are
    stored, the error names the one whose are not."""
    databases, dummy, (first, second) = two
    firewall, driver, written = databases.firewall(), databases.driver, []
    set_accesses, check_access = driver.set_accesses, driver.check_access

    def write(accesses, owner):
        set_accesses(accesses, owner)
        written.append(owner)

    def check(db_name, user, networks):
        if written and db_name == second:
            raise BackendError('%s: the connection was lost' % driver.label)
        return check_access(db_name, user, networks)
    monkeypatch.setattr(driver, 'set_accesses', write)
    monkeypatch.setattr(driver, 'check_access', check)
    with pytest.raises(BackendError, match='rules of %s database %s are not changed: .*connection was lost'
                       % (databases.db_type, second)):
        with databases.batch():
            firewall.add(first, FIRST)
            firewall.add(second, SECOND)
    assert stored(databases, first) == [(FIRST, None)] and stored(databases, second) == []


def test_a_hand_edit_that_keeps_size_and_time_is_read(two):
    """Each of a list's new databases writes its lines from what the last one wrote only while the file is unchanged:
    an edit of the same size with its time put back is read too (and kept: it concerns another database)."""
    databases, dummy, (first, dummy) = two
    if databases.db_type != 'postgresql':
        pytest.skip('MariaDB has no file')
    path = databases.driver.execute('SHOW hba_file')[0][0]
    third = technical_name('postgresql', 'lyrd', 'btc')
    databases.delete(third)
    databases.create('lyrd', 'btc')
    databases.made.append(third)
    with open(path) as handle:
        text = handle.read()
    line = 'host "%s" "%s","postgres" 127.0.0.1/32 scram-sha-256' % (first, first)
    assert line in text
    info = os.stat(path)
    with open(path, 'w') as handle:
        handle.write(text.replace(line, line.replace('127.0.0.1/32', '127.0.0.2/32')))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    fourth = technical_name('postgresql', 'lyrd', 'btd')
    databases.delete(fourth)
    databases.create('lyrd', 'btd')
    databases.made.append(fourth)
    with open(path) as handle:
        assert line.replace('127.0.0.1/32', '127.0.0.2/32') in handle.read()


def test_a_database_dropped_before_the_list_ends_is_named(two):
    """Another process drops a database the list gave a rule: the list's other rules are stored, the error names it."""
    databases, other, (first, second) = two
    firewall = databases.firewall()
    with pytest.raises(Exception, match='rules of %s database %s are not changed: .*dropped' % (databases.db_type, second)):
        with databases.batch():
            firewall.add(first, FIRST)
            firewall.add(second, FIRST)
            other.delete(second)
    assert stored(databases, first) == [(FIRST, None)] and stored(databases, second) == []
    assert admits(databases, first, FIRST)
