# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's block of pg_hba.conf as text: how it is parsed into databases' groups, and when its accepted line
lets a write skip PostgreSQL's check of the whole file (the engine test, tests/engine/test_hba_checks.py, has the
server's side)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import (
    ACCEPTED, BLOCK_BEGIN, BLOCK_END, block_groups, digest_of, open_ended, quote_hba, stamp_accepted, write_block)

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
    'host "a"b" x 10.0.0.3/32 scram-sha-256',
    'host all +wayscloud_tenants all reject',
]
OUTSIDE = ['local all all peer', 'host all all 127.0.0.1/32 scram-sha-256']
BLOCK = ['host "cust_a" "cust_a" 127.0.0.1/32 scram-sha-256', 'host all +wayscloud_tenants all reject']


def test_block_groups_keeps_each_database_s_lines_and_mark_in_order():
    groups, closing = block_groups(LINES)
    assert list(groups) == ['cust_a', 'wcs_x', 'cust_b', None, 'None', 'a"b']
    assert groups['cust_a'] == (MARK_A, ['host "cust_a" "cust_a" 127.0.0.1/32 scram-sha-256',
                                         'host "cust_a" all all reject',
                                         'host\t"cust_a"  "cust_a" 10.0.0.0/8 scram-sha-256'])
    assert groups['wcs_x'] == (None, LINES[5:7])
    assert groups['cust_b'] == ('# wayscloud c2 cust_b "/other"', ['host ""cust_b"" x 10.0.0.1/32 scram-sha-256'])
    assert groups[None] == (None, ['host']) and groups['None'] == (None, ['host "None" x 10.0.0.2/32 scram-sha-256'])
    assert closing == ['host all +wayscloud_tenants all reject']


SERVER = '150004 ssl=off'


def read(path):
    with open(path, newline='') as handle:
        return handle.read()


def digest(path):
    return digest_of(read(path).encode())


def plain(*lines):
    return '\n'.join(lines) + '\n'


def start(tmp_path, outside=None):
    """A pg_hba.conf of ``outside`` (else OUTSIDE) with the block written, checked and stamped."""
    outside = OUTSIDE if outside is None else outside
    path = str(tmp_path / 'pg_hba.conf')
    with open(path, 'w') as handle:
        handle.write(plain(*outside))
    previous, accepted, written = write_block(path, BLOCK, SERVER, digest(path))
    assert (previous, accepted) == (plain(*outside), False)
    assert written == read(path) == plain(BLOCK_BEGIN, *(BLOCK + [BLOCK_END] + outside))  # no accepted line before a check
    assert stamp_accepted(path, written, SERVER) == read(path)
    return path


def test_a_file_is_accepted_only_as_the_collection_left_it_after_a_check(tmp_path):
    path = start(tmp_path)
    stamped = read(path).splitlines()
    assert stamped[1].startswith(ACCEPTED + SERVER + ', sha256 ') and stamped[:1] + stamped[2:] == [BLOCK_BEGIN] + BLOCK + [
        BLOCK_END] + OUTSIDE

    more = BLOCK[:1] + ['host "cust_a" "cust_a" 10.0.0.0/8 scram-sha-256'] + BLOCK[1:]
    previous, accepted, written = write_block(path, more, SERVER, digest(path))
    assert (previous.splitlines(), accepted, written) == (stamped, True, read(path))
    assert read(path).splitlines()[1].startswith(ACCEPTED) and read(path).splitlines()[1] != stamped[1]
    assert write_block(path, more, SERVER, digest(path))[:2] == (None, True)
    assert write_block(path, more, '160000 ssl=off', digest(path))[1] is False  # another server version: checked again
    assert not read(path).splitlines()[1].startswith(ACCEPTED)


