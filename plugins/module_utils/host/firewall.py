# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Firewall rules on a host: an address reaches one database as its user, and nothing else.

Two layers must both allow a connection:
- network (host/network.py): the address may open TCP to the engine's port;
- database: PostgreSQL's pg_hba.conf block has ``host <db> <user> <cidr> scram-sha-256``; MariaDB
  has an account ``<user>@<cidr>`` with the same password and grants.
The catalog holds the rules. A write reads each layer, rewrites the part of each that belongs to the databases it
is about from their rules (and nothing of another database's), and reads it back: a rule is stored only once both
layers show it, and forgotten only once both show it gone. What a layer has wrong besides (an edit by hand) is
repaired on the way, and ``drift`` names it beforehand. A ``batch`` (a task's ``databases`` list) reads the rows of
the databases it is about (each table whole once, past a few: driver.remembered_item), and writes, reloads and reads
back each layer once at its end, however many databases it changes: the cost of a list grows with its length, not
with its length times the databases of the host.

Several catalogs (state_dirs) may share a server: a database's access that admits a network carries the mark
of the catalog whose rules it holds, and another catalog is refused it while that one is there (docs/security.md,
one owner per database); the nftables table has one owner per host.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import contextlib

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import new_rule_id
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Firewall
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, Conflict, NotFound, WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import gone
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import read_once, remembered, remembered_item
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import RULE_FIELDS
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now


# How to move what another catalog holds, as a refusal says it.
MOVE_RULES = ('manage the database\'s rules with that state_dir (or through the API server that uses it), or move them'
              ' here: remove them there (rules: [] with purge: true), then add them here')
MOVE_TABLE = ('one catalog enforces nftables rules on a host. Use that state_dir, or remove every rule there and then'
              ' the table (nft delete table inet wayscloud) before using this one; ufw can be shared instead')


def described(owner):
    """A catalog as messages name it."""
    return 'catalog %s (state_dir %s)' % (owner.catalog_id, owner.state_dir or 'not recorded')


class HostFirewall(Firewall):
    def __init__(self, backend):
        self.backend = backend
        self.driver = backend.driver
        self.catalog = backend.catalog
        self.network = backend.network
        self.db_type = backend.db_type
        self._queued = None  # while a batch runs: {db_name: Change} to write at its end
        self._reads = None  # while a batch runs: what was read of the catalog's rules and the packet filter
        self._handed = None  # while a batch runs: the rules it answered with, made right at its end

    @staticmethod
    def _result(row):
        return dict((field, row[field]) for field in RULE_FIELDS)

    def list(self, db_name):
        self.backend.existing(db_name)
        # In the catalog's order, also while a batch holds rules it has not stored yet.
        return [self._handing(self._result(row)) for row in sorted(self._rules(db_name), key=lambda rule: (rule['created_at'], rule['rule_id']))]

    def _handing(self, rule):
        """A rule a batch answers with: where another process stored a rule for its address before the batch's write,
        the batch's end makes it say that one (the one kept)."""
        if self._handed is not None:
            self._handed.append(rule)
        return rule

    def _hand_over_stored(self, done):
        """After a batch's write: each rule it answered with says the rule stored for its database and address by the
        changes ``done`` (those of a database whose change failed stay as they were)."""
        stored = dict(((rule['db_name'], rule['ip_address']), rule) for change in done for rule in change.rules)
        for rule in self._handed:
            rule.update(self._result(stored.get((rule['db_name'], rule['ip_address']), rule)))

    @contextlib.contextmanager
    def batch(self):
        """Changes made inside are queued and written at the end: each layer once, one reload, one read back, and then
        the catalog in one transaction. What was queued before an error is written still (its items are done)."""
        if self._queued is not None:
            yield
            return
        self._queued, self._reads, self.driver.reads, self._handed = collections.OrderedDict(), {}, {}, []
        try:
            try:
                yield
            except Exception as exc:  # what was queued before it is written still; the item's error stays the error
                queued, self._queued = self._queued, None
                try:
                    if queued:
                        self._write(queued)
                except WaysCloudError as late:
                    if not isinstance(exc, WaysCloudError):
                        raise
                    exc.args = ('%s; then the changes queued before it could not all be made either: %s' % (exc, late),)
                raise exc
            queued, self._queued = self._queued, None
            if queued:
                self._write(queued)
        finally:
            self._queued = self._reads = self.driver.reads = self._handed = None

    def drift(self, db_name, changing=()):
        """What the server's layers have wrong for the database against its rules here, one message each, leaving
        out what concerns the networks in ``changing`` (the task's own additions and removals). One read of each
        layer, nothing changed; a database whose access another catalog owns is refused."""
        username = self.backend.existing(db_name)['username']
        if self._queued and db_name in self._queued:
            return []  # rewritten whole and read back at the batch's end
        problems = self._problems(db_name, username, self._rules(db_name))
        return [message for network, message in problems if network not in changing]

    def repair(self, db_name):
        """Make the server's layers say what the database's rules here say; returns what was wrong (nothing: no change)."""
        with self.batch():
            username = self.backend.existing(db_name)['username']
            rules = self._rules(db_name)
            problems = self._problems(db_name, username, rules)
            if problems:
                self._queue(db_name, username, rules)
        return [message for dummy, message in problems]

    def add(self, db_name, ip_address, description=None):
        """Allow ``ip_address`` (a normalised CIDR) to ``db_name``; returns (rule, changed), the rule as stored once the
        batch is written (another process may store one for the address first). A rule that exists already is no
        change unless its layers needed a repair."""
        naming.check_description(description)  # checked here too: the API server hands it over unchecked
        with self.batch():
            username = self.backend.existing(db_name)['username']
            if not self._own_layer(db_name, username):
                holder = self._holder(username)
                raise Conflict('%s is a restored copy reached by user %s: on %s an address reaches all of a user\'s'
                               ' databases through one account, whose rules %s holds, so give the rule to %s instead'
                               % (db_name, username, self.driver.label, holder, holder))
            rules = self._rules(db_name)
            rule = next((rule for rule in rules if rule['ip_address'] == ip_address), None)
            if rule is not None:
                problems = self._problems(db_name, username, rules)
                if problems:
                    self._queue(db_name, username, rules)
                return self._result(rule), bool(problems)
            rule = dict(rule_id=new_rule_id(), db_type=self.db_type, db_name=db_name, ip_address=ip_address,
                        port=self.driver.port, description=description, created_at=utc_now())
            # Refused here what the write could not do (another catalog's access, a MariaDB user without a password
            # hash), so that a list fails at this item and not at its end.
            self._problems(db_name, username, rules + [rule])
            self._queue(db_name, username, rules + [rule], saved=[rule])
            result = self._handing(self._result(rule))
        return result, True

    def describe(self, db_name, rule, description):
        """Change a rule's description (nothing to enforce); returns the rule."""
        naming.check_description(description)
        rule = dict(rule, description=description)
        change = self._queued.get(db_name) if self._queued else None

        def described(rules):
            return [dict(r, description=description) if r['rule_id'] == rule['rule_id'] else r for r in rules]
        if change is not None:
            self._queued[db_name] = change._replace(rules=described(change.rules), saved=described(change.saved))
            if any(r['rule_id'] == rule['rule_id'] for r in change.saved):
                return self._result(rule)  # stored with the rule, once its layers show it
        with self.catalog.lock('firewall', 'host'):
            if not self.catalog.describe_rule(rule['rule_id'], description):
                raise NotFound('firewall rule %s is not a rule of %s database %s' % (rule['rule_id'], self.db_type, db_name))
        if self._reads is not None:  # a batch's copies of the rules say the old description
            for key in ('rules', 'by_database', ('by_database', 'all')):
                self._reads.pop(key, None)
        return self._result(rule)

    def remove(self, db_name, rule_id):
        """Remove one rule of ``db_name`` from both layers, verified, then from the catalog."""
        with self.batch():
            rules = self._rules(db_name)
            rule = next((r for r in rules if r['rule_id'] == rule_id), None)
            if rule is None:
                raise NotFound('firewall rule %s is not a rule of %s database %s' % (rule_id, self.db_type, db_name))
            remaining = [r for r in rules if r['rule_id'] != rule_id]
            database = self.backend.get(db_name)
            if database is None:  # dropped outside the collection: its access would outlive it
                self._queue(db_name, None, remaining, gone=[rule])
            else:
                self._problems(db_name, database['username'], rules)
                self._queue(db_name, database['username'], remaining, gone=[rule])
        return self._result(rule)

    def owner_of(self, rule_id):
        """The database a rule belongs to on this host, or None."""
        return next((r['db_name'] for r in self.catalog.rules() if r['rule_id'] == rule_id), None)

    def forget_database(self, db_name):
        """After a database is dropped: take its rules out of both layers and the catalog."""
        with self.batch():
            gone_rules = self._rules(db_name)
            if gone_rules:
                self._queue(db_name, None, [], gone=gone_rules)
        return len(gone_rules)

    def _holder(self, username):
        """MariaDB: the database whose rules make ``username``'s network accounts: the user's own database while it
        exists, else the copy restored first from its snapshots that is still there; None when none is."""
        for db_name in [username] + [name for name in self.backend.databases_of(username) if name != username]:
            if self.driver.read_database(db_name) is not None:
                return db_name
        return None

    def hand_over(self, username, names):
        """MariaDB, when the database that holds a user's accounts changed (it was deleted, or the user's own database
        was made again): the rules of ``names`` become the holder's, so that the accounts keep the networks they had
        (with a warning); with no database of the user left they are forgotten, and the accounts closed."""
        holder = self._holder(username)
        target = holder or username
        with self.catalog.lock('firewall', 'host'):
            moved = [rule for name in names if name != target for rule in self.catalog.rules(self.db_type, name)]
            self.catalog.move_rules([rule['rule_id'] for rule in moved], target)
        if not moved:
            return
        if self._reads is not None:  # a batch's copies of the rules say where they were
            self._forget_reads()
        if holder is None:  # the user's own name takes them, and forgets them as its database's
            self.forget_database(username)
            return
        self.driver.warnings.append(
            'the firewall rules of %s (%s) now belong to %s: on %s they make the network accounts of user %s, which'
            ' reach all of its databases, and %s holds them now' % (
                ', '.join(sorted(set(rule['db_name'] for rule in moved))),
                ', '.join(rule['ip_address'] for rule in moved), holder, self.driver.label, username, holder))
        self.repair(holder)

    def _rules(self, db_name):
        """The database's rules: the catalog's, as a batch has changed them so far."""
        if self._queued and db_name in self._queued:
            return self._queued[db_name].rules

        def group():
            grouped = {}
            for rule in self._all_rules():
                if rule['db_type'] == self.db_type:
                    grouped.setdefault(rule['db_name'], []).append(rule)
            return grouped
        return remembered_item(self._reads, 'by_database', db_name, lambda name: self.catalog.rules(self.db_type, name),
                               group, [])

    def _all_rules(self):
        return remembered(self._reads, 'rules', self.catalog.rules)

    def _queue(self, db_name, username, rules, saved=(), gone=()):
        """Have the batch make ``rules`` (all of the database's) hold at its end, storing ``saved`` and forgetting
        ``gone``; ``username`` None: the database is gone, so is its access."""
        change = self._queued.get(db_name) or Change(username, rules, [], [])
        self._queued[db_name] = change._replace(username=username, rules=rules, saved=change.saved + list(saved),
                                                gone=change.gone + list(gone))

    def _problems(self, db_name, username, rules):
        """[(network or None, message)]: how each layer differs from ``rules`` (this database's), after refusing a
        database or table another catalog owns."""
        return self._access_problems(db_name, username, rules) + self._network_problems(rules)

    def _access_problems(self, db_name, username, rules):
        """The database's own layer (pg_hba lines or MariaDB accounts) of _problems."""
        if not self._own_layer(db_name, username):
            return []
        identity = self.catalog.identity()
        access = self.driver.check_access(db_name, username, [rule['ip_address'] for rule in rules])
        what = '%s of %s database %s' % (self.driver.access_label, self.db_type, db_name)
        self._refuse_foreign(what, access.owner, identity)
        return self._marks(what, access.owner, identity, bool(rules)) + access.problems

    def _network_problems(self, rules):
        """The packet filter's part of _problems."""
        identity = self.catalog.identity()
        # A database without rules has nothing in a shared packet filter to compare; a table of one owner is checked.
        state = self._network_state(identity) if rules or not self.network.shared else None
        if state is None:
            return []
        what = 'nftables table inet wayscloud of this host'
        self._refuse_foreign(what, state.owner, identity, MOVE_TABLE)
        problems = self._marks(what, state.owner, identity, True) if rules and state.owner is not None else []
        problems += [(None, damage) for damage in state.damage]
        return problems + [(rule['ip_address'], '%s: %s to port %s not allowed' % (self.network.name, rule['ip_address'], rule['port']))
                           for rule in rules if not self.network.admits(state.admitted, rule['ip_address'], rule['port'])]

    def _network_state(self, identity):
        return remembered(self._reads, 'network', lambda: self.network.read(identity, read_once(self._rule_ids)))

    def _own_layer(self, db_name, username):
        """Whether the database has access of its own: on MariaDB a copy's is its user's, which the rules of the user's
        holder make (the original while it exists)."""
        return username == db_name or not self.driver.access_follows_user or self._holder(username) == db_name

    def _closes(self, db_name):
        """Whether a database that is gone takes its access with it: on MariaDB its user's accounts, which stay while a
        copy restored from it holds them."""
        return not self.driver.access_follows_user or self._holder(db_name) is None

    def _refuse_foreign(self, what, owner, identity, move=MOVE_RULES):
        """A mark of another catalog that is still there: what it marks is that catalog's to change, not this task's."""
        if owner is None or identity is not None and owner.catalog_id == identity.catalog_id or gone(owner):
            return
        this = described(identity) if identity else 'the catalog in state_dir %s' % self.catalog.state_dir
        raise Conflict('%s: held by %s, not by this task\'s %s: %s' % (what, described(owner), this, move))

    @staticmethod
    def _marks(what, owner, identity, wanted):
        """The mark to put right: what admits a network (``wanted``) carries this catalog's, and nothing else does."""
        mine = owner is not None and identity is not None and owner.catalog_id == identity.catalog_id
        if wanted and owner is None:
            return [(None, '%s: not marked as any catalog\'s' % what)]
        if wanted and not mine:
            return [(None, '%s: taken over from %s, which is gone' % (what, described(owner)))]
        if mine and not wanted:
            return [(None, '%s: still marked as this catalog\'s, which has no rules for it' % what)]
        return []

    def _rule_ids(self):
        return set(rule['rule_id'] for rule in self._all_rules())

    def _write(self, queued):
        """Carry out a batch's changes ({db_name: Change}): under the locks, refuse what another catalog holds, rewrite
        the databases' layer once and read it back, then the packet filter once from the rules of the databases whose
        layer shows them, read it back, and store and forget the rules of each database both layers show; the others
        are named in the error and their rules left as they were in the catalog (in the packet filter too when their
        own layer failed; one that failed the packet filter's read back has its pairs there until the next write)."""
        with self.catalog.lock('firewall', 'host'), self.driver.access_lock():
            self._forget_reads()
            recorded = self.catalog.setting('firewall_driver')
            if recorded not in (None, self.network.name) and self._all_rules():
                raise BackendError('the firewall rules on this host are enforced with firewall_driver %s (recorded in'
                                   ' %s); this task says %s: use %s, or remove every rule before switching'
                                   % (recorded, self.catalog.state_dir, self.network.name, recorded))
            # A database a query each, or all of them in one for a long list (driver.read_database).
            present = set(db_name for db_name in queued if self.driver.read_database(db_name) is not None)
            accesses, failed, failing = {}, [], []
            for db_name, change in list(queued.items()):
                change = queued[db_name] = self._now(db_name, change, db_name in present)
                if change.username is None:
                    # Its access would outlive it; one made again meanwhile keeps its own.
                    if db_name not in present and self._closes(db_name):
                        accesses[db_name] = None
                    continue
                if db_name not in present:
                    del queued[db_name]
                    failing.append(db_name)
                    failed.append(BackendError('%s database %s was dropped while its firewall rules were being changed'
                                               % (self.db_type, db_name)))
                    continue
                self._problems(db_name, change.username, change.rules)
                if self._own_layer(db_name, change.username):
                    accesses[db_name] = (change.username, [rule['ip_address'] for rule in change.rules])
            identity = self.catalog.identity(create=True)
            self.network.check()
            try:
                self.driver.set_accesses(accesses, identity)
            except BackendError as exc:  # what it did write is read back below, database by database
                failed.append(exc)
            self._forget_reads()
            # The databases' own layer read back first: the packet filter takes the rules only of those that hold them.
            for db_name, change in list(queued.items()):
                try:
                    left = self._access_problems(db_name, change.username, change.rules) if change.username else []
                    if left:
                        raise BackendError('%s after the change' % left[0][1])
                except BackendError as exc:
                    del queued[db_name]
                    failing.append(db_name)
                    failed.append(exc)
            gone = set(rule['rule_id'] for change in queued.values() for rule in change.gone)
            wanted = read_once(lambda: [rule for rule in self._all_rules() if rule['rule_id'] not in gone and not (
                rule['db_type'] == self.db_type and rule['db_name'] in queued)] + [
                rule for change in queued.values() for rule in change.rules])
            self._sync_network(wanted, identity)
            self._forget_reads()
            needed = read_once(lambda: [(rule['ip_address'], rule['port']) for rule in wanted()])
            done = []
            for db_name, change in queued.items():
                if change.username is not None:
                    try:
                        self._verify_network(change.rules, change.gone, needed)
                    except BackendError as exc:
                        failed.append(exc)
                        failing.append(db_name)
                        continue
                    # Established connections outlive a packet-filter rule: end the ones no remaining rule allows.
                    for rule in change.gone:
                        self.driver.terminate_disallowed_sessions(db_name, change.username, rule['ip_address'],
                                                                  [r['ip_address'] for r in change.rules])
                done.append(change)
            self.catalog.change_rules([rule for change in done for rule in change.saved],
                                      sorted(rule['rule_id'] for change in done for rule in change.gone))
            self._hand_over_stored(done)
            self.catalog.set_setting('firewall_driver', self.network.name)
            self._forget_reads()
        if failed:
            raise BackendError('%s%s' % ('the firewall rules of %s database %s are not changed: ' % (
                self.db_type, ', '.join(failing)) if failing else '', failed[0]))

    def _now(self, db_name, change, present):
        """A queued change made from the database's rules as they are now (another process may have changed them
        since the batch read them): a database that is gone takes every rule it has now with it."""
        forgotten = set(rule['rule_id'] for rule in change.gone)
        now = [rule for rule in self._rules(db_name) if rule['rule_id'] not in forgotten]
        if change.username is None and not present:
            return change._replace(rules=[], saved=[], gone=change.gone + now)
        saved = [rule for rule in change.saved if rule['rule_id'] not in forgotten
                 and rule['ip_address'] not in set(r['ip_address'] for r in now)]
        return change._replace(rules=now + saved, saved=saved)

    def _forget_reads(self):
        self._reads.clear()
        self.driver.forget_reads()

    def _sync_network(self, rules, identity):
        """The packet filter from ``rules()`` (all of this catalog's as they are to be: read only by a packet filter)."""
        def pairs():
            found = {}
            for rule in rules():
                found.setdefault((rule['ip_address'], rule['port']), rule['rule_id'])
            return found
        self.network.sync(read_once(pairs), self.catalog.guarded_ports() + [self.driver.port], identity,
                          read_once(lambda: self._rule_ids() | set(rule['rule_id'] for rule in rules())))

    def _verify_network(self, rules, gone, needed):
        """Read the packet filter back: nothing may differ from ``rules`` any more, and a rule that went (``gone``) may
        leave its pair in it only while a rule of this catalog still needs it (``needed()``: their pairs)."""
        left = self._network_problems(rules)
        if left:
            raise BackendError('%s after the change' % left[0][1])
        state = self._network_state(self.catalog.identity()) if gone else None
        for rule in gone if state is not None else ():
            pair = (rule['ip_address'], rule['port'])
            if self.network.admits(state.mine, *pair) and not self.network.admits(needed(), *pair):
                raise BackendError('%s still lets %s to port %s after the change' % (self.network.name, pair[0], pair[1]))


# A database's queued change: its user (None: the database is gone), all its rules as they are to be, the rules to store
# and those to forget once both layers show them.
Change = collections.namedtuple('Change', 'username rules saved gone')
