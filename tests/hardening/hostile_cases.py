# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostile input corpus of test_hostile_input.py: module options and API requests that must be refused.

Each module case names a module, a backend, an engine, the options it sets over the backend's own, and
the substrings its failure message must hold (the option's name and, where there is one, its rule).
``@db`` in an option stands for the staged database of that backend and engine, ``@cust`` for its customer.
Each HTTP case names a method, a path (``{pg}``, ``{mdb}``: the staged API databases; ``{own}``: the
customer key's own), a JSON body or raw bytes, the key, the statuses that are right and a substring of
the answer's detail.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections

ModuleCase = collections.namedtuple('ModuleCase', 'id module backend db_type args expect')
HttpCase = collections.namedtuple('HttpCase', 'id method path body key status expect')
AcceptedCase = collections.namedtuple('AcceptedCase', 'id module backend db_type args field value')

PG, MDB = 'postgresql', 'mariadb'
SHORT = {PG: 'pg', MDB: 'mdb'}
SNAP = 'snap_20260101_000000_deadbeef'
UUID = '0b8e1c2e-5f4a-4c39-9d6e-3b0f0a8f2d11'
LONG = 'a' * 100000

# Values no database name part may take; the ASCII-only rule refuses each (lists and dicts become strings first).
HOSTILE_NAMES = [
    ('sql-quote', "x'; DROP DATABASE postgres; --"),
    ('sql-backtick', 'x`; DROP DATABASE mysql; #'),
    ('shell-subst', 'x$(touch /tmp/pwned)'),
    ('shell-pipe', 'x|rm -rf /'),
    ('dotdot', '../../etc/passwd'),
    ('abs-path', '/etc/passwd'),
    ('cyrillic-a', 'd\u0430ta'),
    ('fullwidth', '\uff44\uff41\uff54\uff41'),
    ('zero-width-joiner', 'da\u200dta'),
    ('nul', 'da\x00ta'),
    ('newline', 'data\nx'),
    ('space', 'da ta'),
    ('percent', 'da%ta'),
    ('list', ['data']),
    ('dict', {'a': 1}),
]


def _some(values, *indexes):
    """The values at ``indexes``: a backend that shares a check with the other gets a sample, not the lot."""
    return [values[index] for index in indexes]


def _module_cases():
    cases = []

    def add(id, module, backend, db_type, args, *expect):
        cases.append(ModuleCase('%s/%s/%s' % (module.replace('wayscloud_database', 'database'), backend, id),
                                module, backend, db_type, args, expect))

    ascii_rule = 'may contain only ASCII letters'
    # ---- wayscloud_database: every hostile name in each addressing option, both backends
    for backend in ('host', 'api'):
        for label, value in HOSTILE_NAMES if backend == 'host' else _some(HOSTILE_NAMES, 1, 5, 7, 8, 10, 14):
            add('pg-requested_name-' + label, 'wayscloud_database', backend, PG,
                dict(customer_id='@cust', requested_name=value), 'requested_name', ascii_rule)
        for label, value in _some(HOSTILE_NAMES, 0, 2, 4, 6, 8, 9) if backend == 'host' else _some(HOSTILE_NAMES, 1, 7, 9):
            add('mdb-customer_id-' + label, 'wayscloud_database', backend, MDB,
                dict(customer_id=value, requested_name='target'), 'customer_id', 'ASCII letters and digits')
        add('pg-requested_name-empty', 'wayscloud_database', backend, PG, dict(customer_id='@cust', requested_name=''),
            'requested_name', ascii_rule)
        add('pg-requested_name-31-chars', 'wayscloud_database', backend, PG,
            dict(customer_id='@cust', requested_name='a' * 31), 'requested_name', 'at most 30')
        add('pg-requested_name-100k-chars', 'wayscloud_database', backend, PG,
            dict(customer_id='@cust', requested_name=LONG), 'requested_name', 'at most 30')
        add('pg-customer_id-too-long-for-engine', 'wayscloud_database', backend, PG,
            dict(customer_id='c' * 40, requested_name='a' * 20), 'shorten customer_id or requested_name')
        names = [('sql', "cust_a_pg_b'; DROP DATABASE postgres; --"), ('dotdot', 'cust_../../_pg_x'),
                 ('mdb-name-on-pg', 'cust_hostile_mdb_target'), ('cyrillic', 'cust_\u0430_pg_b'),
                 ('64-chars', 'cust_a_pg_' + 'b' * 54), ('no-prefix', 'postgres'), ('nul', 'cust_a_pg_b\x00')]
        for label, value in names if backend == 'host' else _some(names, 1, 2, 4):
            add('pg-name-' + label, 'wayscloud_database', backend, PG, dict(name=value), 'name')
        limits = [('negative', -1, 'between 10 and 1000'), ('zero', 0, 'between 10 and 1000'),
                  ('below-min', 9, 'between 10 and 1000'), ('above-max', 1001, 'between 10 and 1000'),
                  ('int64', 2 ** 63, 'between 10 and 1000'), ('huge', 10 ** 30, 'between 10 and 1000'),
                  ('sql', '10; DROP DATABASE postgres', 'int'), ('list', [10], 'int'),
                  ('dict', {'max': 10}, 'int'), ('float', 10.5, 'int')]
        for label, value, rule in limits if backend == 'host' else _some(limits, 0, 3, 5, 6):
            add('pg-connection_limit-' + label, 'wayscloud_database', backend, PG,
                dict(name='@db', connection_limit=value), 'connection_limit', rule)
        for label, value, rule in [('nul', 'ok\x00; DROP DATABASE postgres', 'NUL'), ('1025-chars', 'd' * 1025, 'at most 1024'),
                                   ('100k-chars', LONG, 'at most 1024')]:
            add('mdb-description-' + label, 'wayscloud_database', backend, MDB, dict(name='@db', description=value),
                'description', rule)
        add('pg-state-shell', 'wayscloud_database', backend, PG, dict(name='@db', state='absent; rm -rf /'),
            'state', 'one of')
        add('pg-drop_user-not-bool', 'wayscloud_database', backend, PG, dict(name='@db', state='absent', drop_user='maybe'),
            'drop_user', 'bool')
        add('pg-db_type-oracle', 'wayscloud_database', backend, 'oracle; DROP', dict(name='@db'), 'db_type', 'one of')

    # ---- options every module shares
    add('backend-shell', 'wayscloud_database_info', 'host', PG, dict(backend='host; id'), 'backend', 'one of')
    for label, value in [('file-scheme', 'file:///etc/passwd'), ('ftp-scheme', 'ftp://127.0.0.1/'),
                         ('no-scheme', '127.0.0.1:8000'), ('javascript', 'javascript:alert(1)'), ('empty', '')]:
        add('api_url-' + label, 'wayscloud_database_info', 'api', PG, dict(api_url=value), 'api_url', 'http:// or https://')
    for label, value in [('crlf-header-injection', 'wc_test_x\r\nX-Injected: 1'), ('non-latin1', 'wc_test_\u043a\u043b\u044e\u0447'),
                         ('nul', 'wc_test_\x00x'), ('space', 'wc test key')]:
        add('api_key-' + label, 'wayscloud_database_info', 'api', PG, dict(api_key=value), 'api_key', 'printable ASCII')
    for option, value, rule in [('api_timeout', 0, 'from 1 to'), ('api_timeout', -5, 'from 1 to'),
                                ('api_timeout', 10 ** 20, 'from 1 to'), ('api_timeout', 'ten', 'int'),
                                ('operation_timeout', 0, 'from 1 to'), ('operation_timeout', 86401, 'from 1 to'),
                                ('api_retries', -1, 'from 0 to'), ('api_retries', 10 ** 9, 'from 0 to'),
                                ('api_retries', {'n': 1}, 'int'), ('api_retry_max_delay', 0, 'from 1 to'),
                                ('api_retry_max_delay', 10 ** 24, 'from 1 to'), ('validate_certs', 'perhaps', 'bool')]:
        add('%s-%s' % (option, value if isinstance(value, int) else type(value).__name__), 'wayscloud_database_info', 'api', PG,
            {option: value}, option, rule)
    for label, value in [('negative', -1), ('zero', 0), ('above-65535', 70000), ('huge', 10 ** 23)]:
        add('login_port-' + label, 'wayscloud_database_info', 'host', PG, dict(login_port=value), 'login_port', '1 to 65535')
    add('login_port-list', 'wayscloud_database_info', 'host', MDB, dict(login_port=[3306]), 'login_port', 'int')
    add('firewall_driver-shell', 'wayscloud_database_firewall', 'host', PG,
        dict(name='@db', ip_address='192.0.2.1', firewall_driver='ufw; rm -rf /'), 'firewall_driver', 'one of')
    # logins and login_passwords (per engine, for one module_defaults block): '@vault_token' stands for a
    # secret put where it does not belong; no message or result may show it.
    for module, db_type, label, args, expect in [
            ('wayscloud_database_info', PG, 'string', dict(logins='socket=/tmp'), ('logins', 'keyed by engine')),
            ('wayscloud_database_info', PG, 'list', dict(logins=['/tmp']), ('logins', 'dict')),
            ('wayscloud_database_info', MDB, 'engine-oracle', dict(logins={'oracle': {}}), ('logins', 'keyed by engine')),
            ('wayscloud_database_info', PG, 'entry-string', dict(logins={'postgresql': '/tmp'}), ('logins.postgresql', 'dict')),
            ('wayscloud_database_info', PG, 'entry-list', dict(logins={'postgresql': ['@vault_token']}),
             ('logins.postgresql', 'dict')),
            ('wayscloud_database_firewall', PG, 'password-inside', dict(name='@db', ip_address='192.0.2.1', logins={
                'postgresql': {'login_password': '@vault_token'}}), ('logins.postgresql', 'login_passwords')),
            ('wayscloud_database_info', MDB, 'port-above-65535', dict(logins={'mariadb': {'login_port': 70000}}),
             ('logins.mariadb.login_port', '1 to 65535')),
            ('wayscloud_database_info', PG, 'port-sql', dict(logins={'postgresql': {'login_port': '5432; DROP'}}),
             ('logins.postgresql', 'login_port', 'int')),
            ('wayscloud_database_snapshot', MDB, 'unknown-setting', dict(name='@db', logins={'mariadb': {'state_dir': '/'}}),
             ('logins.mariadb', 'no setting state_dir'))]:
        add('logins-' + label, module, 'host', db_type, args, *expect)
    for label, value, expect in [('string', '@vault_token', ('login_passwords', 'dict')),
                                 ('list', ['@vault_token'], ('login_passwords', 'dict')),
                                 ('engine-mysql', {'mysql': '@vault_token'}, ('login_passwords', 'keyed by engine')),
                                 ('value-list', {'postgresql': ['@vault_token']}, ('login_passwords.postgresql', 'string'))]:
        add('login_passwords-' + label, 'wayscloud_database_info', 'host', PG, dict(login_passwords=value), *expect)
    add('return_password-not-bool', 'wayscloud_database_backup_policy', 'host', PG, dict(name='@db', return_password='perhaps'),
        'return_password', 'bool')
    add('return_password-false-without-vault', 'wayscloud_database', 'host', MDB,
        dict(customer_id='@cust', requested_name='novault', return_password=False), 'return_password', 'vault_url')
    add('return_password-false-api', 'wayscloud_database_credentials', 'api', PG,
        dict(name='@db', rotate=True, return_password=False), 'return_password', 'vault_url')

    # ---- wayscloud_database_credentials
    for backend in ('host', 'api'):
        for db_type in (PG, MDB):
            add('%s-rotate-not-bool' % SHORT[db_type], 'wayscloud_database_credentials', backend, db_type,
                dict(name='@db', rotate='perhaps'), 'rotate', 'bool')
            add('%s-name-sql' % SHORT[db_type], 'wayscloud_database_credentials', backend, db_type,
                dict(name="cust_a_pg_b' OR '1'='1", rotate=True), 'name', 'cust_{customer_id}')
        add('pg-requested_name-dotdot', 'wayscloud_database_credentials', backend, PG,
            dict(customer_id='@cust', requested_name='../target', rotate=True), 'requested_name', ascii_rule)
        add('pg-customer_id-zwj', 'wayscloud_database_credentials', backend, PG,
            dict(customer_id='hostile\u200d', requested_name='target', rotate=True), 'customer_id', 'ASCII letters and digits')
    add('vault_mount-dotdot', 'wayscloud_database_credentials', 'host', PG,
        dict(name='@db', vault_url='@vault', vault_token='@vault_token', vault_mount='../sys'), 'vault_mount', 'letters')
    add('vault_path_prefix-dotdot', 'wayscloud_database_credentials', 'host', PG,
        dict(name='@db', vault_url='@vault', vault_token='@vault_token', vault_path_prefix='../../sys/raw'),
        'vault_path_prefix', 'letters')
    add('vault_url-file-scheme', 'wayscloud_database_credentials', 'host', PG,
        dict(name='@db', vault_url='file:///etc/passwd', vault_token='@vault_token'), 'vault_url', 'http:// or https://')

    # ---- wayscloud_database_firewall
    addresses = [('cidr-33', '10.0.0.0/33', 'CIDR'), ('three-octets', '1.2.3', 'CIDR'), ('octet-256', '256.1.1.1', 'CIDR'),
                 ('host-bits', '10.0.0.1/24', 'host bits'), ('any', '0.0.0.0/0', 'allow_any'),
                 ('shell', '1.2.3.4; rm -rf /', 'CIDR'), ('nul', '1.2.3.4\x00', 'CIDR'),
                 ('fullwidth', '\uff11.\uff12.\uff13.\uff14', 'CIDR'), ('negative-prefix', '1.2.3.4/-1', 'CIDR'),
                 ('hostname', 'localhost', 'CIDR'), ('empty', '', 'CIDR'), ('list', ['192.0.2.1'], 'CIDR'),
                 ('double-prefix', '10.0.0.0/8/8', 'CIDR')]
    for backend, db_type in (('host', PG), ('api', MDB)):
        for label, value, rule in addresses:
            add('%s-ip_address-%s' % (SHORT[db_type], label), 'wayscloud_database_firewall', backend, db_type,
                dict(name='@db', ip_address=value), 'ip_address', rule)
    for backend, db_type in (('host', MDB), ('api', PG)):
        for label, value, rule in _some(addresses, 0, 3, 4):
            add('%s-ip_address-%s' % (SHORT[db_type], label), 'wayscloud_database_firewall', backend, db_type,
                dict(name='@db', ip_address=value), 'ip_address', rule)
    add('pg-ip_address-ipv6', 'wayscloud_database_firewall', 'api', PG, dict(name='@db', ip_address='::1'),
        'ip_address', 'IPv4 only')
    add('pg-ip_address-ipv6-any', 'wayscloud_database_firewall', 'host', PG, dict(name='@db', ip_address='::/0'),
        'ip_address', 'allow_any')
    add('mdb-ip_address-ipv6-network', 'wayscloud_database_firewall', 'host', MDB,
        dict(name='@db', ip_address='2001:db8::/64'), 'ip_address', 'single IPv6 addresses')
    for backend, db_type in (('host', PG), ('api', MDB)):
        short = SHORT[db_type]
        for label, value in [('dotdot', '../../etc/passwd'), ('not-uuid', 'not-a-uuid'),
                             ('sql', "'; DELETE FROM rules; --"), ('nul', UUID + '\x00'), ('empty', '')]:
            add('%s-rule_id-%s' % (short, label), 'wayscloud_database_firewall', backend, db_type,
                dict(name='@db', rule_id=value, state='absent'), 'rule_id', 'UUID')
        add(short + '-rule_id-state-present', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', rule_id=UUID), 'rule_id', 'state: absent')
        add(short + '-rules-bad-cidr', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', rules=[{'ip_address': '192.0.2.1'}, {'ip_address': '10.0.0.0/33'}]), 'rules[1]', 'ip_address')
        add(short + '-rules-duplicate', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', rules=[{'ip_address': '192.0.2.1'}, {'ip_address': '192.0.2.1/32'}]), 'rules[1]', 'listed twice')
        add(short + '-rules-string-elements', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', rules=['192.0.2.1']), 'dictionary requested')
        add(short + '-databases-string-elements', 'wayscloud_database_firewall', backend, db_type,
            dict(ip_address='192.0.2.1', databases=['@db']), 'databases', 'dict')
        add(short + '-databases-unknown-option', 'wayscloud_database_firewall', backend, db_type,
            dict(ip_address='192.0.2.1', databases=[{'name': '@db', 'rule_id': UUID}]), 'databases[0]', 'no option rule_id')
        add(short + '-databases-bad-item-rules', 'wayscloud_database_firewall', backend, db_type,
            dict(databases=[{'name': '@db', 'rules': [{'ip_address': '192.0.2.1'}]}, {'name': '@db', 'rules': ['10.0.0.1']}]),
            'databases[1]', 'rules')
        add(short + '-database-list-bad-name', 'wayscloud_database', backend, db_type,
            dict(customer_id='@cust', databases=[{'requested_name': 'fine'}, {'requested_name': "x'; DROP DATABASE postgres; --"}]),
            'databases[1]', 'requested_name', ascii_rule)
        add(short + '-database-list-restarted', 'wayscloud_database', backend, db_type,
            dict(state='restarted', databases=[{'name': '@db'}]), 'restarted', 'one database')
        add(short + '-database-list-limit-type', 'wayscloud_database', backend, db_type,
            dict(databases=[{'name': '@db', 'connection_limit': 'many'}]), 'databases[0]', 'connection_limit')
        add(short + '-database-list-with-name', 'wayscloud_database', backend, db_type,
            dict(name='@db', databases=[{'name': '@db'}]), 'mutually exclusive', 'databases')
        add(short + '-rules-missing-ip', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', rules=[{'description': 'office'}]), 'ip_address', 'rules')
        add(short + '-rules-dict', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', rules={'ip_address': '192.0.2.1'}), 'rules', 'list')
        add(short + '-description-nul', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', ip_address='192.0.2.1', description='office\x00; rm -rf /'), 'description', 'NUL')
        add(short + '-description-1025', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', ip_address='192.0.2.1', description='d' * 1025), 'description', 'at most 1024')
        add(short + '-allow_any-not-bool', 'wayscloud_database_firewall', backend, db_type,
            dict(name='@db', ip_address='0.0.0.0/0', allow_any='always'), 'allow_any', 'bool')
        add(short + '-name-shell', 'wayscloud_database_firewall', backend, db_type,
            dict(name='cust_a_pg_b$(id)', ip_address='192.0.2.1'), 'name', 'cust_{customer_id}')

    # ---- wayscloud_database_snapshot
    snapshot_ids = [('dotdot', '../../etc/passwd'), ('abs-path', '/etc/passwd'), ('upper-hex', SNAP.upper()),
                    ('traversal-suffix', SNAP + '/../../x'), ('newline', SNAP + '\n'), ('shell', 'snap_x; rm -rf /'),
                    ('nul', SNAP + '\x00'), ('empty', ''), ('list', [SNAP])]
    for backend, db_type in (('host', PG), ('api', MDB)):
        short = SHORT[db_type]
        for label, value in snapshot_ids if backend == 'host' else _some(snapshot_ids, 0, 1, 3, 6, 8):
            add('%s-snapshot_id-%s' % (short, label), 'wayscloud_database_snapshot', backend, db_type,
                dict(name='@db', snapshot_id=value, state='absent'), 'snapshot_id', 'snap_YYYYMMDD_HHMMSS')
        labels = [('dotdot', '../x'), ('dash-first', '-rf'), ('space', 'a b'), ('shell', 'x;rm'),
                  ('64-chars', 'l' * 64), ('cyrillic', 'l\u0430bel'), ('empty', ''), ('nul', 'lab\x00el')]
        for label, value in labels if backend == 'host' else _some(labels, 0, 3, 5, 7):
            add('%s-label-%s' % (short, label), 'wayscloud_database_snapshot', backend, db_type,
                dict(name='@db', label=value), 'label', '1 to 63')
        targets = [('dotdot', '../x', 'ASCII'), ('abs-path', '/tmp/x', 'ASCII'),
                   ('other-customer', 'cust_other_%s_x' % SHORT[db_type], 'customer'),
                   ('itself', '@db', 'the database itself'), ('sql', "x'; DROP DATABASE postgres; --", 'ASCII'),
                   ('cyrillic', 't\u0430rget', 'ASCII'), ('31-chars', 't' * 31, 'at most 30'),
                   ('other-engine', 'cust_@cust_%s_x' % ('mdb' if db_type == PG else 'pg'), 'db_type'),
                   ('empty', '', 'ASCII'), ('nul', 'tar\x00get', 'ASCII')]
        for label, value, rule in targets if backend == 'host' else _some(targets, 0, 2, 3, 4, 7):
            add('%s-target_db_name-%s' % (short, label), 'wayscloud_database_snapshot', backend, db_type,
                dict(name='@db', state='restored', snapshot_id=SNAP, target_db_name=value), 'target_db_name', rule)
        for label, value, rule in [('zero', 0, 'between 1 and 32'), ('negative', -1, 'between 1 and 32'),
                                   ('33', 33, 'between 1 and 32'), ('huge', 10 ** 12, 'between 1 and 32'),
                                   ('word', 'many', 'int')]:
            add('%s-jobs-%s' % (short, label), 'wayscloud_database_snapshot', backend, db_type,
                dict(name='@db', jobs=value), 'jobs', rule)
        add(short + '-description-nul', 'wayscloud_database_snapshot', backend, db_type,
            dict(name='@db', description='before\x00migration'), 'description', 'NUL')
        add(short + '-description-1025', 'wayscloud_database_snapshot', backend, db_type,
            dict(name='@db', description='d' * 1025), 'description', 'at most 1024')
        add(short + '-description-on-absent', 'wayscloud_database_snapshot', backend, db_type,
            dict(name='@db', state='absent', snapshot_id=SNAP, description='x'), 'description', 'state: present')
        add(short + '-restore-in-place-without-force', 'wayscloud_database_snapshot', backend, db_type,
            dict(name='@db', state='restored', snapshot_id=SNAP), 'force: true')
        add(short + '-force-not-bool', 'wayscloud_database_snapshot', backend, db_type,
            dict(name='@db', state='restored', snapshot_id=SNAP, force='please'), 'force', 'bool')
        add(short + '-target_db_name-on-present', 'wayscloud_database_snapshot', backend, db_type,
            dict(name='@db', target_db_name='copy'), 'target_db_name', 'state: restored')

    # ---- wayscloud_database_backup_policy
    times = [('24-00', '24:00'), ('one-digit-hour', '2:00'), ('minute-60', '02:60'), ('seconds', '02:00:00'),
             ('newline', '02:00\n'), ('fullwidth', '\uff10\uff12:\uff10\uff10'), ('negative', '-1:00'), ('empty', ''),
             ('shell', '02:00; rm -rf /'), ('list', ['02:00']), ('nul', '02:00\x00')]
    for backend, db_type in (('host', PG), ('api', MDB)):
        short = SHORT[db_type]
        for label, value in times if backend == 'host' else _some(times, 0, 2, 5, 8, 9):
            add('%s-time_of_day-%s' % (short, label), 'wayscloud_database_backup_policy', backend, db_type,
                dict(name='@db', enabled=True, time_of_day=value), 'time_of_day', 'HH:MM')
        for label, value, rule in [('zero', 0, '1 to 3650'), ('negative', -1, '1 to 3650'), ('3651', 3651, '1 to 3650'),
                                   ('huge', 10 ** 12, '1 to 3650'), ('words', '7 days', 'int'), ('list', [7], 'int'),
                                   ('dict', {'days': 7}, 'int')]:
            add('%s-retention_days-%s' % (short, label), 'wayscloud_database_backup_policy', backend, db_type,
                dict(name='@db', retention_days=value), 'retention_days', rule)
        add(short + '-frequency-monthly', 'wayscloud_database_backup_policy', backend, db_type,
            dict(name='@db', frequency='monthly'), 'frequency', 'one of')
        add(short + '-frequency-shell', 'wayscloud_database_backup_policy', backend, db_type,
            dict(name='@db', frequency='daily; rm -rf /'), 'frequency', 'one of')
        add(short + '-enabled-not-bool', 'wayscloud_database_backup_policy', backend, db_type,
            dict(name='@db', enabled='perhaps'), 'enabled', 'bool')
        add(short + '-name-dotdot', 'wayscloud_database_backup_policy', backend, db_type,
            dict(name='../../etc/cron.d/x', enabled=True), 'name', 'cust_{customer_id}')
    add('pg-schedule_driver-shell', 'wayscloud_database_backup_policy', 'host', PG,
        dict(name='@db', enabled=True, schedule_driver='cron; id'), 'schedule_driver', 'one of')

    # ---- wayscloud_database_info
    for backend in ('host', 'api'):
        add('gather-unknown', 'wayscloud_database_info', backend, None, dict(gather=['everything']), 'gather', 'one or more of')
        add('gather-shell', 'wayscloud_database_info', backend, None, dict(gather='databases; rm -rf /'), 'gather', 'one or more of')
        add('gather-dict', 'wayscloud_database_info', backend, None, dict(gather={'info': True}), 'gather', 'list')
        for label, value in [('sql', "x' OR '1'='1"), ('dotdot', '../..'), ('fullwidth', '\uff41\uff42'), ('nul', 'ab\x00')]:
            add('customer_id-' + label, 'wayscloud_database_info', backend, None, dict(customer_id=value), 'customer_id',
                'ASCII letters and digits')
        add('name-shell', 'wayscloud_database_info', backend, None, dict(name='cust_a_pg_b`id`'), 'cust_{customer_id}')
        add('requested_name-without-db_type', 'wayscloud_database_info', backend, None, dict(requested_name='target'),
            'db_type is required')
        add('db_type-unknown', 'wayscloud_database_info', backend, 'mongodb', dict(), 'db_type', 'one of')
        add('per-database-without-name', 'wayscloud_database_info', backend, None, dict(gather=['credentials']),
            'gather credentials needs a database')

    # ---- wayscloud_database_collector (host only)
    for label, value, rule in [('zero', 0, '1 to 366'), ('negative', -1, '1 to 366'), ('367', 367, '1 to 366'),
                               ('huge', 10 ** 18, '1 to 366'), ('words', 'a week', 'int'), ('list', [7], 'int')]:
        add('retention_days-' + label, 'wayscloud_database_collector', 'host', PG, dict(retention_days=value),
            'retention_days', rule)
    add('state-shell', 'wayscloud_database_collector', 'host', MDB, dict(state='present && id'), 'state', 'one of')
    add('backend-api', 'wayscloud_database_collector', 'api', PG, dict(), 'backend: host')

    # ---- wayscloud_database_quota (host only)
    for label, value in [('sql', "a'; DROP TABLE quotas; --"), ('dotdot', '../x'), ('cyrillic', 'cust\u043e'),
                         ('empty', ''), ('nul', 'ab\x00'), ('list', ['a'])]:
        add('customer_id-' + label, 'wayscloud_database_quota', 'host', PG,
            dict(customer_id=value, databases=1, storage_gb=1), 'customer_id', 'ASCII letters and digits')
    for label, value, rule in [('negative', -1, '0 to 100000'), ('above-max', 100001, '0 to 100000'),
                               ('huge', 10 ** 30, '0 to 100000'), ('words', 'lots', 'int'), ('list', [1], 'int')]:
        add('databases-' + label, 'wayscloud_database_quota', 'host', PG,
            dict(customer_id='@cust', databases=value, storage_gb=1), 'databases', rule)
    for label, value, rule in [('negative', -0.5, '0 to 1000000'), ('above-max', 1e7, '0 to 1000000'),
                               ('nan', 'nan', '0 to 1000000'), ('inf', 'inf', '0 to 1000000'), ('minus-inf', '-inf', '0 to 1000000'),
                               ('dict', {'gb': 1}, 'float')]:
        add('storage_gb-' + label, 'wayscloud_database_quota', 'host', MDB,
            dict(customer_id='@cust', databases=1, storage_gb=value), 'storage_gb', rule)
    add('backend-api', 'wayscloud_database_quota', 'api', PG, dict(customer_id='@cust', databases=1, storage_gb=1),
        'backend: host')
    return cases


def _http_cases():
    cases = []

    def add(id, method, path, body=None, status=(422,), expect='', key='internal'):
        cases.append(HttpCase(id, method, path, body, key, status, expect))

    names = [('sql', "x'; DROP DATABASE postgres; --"), ('dotdot', '../../etc'), ('cyrillic', 'd\u0430ta'),
             ('zwj', 'da\u200dta'), ('nul', 'da\x00ta'), ('31-chars', 'a' * 31), ('list', ['data'])]
    for label, value in names:
        add('create/requested_name-' + label, 'POST', '/v1/databases', dict(db_type='postgresql', requested_name=value),
            expect='requested_name')
    for label, value in names[:5] + [('number', 42)]:
        add('create/customer_id-' + label, 'POST', '/v1/databases',
            dict(db_type='mariadb', requested_name='target', customer_id=value), expect='customer_id')
    add('create/db_type-oracle', 'POST', '/v1/databases', dict(db_type='oracle', requested_name='x'), expect='db_type')
    add('create/body-not-json', 'POST', '/v1/databases', b"db_type=postgresql'; DROP", expect='body')
    add('create/body-array', 'POST', '/v1/databases', [{'db_type': 'postgresql'}], expect='body')
    add('create/too-long-for-engine', 'POST', '/v1/databases',
        dict(db_type='postgresql', requested_name='a' * 30, customer_id='c' * 30), expect='shorten customer_id')
    add('delete-body/db_name-sql', 'DELETE', '/v1/databases', dict(db_type='postgresql', db_name="{pg}' OR '1'='1"),
        status=(404,), expect='not found')
    add('delete-body/db_name-dotdot', 'DELETE', '/v1/databases', dict(db_type='mariadb', db_name='../../{mdb}'),
        status=(404,), expect='not found')
    add('delete-body/db_type-shell', 'DELETE', '/v1/databases', dict(db_type='postgresql; id', db_name='{pg}'),
        expect='db_type')
    add('delete-body/db_name-dict', 'DELETE', '/v1/databases', dict(db_type='postgresql', db_name={'$ne': ''}),
        expect='db_name')
    add('delete-body/username-other', 'DELETE', '/v1/databases', dict(db_type='postgresql', db_name='{pg}', username='postgres'),
        status=(400,), expect='is not the user')
    add('delete-path/db_name-nul', 'DELETE', '/v1/databases/postgresql/{pg}%00', status=(404,), expect='not found')
    add('delete-path/db_name-encoded-dotdot', 'DELETE', '/v1/databases/mariadb/..%2F..%2F{mdb}', status=(404,),
        expect='not found')  # the decoded slashes match no route
    add('delete-path/username-sql', 'DELETE', "/v1/databases/postgresql/{pg}?username=x%27%20OR%201%3D1",
        status=(400,), expect='is not the user')
    add('delete-path/other-customer', 'DELETE', '/v1/databases/postgresql/{pg}', key='customer', status=(404,),
        expect='not found')
    for label, value, where in [('negative', -1, 'connection_limit'), ('huge', 10 ** 30, 'connection_limit'),
                                ('string', '100; DROP', 'connection_limit'), ('list', [100], 'connection_limit'),
                                ('float', 10.5, 'connection_limit')]:
        add('update/connection_limit-' + label, 'PATCH', '/v1/databases/postgresql/{pg}', dict(connection_limit=value),
            expect=where)
    add('update/description-nul', 'PATCH', '/v1/databases/mariadb/{mdb}', dict(description='x\x00y'), expect='NUL')
    add('update/description-1025', 'PATCH', '/v1/databases/mariadb/{mdb}', dict(description='d' * 1025), expect='description')
    add('update/description-dict', 'PATCH', '/v1/databases/mariadb/{mdb}', dict(description={'a': 1}), expect='description')
    add('update/db_name-shell', 'PATCH', '/v1/databases/postgresql/{pg}%3Bid', dict(connection_limit=50), status=(404,),
        expect='not found')
    add('list/db_type-unknown', 'GET', '/v1/databases/oracle', expect='db_type')
    add('list/customer_id-sql', 'GET', "/v1/databases/postgresql?customer_id=x%27%20OR%20%271%27%3D%271", expect='customer_id')
    add('list/customer_id-dotdot', 'GET', '/v1/databases/mariadb?customer_id=..%2F..', expect='customer_id')
    add('engines/key-sql', 'GET', '/v1/databases/engines', key="' OR '1'='1", status=(401,), expect='API key')
    add('engines/key-customer', 'GET', '/v1/databases/engines', key='customer', status=(403,), expect='internal')
    add('restart/db_name-dotdot', 'POST', '/v1/databases/postgresql/..%2F{pg}/restart', status=(404,), expect='not found')
    add('restart/other-customer', 'POST', '/v1/databases/mariadb/{mdb}/restart', key='customer', status=(404,),
        expect='not found')
    add('credentials/db_name-cyrillic', 'GET', '/v1/databases/postgresql/cust_hostil%D0%B5a_pg_target/credentials',
        status=(404,), expect='not found')
    add('credentials/other-customer', 'GET', '/v1/databases/postgresql/{pg}/credentials', key='customer', status=(404,),
        expect='not found')
    add('rotate/db_name-sql', 'POST', '/v1/databases/mariadb/{mdb}%27%3B%20DROP%20USER%20root/credentials/rotate',
        status=(404,), expect='not found')
    add('rotate/other-customer', 'POST', '/v1/databases/postgresql/{pg}/credentials/rotate', key='customer',
        status=(404,), expect='not found')
    add('info/db_name-fullwidth', 'GET', '/v1/databases/postgresql/%EF%BD%83ust_a_pg_b/info', status=(404,),
        expect='not found')
    add('metrics/db_name-nul', 'GET', '/v1/databases/mariadb/{mdb}%00/metrics', status=(404,), expect='not found')
    add('metrics/other-customer', 'GET', '/v1/databases/mariadb/{mdb}/metrics', key='customer', status=(404,),
        expect='not found')
    for label, value, rule in [('cidr-33', '10.0.0.0/33', 'CIDR'), ('three-octets', '1.2.3', 'CIDR'),
                               ('ipv6', '::1', 'IPv4'), ('host-bits', '10.0.0.1/24', 'host bits'),
                               ('shell', '1.2.3.4; iptables -F', 'CIDR'), ('nul', '1.2.3.4\x00', 'CIDR'),
                               ('fullwidth', '\uff11.\uff12.\uff13.\uff14', 'CIDR'), ('empty', '', 'CIDR'),
                               ('list', ['1.2.3.4'], 'ip_address'), ('number', 16909060, 'ip_address')]:
        add('firewall-add/ip_address-' + label, 'POST', '/v1/databases/postgresql/{pg}/firewall', dict(ip_address=value),
            expect=rule)
    add('firewall-add/description-nul', 'POST', '/v1/databases/mariadb/{mdb}/firewall',
        dict(ip_address='192.0.2.9', description='x\x00y'), expect='NUL')
    add('firewall-add/description-1025', 'POST', '/v1/databases/mariadb/{mdb}/firewall',
        dict(ip_address='192.0.2.9', description='d' * 1025), expect='description')
    add('firewall-add/missing-ip', 'POST', '/v1/databases/mariadb/{mdb}/firewall', dict(description='office'),
        expect='ip_address')
    add('firewall-add/other-customer', 'POST', '/v1/databases/postgresql/{pg}/firewall', dict(ip_address='192.0.2.9'),
        key='customer', status=(404,), expect='not found')
    add('firewall-list/db_name-dotdot', 'GET', '/v1/databases/postgresql/..%2F..%2Fetc/firewall', status=(404,),
        expect='not found')
    for label, value in [('dotdot', '..%2F..%2Fetc%2Fpasswd'), ('not-uuid', 'not-a-uuid'), ('sql', '1%27%20OR%20%271%27%3D%271'),
                         ('nul', UUID + '%00')]:
        add('firewall-delete/rule_id-' + label, 'DELETE', '/v1/databases/postgresql/{pg}/firewall/' + value,
            status=(404,) if '%2F' in value else (422,), expect='not found' if '%2F' in value else 'rule_id')
    add('quota/customer_id-sql', 'GET', '/v1/quota?customer_id=a%27%3B%20DROP%20TABLE%20quotas%3B%20--', expect='customer_id')
    add('quota/customer_id-nul', 'GET', '/v1/quota?customer_id=a%00', expect='customer_id')
    add('history/customer_id-dotdot', 'GET', '/v1/databases/history?customer_id=..%2F..', expect='customer_id')
    add('history/customer_id-zwj', 'GET', '/v1/databases/history?customer_id=a%E2%80%8Db', expect='customer_id')
    add('snapshot-create/description-nul', 'POST', '/v1/databases/postgresql/{pg}/snapshots', dict(description='a\x00b'),
        expect='NUL')
    add('snapshot-create/description-1025', 'POST', '/v1/databases/postgresql/{pg}/snapshots', dict(description='d' * 1025),
        expect='description')
    add('snapshot-create/description-list', 'POST', '/v1/databases/mariadb/{mdb}/snapshots', dict(description=['x']),
        expect='description')
    add('snapshot-create/other-customer', 'POST', '/v1/databases/mariadb/{mdb}/snapshots', key='customer', status=(404,),
        expect='not found')
    add('snapshot-list/db_name-sql', 'GET', '/v1/databases/mariadb/%27%20OR%201%3D1%20--/snapshots', status=(404,),
        expect='not found')
    for label, value in [('dotdot', '../../etc/passwd'), ('abs-path', '/etc/passwd'), ('shell', 'snap_x; rm -rf /'),
                         ('nul', SNAP + '\x00'), ('upper-hex', SNAP.upper()), ('list', [SNAP])]:
        add('restore/snapshot_id-' + label, 'POST', '/v1/databases/postgresql/{pg}/restore', dict(snapshot_id=value),
            expect='snapshot_id')
    for label, value, rule in [('dotdot', '../x', 'target_db_name'), ('abs-path', '/tmp/x', 'target_db_name'),
                               ('other-customer', 'cust_other_pg_x', 'customer'),
                               ('sql', "x'; DROP DATABASE postgres; --", 'target_db_name'),
                               ('other-engine', 'cust_hostilea_mdb_x', 'db_type'), ('dict', {'a': 1}, 'target_db_name')]:
        add('restore/target_db_name-' + label, 'POST', '/v1/databases/postgresql/{pg}/restore',
            dict(snapshot_id='@snap', target_db_name=value), expect=rule)
    for label, value in [('dotdot', '..%2F..%2Fetc%2Fpasswd'), ('upper-hex', SNAP.upper()), ('shell', 'snap_x%3Bid'),
                         ('nul', SNAP + '%00')]:
        add('snapshot-delete/snapshot_id-' + label, 'DELETE', '/v1/databases/mariadb/{mdb}/snapshots/' + value,
            status=(404,) if '%2F' in value else (422,), expect='not found' if '%2F' in value else 'snapshot_id')
    add('backup-get/other-customer', 'GET', '/v1/databases/postgresql/{pg}/backup-policy', key='customer', status=(404,),
        expect='not found')
    for label, body, where in [('retention-negative', dict(enabled=True, retention_days=-1), 'retention_days'),
                               ('retention-huge', dict(enabled=True, retention_days=10 ** 30), 'retention_days'),
                               ('retention-string', dict(enabled=True, retention_days='7; rm'), 'retention_days'),
                               ('time-25h', dict(enabled=True, time_of_day='25:00'), 'time_of_day'),
                               ('time-shell', dict(enabled=True, time_of_day='02:00; rm -rf /'), 'time_of_day'),
                               ('time-fullwidth', dict(enabled=True, time_of_day='\uff10\uff12:\uff10\uff10'), 'time_of_day'),
                               ('time-number', dict(enabled=True, time_of_day=200), 'time_of_day'),
                               ('frequency-monthly', dict(enabled=True, frequency='monthly'), 'frequency'),
                               ('enabled-maybe', dict(enabled='maybe'), 'enabled'),
                               ('enabled-missing', dict(frequency='daily'), 'enabled')]:
        add('backup-set/' + label, 'PUT', '/v1/databases/mariadb/{mdb}/backup-policy', body, expect=where)
    return cases


def _accepted_cases():
    """Inputs that look hostile but are valid data: each must be stored exactly as given."""
    quoted = "it's \"ours\"'); DROP DATABASE postgres; -- $(id) `id` \\ %s ${HOME}"
    return [
        AcceptedCase('database/host/pg-description-sql-and-shell', 'wayscloud_database', 'host', PG,
                     dict(name='@db', description=quoted), 'description', quoted),
        AcceptedCase('database/host/mdb-description-sql-and-shell', 'wayscloud_database', 'host', MDB,
                     dict(name='@db', description=quoted.replace('postgres', 'mysql')), 'description',
                     quoted.replace('postgres', 'mysql')),
        AcceptedCase('database/api/pg-description-unicode', 'wayscloud_database', 'api', PG,
                     dict(name='@db', description='Caf\u00e9 \u2013 na\u00efve \u041f\u0440\u0438\u0432\u0435\u0442 \U0001f418'),
                     'description', 'Caf\u00e9 \u2013 na\u00efve \u041f\u0440\u0438\u0432\u0435\u0442 \U0001f418'),
        AcceptedCase('database/api/mdb-description-sql', 'wayscloud_database', 'api', MDB,
                     dict(name='@db', description="x'); DROP DATABASE mysql; #"), 'description', "x'); DROP DATABASE mysql; #"),
        AcceptedCase('firewall/host/pg-description-shell', 'wayscloud_database_firewall', 'host', PG,
                     dict(name='@db', ip_address='192.0.2.77', description="office; rm -rf / $(reboot) 'x'"),
                     'description', "office; rm -rf / $(reboot) 'x'"),
    ]


MODULE_CASES = _module_cases()
HTTP_CASES = _http_cases()
ACCEPTED_CASES = _accepted_cases()
