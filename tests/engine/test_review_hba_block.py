# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Review finding (issue 20 review): the pg_hba block is no longer rewritten whole; set_accesses/change_access keep
"every other line as it is" (block_groups), keyed by a line's database field. A line put into the collection's block
by hand for something that is not a customer database (sameuser, replication, postgres) is kept by every later
write, at the top of pg_hba.conf before the closing rejects, and no drift names it, though the block's first line
says "edits here are lost" and docs/security.md says the block is the collection's."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import BLOCK_BEGIN, read_block
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

from commands import run

HAND = 'host sameuser all 0.0.0.0/0 trust'


def test_a_line_added_by_hand_inside_the_block_does_not_outlive_the_next_write(logins, tmp_path):
    databases = HostDatabases('postgresql', logins['postgresql'], str(tmp_path / 'state'), network=NETWORKS['none'](run),
                              run=run)
    db_name = technical_name('postgresql', 'rvhba', 'one')
    databases.delete(db_name)
    path = databases.driver.execute('SHOW hba_file')[0][0]
    try:
        databases.create('rvhba', 'one')
        with open(path) as handle:
            lines = handle.read().splitlines()
        at = lines.index(BLOCK_BEGIN) + 1
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines[:at] + [HAND] + lines[at:]) + '\n')
        databases.firewall().add(db_name, '198.51.100.0/24', 'a write of the block')
        drift = databases.firewall().drift(db_name)
        assert HAND not in read_block(path) or any('sameuser' in problem for problem in drift), (
            'kept at the top of pg_hba.conf, unnamed: %s' % read_block(path)[:3])
    finally:
        with open(path) as handle:
            lines = [line for line in handle.read().splitlines() if line != HAND]
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        databases.delete(db_name)
        databases.close()