def test_an_unaccepted_file_that_needs_no_change_is_still_unaccepted(tmp_path):
    """The write then changes nothing, and the caller checks it (a run killed before its check, and run again)."""
    path = start(tmp_path)
    unstamped = plain(BLOCK_BEGIN, *(BLOCK + [BLOCK_END] + OUTSIDE))
    with open(path, 'w') as handle:
        handle.write(unstamped)
    assert write_block(path, BLOCK, SERVER, digest(path)) == (None, False, unstamped)


@pytest.mark.parametrize('edit', [
    lambda lines: lines + ['host all all 0.0.0.0/0 trust'],
    lambda lines: [line.replace('127.0.0.1/32', '127.0.0.2/32') for line in lines],
    lambda lines: lines[:1] + [lines[1] + ' '] + lines[2:],
    lambda lines: lines[:1] + [lines[1].replace('ssl=off', 'ssl=on')] + lines[2:],
], ids=['a line added', 'a line changed', 'the accepted line changed', 'another server'])
def test_any_edit_of_the_file_makes_its_accepted_line_untrue(tmp_path, edit):
    path = start(tmp_path)
    edited = plain(*edit(read(path).splitlines()))
    assert edited != read(path)
    with open(path, 'w') as handle:
        handle.write(edited)
    assert write_block(path, BLOCK + ['host "cust_b" "cust_b" 127.0.0.1/32 scram-sha-256'], SERVER, digest(path))[1] is False


@pytest.mark.parametrize('line', ['include extra.conf', '  include_dir conf.d', 'host all @admins 10.0.0.0/8 scram-sha-256',
                                  'host all all 10.0.0.0/8 \\'])
def test_a_file_that_means_more_than_its_bytes_is_never_accepted(tmp_path, line):
    """It names other files, which can change without it, or continues a line into the next."""
    path = start(tmp_path, OUTSIDE + [line, 'scram-sha-256'])
    assert write_block(path, BLOCK + ['host "cust_b" "cust_b" 127.0.0.1/32 scram-sha-256'], SERVER, digest(path))[1] is False


def test_a_file_is_accepted_only_as_its_block_was_read(tmp_path):
    """A file that changed since its block was parsed, or since PostgreSQL checked it, is not taken as accepted."""
    path = start(tmp_path)
    assert write_block(path, BLOCK, SERVER, 'the digest of another file')[1] is False
    text = read(path)
    with open(path, 'w') as handle:
        handle.write(text + 'host all all 0.0.0.0/0 trust\n')
    assert stamp_accepted(path, text, SERVER) is None
    assert not read(path).splitlines()[1].startswith(ACCEPTED)


@pytest.mark.parametrize('name', ['ad"min', 'admin\nhost all all 0.0.0.0/0 trust', 'ad\rmin'])
def test_a_name_pg_hba_cannot_hold_is_refused(name):
    with pytest.raises(BackendError, match='pg_hba.conf cannot name'):
        quote_hba(name)
    assert quote_hba('wayscloud-admin.1') == '"wayscloud-admin.1"'


@pytest.mark.parametrize('line, means_more', [
    ('include extra.conf', True), ('\tinclude_if_exists x.conf', True), ('host all @admins 10.0.0.0/8 md5', True),
    ('host all all 10.0.0.0/8 md5 \\', True), ('host all all 10.0.0.0/8 md5 \\ \r', True),
    ('# names in a file: precede it with @, or include it', False), ('host "include_x" "u" 10.0.0.0/8 md5', False),
    ('#include x.conf', False), ('host all all 10.0.0.0/8 md5 # see admin@example.com', False),
    ('host "a#b" @admins 10.0.0.0/8 md5', True), ('host all app,@admins 10.0.0.0/8 md5', True),
    ('host all "ops@corp" 127.0.0.1/32 md5', False), ('host all ops@corp 127.0.0.1/32 md5', False)])
def test_open_ended_finds_what_can_change_without_the_file(line, means_more):
    assert open_ended(plain(*(OUTSIDE + [line] + OUTSIDE))) is means_more
