# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's block of pg_hba.conf as text: how it is parsed into databases' groups, and when its accepted line
lets a write skip PostgreSQL's check of the whole file (the engine test, tests/engine/test_hba_checks.py, has the
server's side)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import (
    ACCEPTED, BLOCK_BEGIN, BLOCK_END, block_groups, stamp_accepted, write_block)

MARK_A = '# wayscloud c1 cust_a "/srv/state"'
LINES = [
    MARK_A,
    'host "cust_a" "cust_a" 127.0.0.1/32 scram-sha-256',
    'host "cust_a" all all reject',
    '  # a comment of someone\'s',
    '',
    'local "wcs_x" "wcl_x" scram-sha-256',
    'host "wcs_x" "wcl_x" 127.0.0.1/32 scram-sha-256',
    'host\t"cust_a"  "cust_a" 10.0.0.0/8 scram-sha-256',
    'host ""cust_b"" x 10.0.0.1/32 scram-sha-256',
    '# wayscloud c2 cust_b "/other"',
    'host',
    'host "None" x 10.0.0.2/32 scram-sha-256',
    'host all +wayscloud_tenants all reject',
]
OUTSIDE = ['local all all peer', 'host all all 127.0.0.1/32 scram-sha-256']
BLOCK = ['host "cust_a" "cust_a" 127.0.0.1/32 scram-sha-256', 'host all +wayscloud_tenants all reject']


def test_block_groups_keeps_each_database_s_lines_and_mark_in_order():
    groups, closing = block_groups(LINES)
    assert list(groups) == ['cust_a', 'wcs_x', 'cust_b', None, 'None']
    assert groups['cust_a'] == (MARK_A, ['host "cust_a" "cust_a" 127.0.0.1/32 scram-sha-256',
                                         'host "cust_a" all all reject',
                                         'host\t"cust_a"  "cust_a" 10.0.0.0/8 scram-sha-256'])
    assert groups['wcs_x'] == (None, LINES[5:7])
    assert groups['cust_b'] == ('# wayscloud c2 cust_b "/other"', ['host ""cust_b"" x 10.0.0.1/32 scram-sha-256'])
    assert groups[None] == (None, ['host']) and groups['None'] == (None, ['host "None" x 10.0.0.2/32 scram-sha-256'])
    assert closing == ['host all +wayscloud_tenants all reject']


def read(path):
    with open(path) as handle:
        return handle.read().splitlines()


def test_a_file_is_accepted_only_as_the_collection_left_it_after_a_check(tmp_path):
    path = str(tmp_path / 'pg_hba.conf')
    with open(path, 'w') as handle:
        handle.write('\n'.join(OUTSIDE) + '\n')
    assert write_block(path, BLOCK, 150004) == (OUTSIDE, False)
    assert read(path) == [BLOCK_BEGIN] + BLOCK + [BLOCK_END] + OUTSIDE  # no accepted line before a check
    assert write_block(path, BLOCK, 150004) == (None, False)
    stamp_accepted(path, 150004)
    stamped = read(path)
    assert stamped[1].startswith(ACCEPTED + '150004, sha256 ') and stamped[:1] + stamped[2:] == [BLOCK_BEGIN] + BLOCK + [
        BLOCK_END] + OUTSIDE

    more = BLOCK[:1] + ['host "cust_a" "cust_a" 10.0.0.0/8 scram-sha-256'] + BLOCK[1:]
    assert write_block(path, more, 150004) == (stamped, True)
    assert read(path)[1].startswith(ACCEPTED) and read(path)[1] != stamped[1]
    assert write_block(path, more, 150004)[0] is None
    assert write_block(path, more, 160000)[1] is False  # another server version checks it again
    assert not read(path)[1].startswith(ACCEPTED)


def test_any_edit_of_the_file_makes_its_accepted_line_untrue(tmp_path):
    path = str(tmp_path / 'pg_hba.conf')
    for edit in (lambda lines: lines + ['host all all 0.0.0.0/0 trust'],
                 lambda lines: [line.replace('127.0.0.1/32', '127.0.0.2/32') for line in lines],
                 lambda lines: lines[:1] + [lines[1] + ' '] + lines[2:]):
        with open(path, 'w') as handle:
            handle.write('\n'.join(OUTSIDE) + '\n')
        write_block(path, BLOCK, 150004)
        stamp_accepted(path, 150004)
        edited = edit(read(path))
        with open(path, 'w') as handle:
            handle.write('\n'.join(edited) + '\n')
        assert write_block(path, BLOCK + ['host "cust_b" "cust_b" 127.0.0.1/32 scram-sha-256'], 150004)[1] is False
