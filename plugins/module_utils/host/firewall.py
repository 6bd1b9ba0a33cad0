# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Firewall rules on a host: an address reaches one database as its user, and nothing else.

Two layers must both allow a connection:
- network (host/network.py): the address may open TCP to the engine's port;
- database: PostgreSQL's pg_hba.conf block has ``host <db> <user> <cidr> scram-sha-256``; MariaDB
  has an account ``<user>@<cidr>`` with the same password and grants.
The catalog holds the rules; both layers are rewritten from it as a whole, under one host-wide lock,
and read back: a rule is stored only once both layers show it, and forgotten only once both show it gone.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import LOOPBACK_NETWORKS, new_rule_id
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Firewall
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import RULE_FIELDS
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now


def networks_by_database(rules, touched_db=None):
    """{db_name: [CIDR, ...]} of ``rules`` (``touched_db`` present even without any), as sync_access takes it."""
    networks = {} if touched_db is None else {touched_db: []}
    for rule in rules:
        networks.setdefault(rule['db_name'], []).append(rule['ip_address'])
    return networks


class HostFirewall(Firewall):
    def __init__(self, backend):
        self.backend = backend
        self.driver = backend.driver
        self.catalog = backend.catalog
        self.network = backend.network
        self.db_type = backend.db_type

    @staticmethod
    def _result(row):
        return dict((field, row[field]) for field in RULE_FIELDS)

    def list(self, db_name):
        self.backend.existing(db_name)
        return [self._result(row) for row in self.catalog.rules(self.db_type, db_name)]

    def add(self, db_name, ip_address, description=None):
        """Allow ``ip_address`` (a normalised CIDR) to ``db_name``; returns (rule, changed)."""
        naming.check_description(description)  # checked here too: the API server hands it over unchecked
        with self.catalog.lock(self.db_type, db_name), self.catalog.lock('firewall', 'host'):
            username = self.backend.existing(db_name)['username']
            if username != db_name and self.db_type == 'mariadb':
                raise BackendError('%s is a restored copy reached by user %s: on MariaDB an address reaches all of'
                                   ' a user\'s databases through one account, so give the rule to %s instead'
                                   % (db_name, username, username))
            rules = self.catalog.rules(self.db_type)
            for rule in rules:
                if rule['db_name'] == db_name and rule['ip_address'] == ip_address:
                    return self._result(rule), False
            rule = dict(rule_id=new_rule_id(), db_type=self.db_type, db_name=db_name, ip_address=ip_address,
                        port=self.driver.port, description=description, created_at=utc_now())
            self._apply(rules + [rule], db_name)
            self._verify(rule, username, present=True)
            self.catalog.save_rule(rule)
        return self._result(rule), True

    def describe(self, db_name, rule, description):
        """Change a rule's description (nothing to enforce); returns the rule."""
        naming.check_description(description)
        rule = dict(rule, description=description)
        with self.catalog.lock('firewall', 'host'):
            self.catalog.save_rule(dict(rule, db_type=self.db_type))
        return self._result(rule)

    def remove(self, db_name, rule_id):
        """Remove one rule of ``db_name`` from both layers, verified, then from the catalog."""
        with self.catalog.lock(self.db_type, db_name), self.catalog.lock('firewall', 'host'):
            rules = self.catalog.rules(self.db_type)
            rule = next((r for r in rules if r['rule_id'] == rule_id and r['db_name'] == db_name), None)
            if rule is None:
                raise NotFound('firewall rule %s is not a rule of %s database %s' % (rule_id, self.db_type, db_name))
            remaining = [r for r in rules if r['rule_id'] != rule_id]
            database = self.backend.get(db_name)
            username = database['username'] if database else db_name
            self._apply(remaining, db_name)
            self._verify(rule, username, present=False, remaining=remaining)
            # Established connections outlive a packet-filter rule: end the ones no remaining rule allows.
            self.driver.terminate_disallowed_sessions(db_name, username, rule['ip_address'],
                                                      [r['ip_address'] for r in remaining if r['db_name'] == db_name])
            self.catalog.delete_rules([rule_id])
        return self._result(rule)

    def owner_of(self, rule_id):
        """The database a rule belongs to on this host, or None."""
        return next((r['db_name'] for r in self.catalog.rules() if r['rule_id'] == rule_id), None)

    def forget_database(self, db_name):
        """After a database is dropped: take its rules out of both layers and the catalog."""
        with self.catalog.lock('firewall', 'host'):
            rules = self.catalog.rules(self.db_type)
            gone = [r['rule_id'] for r in rules if r['db_name'] == db_name]
            if gone:
                self._apply([r for r in rules if r['db_name'] != db_name], db_name)
                self.catalog.delete_rules(gone)
        return len(gone)

    def _apply(self, engine_rules, touched_db):
        """Rewrite both layers so that exactly ``engine_rules`` (this engine's) and the other engines' hold."""
        recorded = self.catalog.setting('firewall_driver')
        if recorded not in (None, self.network.name) and self.catalog.rules():
            raise BackendError('the firewall rules on this host are enforced with firewall_driver %s (recorded in'
                               ' %s); this task says %s: use %s, or remove every rule before switching'
                               % (recorded, self.catalog.state_dir, self.network.name, recorded))
        self.network.check()
        self.driver.sync_access(networks_by_database(engine_rules, touched_db))
        others = [r for r in self.catalog.rules() if r['db_type'] != self.db_type]
        pairs = {}
        for rule in others + engine_rules:
            pairs.setdefault((rule['ip_address'], rule['port']), rule['rule_id'])
        self.network.sync(pairs, self.catalog.guarded_ports() + [self.driver.port])
        self.catalog.set_setting('firewall_driver', self.network.name)

    def _verify(self, rule, username, present, remaining=()):
        """Read both layers back; the rule's entries must be there (or gone, unless still shared)."""
        entry = (rule['db_name'], username, rule['ip_address'])
        pair = (rule['ip_address'], rule['port'])
        shared = self.network.admits([(r['ip_address'], r['port']) for r in remaining], *pair)
        if rule['ip_address'] not in LOOPBACK_NETWORKS and (entry in self.driver.access()) != present:
            raise BackendError('%s still %s %s for %s after the change' % (
                self.driver.label, 'lacks' if present else 'admits', rule['ip_address'], rule['db_name']))
        allowed = self.network.allowed()
        if allowed is not None and self.network.admits(allowed, *pair) != (present or shared):
            raise BackendError('%s still %s %s to port %s after the change' % (
                self.network.name, 'blocks' if present else 'lets', rule['ip_address'], rule['port']))
