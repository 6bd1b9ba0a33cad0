# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The network layer of firewall rules: which addresses may open a TCP connection to a database port.

Each driver is told the whole wanted state of one catalog (``sync``; ``pairs`` and ``rule_ids`` are callables,
as reading every rule of a host is needed only by a packet filter) and says what the host enforces
(``read``), so a removal is verified, not assumed. The pairs are (CIDR block, port): databases of one
engine share its port, so a pair stays while any rule needs it.

- ``ufw``: one ``allow`` rule per pair, commented ``wayscloud <catalog id> <rule_id>``; rules without
  the ``wayscloud`` comment are never touched. Several catalogs share it: each adds the pairs no
  collection rule holds and deletes only rules of its own. ufw keeps one rule per pair whatever the
  comment, so a pair two catalogs need is held by the first one's rule; once that catalog lets it go,
  the other's next run puts it back. ufw's own default policy (deny incoming) closes everything else.
- ``nftables``: the table ``inet wayscloud`` and nothing else; on every guarded port it accepts the
  allowed sources and resets every other TCP connection (loopback excepted). Rebuilt atomically, by one
  catalog per host: its last rule's comment names it (``wayscloud <catalog id> <state_dir>``).
- ``none``: hosts without a packet filter; the database layer alone decides.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import ipaddress
import json
import re

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Owner

COMMENT = 'wayscloud'
# What a packet filter enforces: the (CIDR, port) pairs any collection rule allows, those of this catalog's own rules,
# the catalog a single-owner filter names (an Owner, or None), and what differs from how the collection wrote it.
NetworkState = collections.namedtuple('NetworkState', 'admitted mine owner damage')


def command_failed(argv, rc, out, err):
    """The error for a command that failed (no secret is ever on these command lines): its first line
    that speaks of an error, else its first line. A fixed ``bash -c`` pipeline is named by its $0."""
    name = argv[3] if argv[:2] == ['bash', '-c'] and len(argv) > 3 else ' '.join(argv[:3])
    lines = [line.strip() for line in (err or out or '').strip().splitlines() if line.strip()]
    detail = next((line for line in lines if 'error' in line.lower()), lines[0] if lines else 'exit %d' % rc)
    return BackendError('%s failed: %s' % (name, detail))


class Network:
    """``run(argv, stdin=None, env=None)`` runs a command and returns its stdout, raising command_failed(...) on
    failure: a module passes one made of AnsibleModule.run_command, the API server one of subprocess."""
    name = None
    shared = True  # whether several catalogs can keep rules in it side by side

    def __init__(self, run):
        self.run = run

    def check(self):
        """Fail before anything changes when this packet filter cannot do its job here."""

    def admits(self, allowed, network, port):
        """Whether the enforced pairs ``allowed`` let ``network`` reach ``port`` (a broader block counts)."""
        network = ipaddress.ip_network(network)
        return any(p == port and network.version == ipaddress.ip_network(n).version
                   and network.subnet_of(ipaddress.ip_network(n)) for n, p in allowed)


class NoNetwork(Network):
    name = 'none'

    def sync(self, pairs, guarded_ports, owner, rule_ids):
        """Nothing to do: there is no packet filter."""

    def read(self, owner, rule_ids):
        return None


class UfwNetwork(Network):
    name = 'ufw'
    _ADDED = re.compile(r"^ufw (allow|deny|reject|limit) (?:from (\S+) to any port (\d+) proto tcp|(\d+)/tcp)"
                        r"(?: comment '([^']*)')?$")

    def check(self):
        status = self.run(['ufw', 'status', 'verbose'])
        if 'Status: active' not in status or 'deny (incoming)' not in status:
            raise BackendError('ufw is not active with a default deny (incoming) policy on this host, so its rules'
                               ' would protect nothing: enable it (the db_server role does) or set firewall_driver')

    def _rules(self):
        """[(action, CIDR, port, comment)] of every ufw rule on a TCP port (``ufw show added``)."""
        found = []
        for line in self.run(['ufw', 'show', 'added']).splitlines():
            match = self._ADDED.match(line.strip())
            if match:
                action, source, port, short_port, comment = match.groups()
                found.append((action, str(ipaddress.ip_network(source)) if source else '0.0.0.0/0',
                              int(port or short_port), comment or ''))
        return found

    @staticmethod
    def _mine(comment, owner, rule_ids):
        """Whether a collection rule's comment names this catalog (or, written before catalogs had ids, one of its
        rules: ``rule_ids()`` gives their ids, read once and only for such a comment)."""
        words = comment.split()
        if len(words) == 3:
            return owner is not None and words[1] == owner.catalog_id
        return len(words) == 2 and words[1] in rule_ids()

    def read(self, owner, rule_ids):
        admitted, mine = set(), set()
        for action, network, port, comment in self._rules():
            if action == 'allow' and comment.split()[:1] == [COMMENT]:
                admitted.add((network, port))
                if self._mine(comment, owner, rule_ids):
                    mine.add((network, port))
        return NetworkState(admitted, mine, None, [])

    def sync(self, pairs, guarded_ports, owner, rule_ids):
        """Add the pairs no collection rule holds, delete this catalog's rules that no pair needs."""
        pairs = pairs()
        foreign = [rule for rule in self._rules() if rule[3].split()[:1] != [COMMENT] and rule[1:3] in pairs]
        if foreign:
            raise BackendError('ufw has a rule of its own for %s to port %s (%s); the collection will not take it'
                               ' over: remove it first' % (foreign[0][1], foreign[0][2], foreign[0][0]))
        current = self.read(owner, rule_ids)
        for (network, port), rule_id in sorted(pairs.items()):
            if (network, port) not in current.admitted:
                self.run(['ufw', 'allow', 'from', network, 'to', 'any', 'port', str(port), 'proto', 'tcp',
                          'comment', '%s %s %s' % (COMMENT, owner.catalog_id, rule_id)])
        for network, port in sorted(current.mine - set(pairs)):
            self.run(['ufw', 'delete', 'allow', 'from', network, 'to', 'any', 'port', str(port), 'proto', 'tcp'])


