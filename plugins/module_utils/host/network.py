# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The network layer of firewall rules: which addresses may open a TCP connection to a database port.

Each driver is told the whole wanted state (``sync``) and can say what the host enforces
(``allowed``), so a removal is verified, not assumed. The pairs are (CIDR block, port): databases
of one engine share its port, so a pair stays while any rule needs it.

- ``ufw``: one ``allow`` rule per pair, commented ``wayscloud <rule_id>``; rules without that
  comment are never touched. ufw's own default policy (deny incoming) closes everything else.
- ``nftables``: the table ``inet wayscloud`` and nothing else; on every guarded port it accepts the
  allowed sources and resets every other TCP connection (loopback excepted). Rebuilt atomically.
- ``none``: hosts without a packet filter; the database layer alone decides.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import re

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError

COMMENT = 'wayscloud'


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

    def sync(self, pairs, guarded_ports):
        """Nothing to do: there is no packet filter."""

    def allowed(self):
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

    def allowed(self):
        """{(CIDR, port)} of the collection's ufw rules."""
        return set((network, port) for action, network, port, comment in self._rules()
                   if action == 'allow' and comment.startswith(COMMENT))

    def sync(self, pairs, guarded_ports):
        foreign = [rule for rule in self._rules() if not rule[3].startswith(COMMENT) and rule[1:3] in pairs]
        if foreign:
            raise BackendError('ufw has a rule of its own for %s to port %s (%s); the collection will not take it'
                               ' over: remove it first' % (foreign[0][1], foreign[0][2], foreign[0][0]))
        current = self.allowed()
        for (network, port), rule_id in sorted(pairs.items()):
            if (network, port) not in current:
                self.run(['ufw', 'allow', 'from', network, 'to', 'any', 'port', str(port), 'proto', 'tcp',
                          'comment', '%s %s' % (COMMENT, rule_id)])
        for network, port in sorted(current - set(pairs)):
            self.run(['ufw', 'delete', 'allow', 'from', network, 'to', 'any', 'port', str(port), 'proto', 'tcp'])


class NftablesNetwork(Network):
    name = 'nftables'
    TABLE = 'wayscloud'

    def check(self):
        self.run(['nft', 'list', 'tables'])

    def allowed(self):
        """{(CIDR, port)} in the table's allow sets, read from ``nft -j`` (none when there is no table)."""
        try:
            listing = json.loads(self.run(['nft', '-j', 'list', 'table', 'inet', self.TABLE]))
        except BackendError as exc:
            if 'No such file or directory' in str(exc):
                return set()
            raise
        found = set()
        sets = [item['set'] for item in listing.get('nftables', []) if 'set' in item]
        for element in [e for s in sets if s['name'] in ('allow4', 'allow6') for e in s.get('elem', [])]:
            address, port = element['concat']
            if isinstance(address, dict):
                address = '%s/%s' % (address['prefix']['addr'], address['prefix']['len'])
            found.add((str(ipaddress.ip_network(address)), int(port)))
        return found

    def sync(self, pairs, guarded_ports):
        # An interval set refuses overlapping elements: merge the blocks of each port first.
        by_port = {}
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
                '    meta l4proto tcp reject with tcp reset',
                '  }',
                '}',
            ]
        self.run(['nft', '-f', '-'], stdin='\n'.join(script) + '\n')


def elements(items):
    return ' elements = { %s };' % ', '.join(items) if items else ''


NETWORKS = {'ufw': UfwNetwork, 'nftables': NftablesNetwork, 'none': NoNetwork}
