# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall rules across a real network: run by scripts/netns_test.sh inside the server namespace.

Server 198.18.0.1 (this namespace, the databases and the packet filter); clients 198.18.0.2 and
198.18.0.3 in namespaces of their own. For each packet-filter driver and engine: the allowed address
reaches its database as its user; the other address is refused at TCP; the allowed address is
refused by the database for another customer's user or database; after the rule goes, it is refused
at TCP again. A new database is closed to its tenant before any line of its own exists, and removing
a rule ends only the sessions that no remaining rule allows. A packet-filter rule deleted by hand is
named and put back; a second catalog on the host shares ufw and is refused the nftables table.
"""

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import Conflict
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS

from commands import run
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

SERVER = '198.18.0.1'
ALLOWED, OTHER = 'wccli1', 'wccli2'  # namespaces of 198.18.0.2 and 198.18.0.3
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'client.py')


def attempt(namespace, db_type, port, user, password, database):
    """What a client in ``namespace`` gets; the result settles within a few seconds (pg reload is async)."""
    env = dict(os.environ, WAYSCLOUD_CLIENT_PASSWORD=password)
    done = subprocess.run(['ip', 'netns', 'exec', namespace, sys.executable, CLIENT, db_type, SERVER, str(port),
                           user, database], env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


class Session:
    """A customer's session held open from a client namespace (client.py hold)."""

    def __init__(self, namespace, db_type, port, user, password, database):
        self.process = subprocess.Popen(
            ['ip', 'netns', 'exec', namespace, sys.executable, CLIENT, 'hold', db_type, SERVER, str(port), user, database],
            env=dict(os.environ, WAYSCLOUD_CLIENT_PASSWORD=password), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        assert self.process.stdout.readline().strip() == 'ok'

    def alive(self):
        self.process.stdin.write('?\n')
        self.process.stdin.flush()
        return self.process.stdout.readline().strip() == 'ok'

    def close(self):
        self.process.kill()
        self.process.wait()


def allowed(firewall):
    """The (CIDR, port) pairs the packet filter lets through (None without one)."""
    state = firewall.network.read(firewall.catalog.identity(), set)
    return None if state is None else state.admitted


def settled(expected, *args):
    for dummy in range(20):
        answer = attempt(*args)
        if answer == expected:
            return answer
        time.sleep(0.25)
    return answer


@pytest.fixture(params=['ufw', 'nftables'])
def driver(request):
    """The packet filter of this namespace, on for the test and reset after it."""
    if request.param == 'ufw':
        run(['ufw', 'default', 'deny', 'incoming'])
        run(['ufw', '--force', 'enable'])
    yield request.param
    if request.param == 'ufw':
        run(['ufw', '--force', 'disable'])
    else:
        run(['nft', 'delete', 'table', 'inet', 'wayscloud'])


@pytest.fixture(params=['postgresql', 'mariadb'])
def pair(request, driver, tmp_path):
    """Two customers' databases on one engine, with the firewall of the driver under test."""
    db_type = request.param
    env = os.environ
    socket, port = (('WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT') if db_type == 'postgresql'
                    else ('WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT'))
    port = int(env[port])
    databases = HostDatabases(db_type, ServerLogin(unix_socket=env[socket], port=port, public_host=SERVER),
                              str(tmp_path / 'state'), network=NETWORKS[driver](run))
    firewall = databases.firewall()
    names = [technical_name(db_type, customer, 'net') for customer in ('neta', 'netb')]
    for name in names:
        databases.delete(name)
    made = [databases.create(name.split('_')[1], 'net')[:2] for name in names]
    yield db_type, port, firewall, [(database['db_name'], password) for database, password in made]
    for name in names:
        databases.delete(name)  # takes the database's firewall rules with it
    assert allowed(firewall) == set()
    databases.close()


def test_both_layers_must_allow(pair):
    db_type, port, firewall, ((a, password_a), (b, password_b)) = pair
    rule = firewall.add(a, '198.18.0.2/32', 'client one')[0]
    assert settled('ok', ALLOWED, db_type, port, a, password_a, a) == 'ok'
    assert attempt(OTHER, db_type, port, a, password_a, a) == 'tcp-refused'
    assert attempt(ALLOWED, db_type, port, b, password_b, b) == 'db-refused'
    assert attempt(ALLOWED, db_type, port, a, password_a, b) == 'db-refused'
    assert attempt(ALLOWED, db_type, port, b, password_b, a) == 'db-refused'

    firewall.remove(a, rule['rule_id'])
    assert settled('tcp-refused', ALLOWED, db_type, port, a, password_a, a) == 'tcp-refused'
    assert allowed(firewall) in (set(), None)
    assert not [entry for entry in firewall.driver.access() if entry[0] == a]


def test_overlapping_rules_of_two_databases(pair):
    """A /24 for one database and a /32 inside it for another: both hold, and each goes on its own."""
    db_type, port, firewall, ((a, password_a), (b, password_b)) = pair
    wide = firewall.add(a, '198.18.0.0/24')[0]
    firewall.add(b, '198.18.0.2/32')
    assert settled('ok', ALLOWED, db_type, port, a, password_a, a) == 'ok'
    assert settled('ok', OTHER, db_type, port, a, password_a, a) == 'ok'
    assert attempt(ALLOWED, db_type, port, b, password_b, b) == 'ok'
    assert attempt(OTHER, db_type, port, b, password_b, b) == 'db-refused'

    firewall.remove(a, wide['rule_id'])
    assert settled('db-refused', ALLOWED, db_type, port, a, password_a, a) == 'db-refused'
    assert attempt(OTHER, db_type, port, a, password_a, a) == 'tcp-refused'
    assert attempt(ALLOWED, db_type, port, b, password_b, b) == 'ok'


def test_a_new_database_is_closed_to_its_tenant_from_its_first_second(pair):
    """Before any line of its own is written (the step creation takes before it rewrites the access lists), an
    address the packet filter lets through still cannot log in: the tenant is refused by the database."""
    db_type, port, firewall, ((a, password_a), dummy) = pair
    firewall.add(a, '198.18.0.0/24')
    name = technical_name(db_type, 'netc', 'net')
    firewall.backend.delete(name)
    firewall.driver.create_database(name, name, password_a, None, None)
    try:
        assert settled('ok', ALLOWED, db_type, port, a, password_a, a) == 'ok'
        assert attempt(ALLOWED, db_type, port, name, password_a, name) == 'db-refused'
    finally:
        firewall.driver.drop_database(name)
        firewall.driver.drop_user(name)


def test_removing_a_rule_ends_only_the_sessions_no_rule_still_allows(pair):
    db_type, port, firewall, ((a, password_a), (b, password_b)) = pair
    wide = firewall.add(a, '198.18.0.0/24')[0]
    firewall.add(a, '198.18.0.2/32')
    firewall.add(b, '198.18.0.0/24')
    assert settled('ok', OTHER, db_type, port, a, password_a, a) == 'ok'
    kept, ended = Session(ALLOWED, db_type, port, a, password_a, a), Session(OTHER, db_type, port, a, password_a, a)
    other = Session(OTHER, db_type, port, b, password_b, b)
    try:
        firewall.remove(a, wide['rule_id'])
        assert not ended.alive()
        assert kept.alive()
        assert other.alive()
    finally:
        for session in (kept, ended, other):
            session.close()


def test_a_packet_filter_rule_deleted_by_hand_is_named_and_put_back(pair, driver):
    db_type, port, firewall, ((a, password_a), dummy) = pair
    firewall.add(a, '198.18.0.2/32')
    assert settled('ok', ALLOWED, db_type, port, a, password_a, a) == 'ok'
    if driver == 'ufw':
        run(['ufw', 'delete', 'allow', 'from', '198.18.0.2', 'to', 'any', 'port', str(port), 'proto', 'tcp'])
    else:
        run(['nft', 'flush', 'set', 'inet', 'wayscloud', 'allow4'])
    assert settled('tcp-refused', ALLOWED, db_type, port, a, password_a, a) == 'tcp-refused'
    named = ['%s: 198.18.0.2/32 to port %d not allowed' % (driver, port)]
    assert firewall.drift(a) == named
    assert firewall.repair(a) == named
    assert firewall.drift(a) == []
    assert settled('ok', ALLOWED, db_type, port, a, password_a, a) == 'ok'


def test_a_second_catalog_shares_ufw_and_is_refused_the_nftables_table(pair, driver, tmp_path):
    """Another state_dir on the host: with ufw each keeps its own rules and the other's keep working; the nftables
    table is the first catalog's, and the second is refused, naming it."""
    db_type, port, firewall, ((a, password_a), (b, password_b)) = pair
    firewall.add(a, '198.18.0.2/32')
    owner = firewall.catalog.identity()
    second = HostDatabases(db_type, firewall.driver.login, str(tmp_path / 'second'), network=NETWORKS[driver](run))
    try:
        if driver == 'nftables':
            with pytest.raises(Conflict) as refused:
                second.firewall().add(b, '198.18.0.3/32')
            assert 'held by catalog %s (state_dir %s)' % (owner.catalog_id, owner.state_dir) in str(refused.value)
            assert 'ufw can be shared instead' in str(refused.value)
        else:
            rule = second.firewall().add(b, '198.18.0.3/32')[0]
            assert settled('ok', OTHER, db_type, port, b, password_b, b) == 'ok'
            assert second.firewall().drift(b) == [] and firewall.drift(a) == []
            second.firewall().remove(b, rule['rule_id'])
            assert settled('tcp-refused', OTHER, db_type, port, b, password_b, b) == 'tcp-refused'
        assert settled('ok', ALLOWED, db_type, port, a, password_a, a) == 'ok'
        assert firewall.drift(a) == []
    finally:
        second.close()


def test_a_database_whose_access_fails_in_a_list_opens_nothing_in_the_packet_filter(pair, monkeypatch):
    """A list whose write leaves one database's access as it was (as a statement that failed would): the packet
    filter lets in the other database's new address, not the failing one's, which the catalog does not hold either."""
    db_type, port, firewall, ((a, dummy), (b, dummy)) = pair
    driver = firewall.driver
    set_accesses = driver.set_accesses
    monkeypatch.setattr(driver, 'set_accesses', lambda accesses, owner: set_accesses(
        dict((db_name, access) for db_name, access in accesses.items() if db_name != b), owner))
    with pytest.raises(Exception, match='rules of %s database %s are not changed' % (db_type, b)):
        with firewall.batch():
            firewall.add(a, '198.18.0.2/32')
            firewall.add(b, '198.18.0.3/32')
    assert allowed(firewall) == {('198.18.0.2/32', port)}
    assert [rule['ip_address'] for rule in firewall.catalog.rules()] == ['198.18.0.2/32']
