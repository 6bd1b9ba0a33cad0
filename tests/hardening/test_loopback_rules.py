# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A firewall rule for a loopback address (127.0.0.1, ::1) on a host: both engines always let a
database's user in from there, so the rule is kept and removed like any other, and never fails its
read-back with "still lacks" (it did: found while writing test_concurrency.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from conftest import host_options, run_module


@pytest.mark.parametrize('db_type,tag', [('postgresql', 'pg'), ('mariadb', 'mdb')])
def test_loopback_rules(servers, db_type, tag, tmp_path):
    options = dict(host_options(servers, db_type, str(tmp_path / 'state')), name='cust_loop1_%s_lo' % tag)
    run_module('wayscloud_database', dict(options, state='absent'))
    created = run_module('wayscloud_database', options)
    assert created.get('changed'), created.get('msg')
    try:
        for address in ('127.0.0.1', '::1'):
            added = run_module('wayscloud_database_firewall', dict(options, ip_address=address))
            assert added.get('changed') and not added.get('failed'), added.get('msg')
            again = run_module('wayscloud_database_firewall', dict(options, ip_address=address))
            assert not again.get('changed') and not again.get('failed'), again.get('msg')
        listed = run_module('wayscloud_database_firewall', dict(options, rules=[], purge=True))
        assert listed.get('changed') and not listed.get('failed'), listed.get('msg')
        assert listed['rules'] == []
    finally:
        gone = run_module('wayscloud_database', dict(options, state='absent'))
        assert not gone.get('failed'), gone.get('msg')