class NftablesNetwork(Network):
    name = 'nftables'
    shared = False
    TABLE = 'wayscloud'
    CHAIN_RULES = 5  # the input chain's rules as sync writes them, the last one carrying the owner's mark
    _COMMENT_ROOM = 128  # bytes nft keeps of a rule's comment

    def check(self):
        self.run(['nft', 'list', 'tables'])

    def read(self, owner, rule_ids):
        """The table's allow sets, read from ``nft -j`` (nothing when there is no table), and its owner's mark."""
        try:
            listing = json.loads(self.run(['nft', '-j', 'list', 'table', 'inet', self.TABLE]))
        except BackendError as exc:
            if 'No such file or directory' in str(exc):
                return NetworkState(set(), set(), None, [])
            raise
        items = listing.get('nftables', [])
        found = set()
        sets = [item['set'] for item in items if 'set' in item]
        for element in [e for s in sets if s['name'] in ('allow4', 'allow6') for e in s.get('elem', [])]:
            address, port = element['concat']
            if isinstance(address, dict):
                address = '%s/%s' % (address['prefix']['addr'], address['prefix']['len'])
            found.add((str(ipaddress.ip_network(address)), int(port)))
        rules = [item['rule'] for item in items if 'rule' in item and item['rule'].get('chain') == 'input']
        marked = self._owner(rules[-1].get('comment', '')) if rules else None
        damage = []
        if len(rules) != self.CHAIN_RULES or marked is None:
            damage.append('nftables: the chain input of table inet %s is not as the collection wrote it' % self.TABLE)
        guarded = [s.get('elem', []) for s in sets if s['name'] == 'guarded']
        missing = sorted(set(port for dummy, port in found) - set(guarded[0] if guarded else ()))
        if missing:
            damage.append('nftables: port %s missing from the guarded set' % ', '.join(str(port) for port in missing))
        return NetworkState(found, found, marked, damage)

    def _owner(self, comment):
        words = comment.split(' ', 2)
        if len(words) < 2 or words[0] != COMMENT:
            return None
        return Owner(words[1], words[2] if len(words) > 2 else None)

    def _mark(self, owner):
        """The owner's comment, with its state_dir where that fits whole in what nft keeps."""
        mark = '%s %s %s' % (COMMENT, owner.catalog_id, owner.state_dir)
        if len(mark.encode('utf-8')) > self._COMMENT_ROOM or re.search(r'["\\\x00-\x1f]', owner.state_dir):
            mark = '%s %s' % (COMMENT, owner.catalog_id)
        return mark

    def sync(self, pairs, guarded_ports, owner, rule_ids):
        # An interval set refuses overlapping elements: merge the blocks of each port first.
        pairs, by_port = pairs(), {}
        for network, port in pairs:
            by_port.setdefault((ipaddress.ip_network(network).version, port), []).append(ipaddress.ip_network(network))
        by_family = {4: [], 6: []}
        for (version, port), networks in sorted(by_port.items()):
            by_family[version] += ['%s . %d' % (merged, port) for merged in ipaddress.collapse_addresses(networks)]
        ports = ', '.join(str(port) for port in sorted(set(guarded_ports) | set(port for dummy, port in pairs)))
        script = ['table inet %s' % self.TABLE, 'delete table inet %s' % self.TABLE]
        if ports:
            script += [
                'table inet %s {' % self.TABLE,
                '  set guarded { type inet_service; elements = { %s } }' % ports,
                '  set allow4 { type ipv4_addr . inet_service; flags interval;%s }' % elements(by_family[4]),
                '  set allow6 { type ipv6_addr . inet_service; flags interval;%s }' % elements(by_family[6]),
                '  chain input {',
                '    type filter hook input priority filter; policy accept;',
                '    iifname "lo" accept',
                '    tcp dport != @guarded accept',
                '    ip saddr . tcp dport @allow4 accept',
                '    ip6 saddr . tcp dport @allow6 accept',
                '    meta l4proto tcp reject with tcp reset comment "%s"' % self._mark(owner),
                '  }',
                '}',
            ]
        self.run(['nft', '-f', '-'], stdin='\n'.join(script) + '\n')


def elements(items):
    return ' elements = { %s };' % ', '.join(items) if items else ''


NETWORKS = {'ufw': UfwNetwork, 'nftables': NftablesNetwork, 'none': NoNetwork}
