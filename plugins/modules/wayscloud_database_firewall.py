#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: wayscloud_database_firewall
short_description: Allow IP addresses to reach one WaysCloud database
version_added: 0.1.0
description:
  - Manages a database's allow-list, one rule with O(ip_address) and O(state), the exact list with
    O(rules) and O(purge=true), or one rule removed by O(rule_id).
  - An allowed address reaches exactly that database as its user. On a host two layers enforce it and
    both must allow - the packet filter (O(firewall_driver)) lets the address reach the engine's
    port, and the database lets it in only for that database and user (PostgreSQL - a line
    C(host <db> <user> <cidr> scram-sha-256) in a block of C(pg_hba.conf) the collection owns,
    then a reload; MariaDB - an account C(<user>@<address>) with the same password and grants).
  - On MariaDB a copy restored from a snapshot into a new name (the C(target_db_name) of
    M(wayscloud.databases.wayscloud_database_snapshot)) is reached by the original's user, whose account admits an
    address to all of the user's databases. So one of them holds the rules - the original while it exists, else the
    copy restored first that is still there - and a rule for another is refused, naming the database to give it to.
    Deleting the original hands its rules to that copy (with a warning) - the user's accounts keep their addresses,
    and each rule opens that copy from then on; creating the original again takes them back.
  - The C(pg_hba.conf) block holds only the lines of customer databases that exist on the server; any other line in
    it (added by hand, or left by a database dropped outside the collection) is drift, put right by the next run.
  - A removal is read back from both layers before the rule is forgotten.
  - Every run reads both layers of the database and compares them with its rules; what was changed by hand
    (a C(pg_hba.conf) line, a MariaDB account, its grant, password or limit, a packet-filter rule) is put back
    and reported as a change, in RV(repaired) and the diff. Check mode names it and touches nothing.
  - Several O(state_dir)s (catalogs, the reference API server's among them) may share a server. Each marks the
    access it writes with its id and rewrites only the databases whose rules it holds; a task on a database
    whose rules another catalog holds fails, naming that catalog (id and O(state_dir)) and how to move the
    rules. The nftables table has one owner per host; ufw can be shared. See C(docs/security.md).
author:
  - WaysCloud Databases developers (@wayscloud)
requirements:
  - With O(backend=api), nothing beyond ansible-core where the task runs (usually the controller)
  - With O(backend=host), for the Python that runs the module on the database host - C(psycopg2) (or C(psycopg2-binary))
    to manage PostgreSQL, C(PyMySQL) to manage MariaDB; each only for an engine the task reaches
  - With O(backend=host), the command of O(firewall_driver) on the database host - C(ufw), or C(nft) for
    V(nftables); none with V(none)
extends_documentation_fragment:
  - wayscloud.databases.address
  - wayscloud.databases.api
  - wayscloud.databases.host
  - wayscloud.databases.vault
attributes:
  check_mode:
    support: full
    description:
      - Decides exactly as a real run would and changes nothing; new rules have no rule_id yet.
      - On a database that does not exist yet (an earlier task of the play would create it), predicts every
        wanted rule added (none removed) and warns that the database does not exist yet; a real run fails.
  diff_mode:
    support: full
    description: Lists the addresses (with descriptions) before and after.
options:
  ip_address:
    description:
      - One address or CIDR block, like C(192.0.2.10) or C(192.0.2.0/24); normalised to CIDR form
        (C(192.0.2.10/32)). IPv6 works with O(backend=host) (MariaDB accounts take single IPv6 addresses only).
      - A block with host bits set (C(10.0.0.5/24)) is an error naming the network it probably means.
    type: str
  description:
    description:
      - With O(ip_address), the rule's description. Changing it through the API replaces the rule (new rule_id).
    type: str
  state:
    description: With O(ip_address) or O(rule_id), whether the rule is there.
    type: str
    choices: [present, absent]
    default: present
  rule_id:
    description:
      - With O(state=absent) (required), the UUID of a rule of this database to remove. A rule that
        is gone already is no change; a rule of another database on this host is an error.
    type: str
  rules:
    description:
      - The addresses that must be allowed, each C(ip_address) with an optional C(description).
      - With O(purge=true) every other rule of the database is removed; O(rules=[]) removes them all.
    type: list
    elements: dict
    suboptions:
      ip_address:
        description: An address or CIDR block, as O(ip_address).
        type: str
        required: true
      description:
        description: The rule's description.
        type: str
  purge:
    description: With O(rules), remove the database's rules that O(rules) does not list.
    type: bool
    default: false
  allow_any:
    description:
      - Allow C(0.0.0.0/0), C(::/0) and any IPv6 network that holds all of C(::ffff:0:0/96) (every
        IPv4 client as a dual-stack socket sees it), which open the database to every address.
      - With O(backend=api) the API decides too - it refuses such a rule (HTTP 403) for a customer's key
        unless the operator allowed that key (C(allow_any_address)), and also refuses a rule that opens the
        database to every address together with its other rules (C(0.0.0.0/1) and C(128.0.0.0/1)).
    type: bool
    default: false
  databases:
    description:
      - Several databases of O(db_type) in one task, instead of O(name) or O(requested_name); one module
        run instead of one per database.
      - An item's options left out take the task's, so rules common to all are written once.
      - Every item is checked before any rule is touched. The result lists each database under
        RV(databases), in the items' order. O(rule_id) acts on one database and is refused with a list.
      - On a host the list's changes are made together at its end - each layer read once, written once
        (one reload of C(pg_hba.conf)) and read back once - so a list costs in proportion to its length,
        however many databases the host has. What can be refused (another catalog's access, a MariaDB
        user without a password hash) fails its own item. A rule is stored once both layers show it; when
        a database's layers do not show its changes at the end, the task fails naming it, its rules stay
        as they were, and the other databases' are stored.
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      name:
        description: The database's full name, as O(name).
        type: str
      requested_name:
        description: The name the customer asked for, as O(requested_name).
        type: str
      customer_id:
        description: The owning customer, as O(customer_id).
        type: str
      ip_address:
        description: As O(ip_address).
        type: str
      description:
        description: As O(description).
        type: str
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
      rules:
        description: As O(rules).
        type: list
        elements: dict
        suboptions:
          ip_address:
            description: An address or CIDR block, as O(ip_address).
            type: str
            required: true
          description:
            description: The rule's description.
            type: str
      purge:
        description: As O(purge).
        type: bool
seealso:
  - module: wayscloud.databases.wayscloud_database
'''

EXAMPLES = r'''
- name: Open a database to the office VPN
  wayscloud.databases.wayscloud_database_firewall:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    ip_address: 192.0.2.100
    description: Office VPN

- name: Exactly these addresses, nothing else
  wayscloud.databases.wayscloud_database_firewall:
    backend: host
    firewall_driver: nftables
    db_type: mariadb
    name: cust_6dd1d906_mdb_reports
    rules:
      - ip_address: 198.51.100.0/24
        description: App servers
      - ip_address: 203.0.113.7
    purge: true

- name: The same address allowed to three databases, in one task
  wayscloud.databases.wayscloud_database_firewall:
    db_type: postgresql
    ip_address: 192.0.2.100
    databases:
      - name: cust_6dd1d906_pg_shop
      - name: cust_6dd1d906_pg_blog
      - name: cust_6dd1d906_pg_wiki
        rules: [{ip_address: 203.0.113.7}]
        purge: true

- name: Remove a rule by its id
  wayscloud.databases.wayscloud_database_firewall:
    db_type: postgresql
    name: cust_6dd1d906_pg_webapp_prod_db
    rule_id: 0b8e1c2e-5f4a-4c39-9d6e-3b0f0a8f2d11
    state: absent
'''

RETURN = r'''
rules:
  description: The database's rules after the task (in check mode, as they would be).
  returned: unless O(databases) is given
  type: list
  elements: dict
  contains:
    rule_id:
      description: The rule's UUID (null for a rule check mode would add).
      type: str
    db_name:
      description: The database.
      type: str
    db_type:
      description: The engine.
      type: str
    ip_address:
      description: The address or block, in CIDR form.
      type: str
      sample: 192.0.2.100/32
    port:
      description: The database port the rule opens.
      type: int
    description:
      description: The description, or null.
      type: str
    created_at:
      description: When the rule was made (UTC, ISO 8601).
      type: str
rule:
  description: With O(ip_address), that rule (empty when absent).
  returned: when O(ip_address) is given
  type: dict
added:
  description: The addresses added (or that check mode would add).
  returned: unless O(databases) is given
  type: list
  elements: str
removed:
  description: The addresses removed (or that check mode would remove).
  returned: unless O(databases) is given
  type: list
  elements: str
repaired:
  description:
    - 'What the servers'' access layers had wrong besides this task''s own changes, one entry each, and was repaired
      (or that check mode would repair), like C(pg_hba: host "cust_x" "cust_x" 198.51.100.0/24 scram-sha-256 missing).'
    - The diff lists them too. Empty with O(backend=api), whose service compares its own servers.
  returned: unless O(databases) is given
  type: list
  elements: str
databases:
  description:
    - With O(databases), one entry per item, in their order, each shaped like a one-database result.
    - When an item fails, the task fails with a message that starts with the item, as in C(databases[1] (blog)),
      and its result has the entries of the items before it (so its length is the failed item's index).
  returned: when O(databases) is given, also when an item failed
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this database's rules changed.
      type: bool
    rules:
      description: Its rules after the task, as RV(rules).
      type: list
    added:
      description: As RV(added).
      type: list
    removed:
      description: As RV(removed).
      type: list
    repaired:
      description: As RV(repaired).
      type: list
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import check_rule_id, normalize_address
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.module import (
    ADDRESS_OPTIONS, LIST_RULES, Plan, argument_spec, databases_option, identify, locate, run, until_created)

OPTIONS = dict(
    ip_address=dict(type='str'),
    description=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    rule_id=dict(type='str'),
    # No options= here: when an element is not a dict, ansible-core then loses every no_log value and
    # its failure shows api_key and login_password; wanted_rules checks each element's keys instead.
    rules=dict(type='list', elements='dict'),
    purge=dict(type='bool', default=False),
    allow_any=dict(type='bool', default=False),
    **dict(ADDRESS_OPTIONS, **databases_option())
)
RULES = dict(mutually_exclusive=LIST_RULES['mutually_exclusive'] + [('ip_address', 'rules', 'rule_id'),
                                                                    ('rule_id', 'databases')],
             required_one_of=LIST_RULES['required_one_of'])


def checked_address(value, params):
    """A normalised CIDR that this backend and engine can enforce."""
    network = normalize_address(value, ipv6=params['backend'] == 'host', allow_any=params['allow_any'])
    if params['db_type'] == 'mariadb' and ':' in network and not network.endswith('/128'):
        raise naming.ValidationError('ip_address %s: MariaDB accounts can name single IPv6 addresses only' % network)
    return network


RULE_KEYS = ('ip_address', 'description')
# What an item of ``databases`` may set (besides the addressing options); its rules are checked by wanted_rules.
ITEM_OPTIONS = dict(
    ip_address=dict(type='str'),
    description=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent']),
    rules=dict(type='list', elements='dict'),
    purge=dict(type='bool'),
)


def wanted_rules(params):
    """[(CIDR, description)] the task asks for, validated; None when it does not list rules."""
    if params['rules'] is not None:
        wanted = []
        for index, item in enumerate(params['rules']):
            unknown = sorted(set(item) - set(RULE_KEYS))
            if unknown:
                raise naming.ValidationError('rules[%d]: a rule has only %s, not %s'
                                             % (index, ' and '.join(RULE_KEYS), ', '.join(unknown)))
            try:
                network = checked_address(item.get('ip_address'), params)
            except naming.ValidationError as exc:
                raise naming.ValidationError('rules[%d]: %s' % (index, exc))
            if network in [w[0] for w in wanted]:
                raise naming.ValidationError('rules[%d]: %s is listed twice' % (index, network))
            wanted.append((network, naming.check_description(item.get('description'))))
        return wanted
    if params['ip_address'] is not None:
        return [(checked_address(params['ip_address'], params), naming.check_description(params['description']))]
    return None


def check(params):
    """(wanted rules, rule_id) of one database, validated before any connection."""
    identify(params)
    if params['ip_address'] is not None and params['rules'] is not None:
        raise naming.ValidationError('ip_address and rules are mutually exclusive (an item inherits the task\'s)')
    if params['ip_address'] is None and params['rules'] is None and params['rule_id'] is None:
        raise naming.ValidationError('one of ip_address, rules or rule_id is required')
    if params['state'] == 'absent' and params['ip_address'] is None and params['rule_id'] is None:
        raise naming.ValidationError('state absent removes one rule: it needs ip_address or rule_id')
    rule_id = check_rule_id(params['rule_id']) if params['rule_id'] is not None else None
    if rule_id is not None and params['state'] != 'absent':
        raise naming.ValidationError('rule_id names a rule to remove: it needs state: absent')
    return wanted_rules(params), rule_id


def plan(backend, params, checked):
    wanted, rule_id = checked
    single = params['ip_address'] is not None
    found = locate(backend, params)
    db_name = found.db_name
    firewall = backend.firewall()
    before = firewall.list(db_name) if found.database else []
    by_address = dict((rule['ip_address'], rule) for rule in before)
    add, describe, remove = [], [], []
    if rule_id is not None:
        remove = [rule for rule in before if rule['rule_id'] == rule_id]
        owner = None if remove else firewall.owner_of(rule_id)
        if owner is not None:
            raise NotFound('rule_id %s is not a rule of %s (it belongs to %s)' % (rule_id, db_name, owner))
    elif single and params['state'] == 'absent':
        remove = [by_address[wanted[0][0]]] if wanted[0][0] in by_address else []
    else:
        for network, description in wanted:
            if network not in by_address:
                add.append((network, description))
            elif description is not None and description != by_address[network]['description']:
                describe.append((by_address[network], description))
        if params['purge']:
            listed = set(network for network, dummy in wanted)
            remove = [rule for rule in before if rule['ip_address'] not in listed]
    # The servers are compared with the rules every run: what they have wrong besides this task's changes.
    changing = [network for network, dummy in add] + [rule['ip_address'] for rule in remove]
    repaired = firewall.drift(db_name, changing=changing) if found.database else []
    described = dict((rule['rule_id'], description) for rule, description in describe)
    after = [dict(rule, description=described.get(rule['rule_id'], rule['description']))
             for rule in before if rule not in remove]
    after += [dict(rule_id=None, db_name=db_name, db_type=params['db_type'], ip_address=network, port=None,
                   description=description, created_at=None) for network, description in add]

    def outcome(rules, repaired):
        result = dict(changed=bool(add or describe or remove or repaired), rules=rules,
                      added=[network for network, dummy in add], removed=[rule['ip_address'] for rule in remove],
                      repaired=repaired,
                      diff=dict(before=dict(rules=[summary(rule) for rule in before]),
                                after=dict(rules=[summary(rule) for rule in rules])))
        if repaired:
            result['diff']['after']['repaired'] = repaired
        if single:
            result['rule'] = next((rule for rule in rules if rule['ip_address'] == wanted[0][0]), {})
        return result

    def apply():
        for network, description in add:
            firewall.add(db_name, network, description)
        for rule, description in describe:
            firewall.describe(db_name, rule, description)
        for rule in remove:
            firewall.remove(db_name, rule['rule_id'])
        # An addition or removal rewrites the database's layers whole; otherwise the repair is a write of its own.
        done = repaired if add or remove else firewall.repair(db_name)
        return outcome(firewall.list(db_name), done)  # with the ids and ports the server gave
    return until_created(params, found, Plan(outcome(after, repaired), apply if add or describe or remove or repaired else None),
                         'its firewall rules')


def summary(rule):
    return '%s%s' % (rule['ip_address'], ' (%s)' % rule['description'] if rule['description'] else '')


def main():
    module = AnsibleModule(argument_spec=argument_spec(**OPTIONS), supports_check_mode=True, **RULES)
    run(module, check, plan, item_options=ITEM_OPTIONS)


if __name__ == '__main__':
    main()
