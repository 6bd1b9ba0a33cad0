# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL checks the whole pg_hba.conf after a write only when the file is not as the collection left it
(issue 20, item 1: that check read every line of a host's thousands on each API request). A file someone else
edited is still checked whole, and a line PostgreSQL rejects, anywhere in it, still puts the file back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import pytest

from commands import run

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql.database import ACCEPTED, BLOCK_BEGIN
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import technical_name

CHECK = 'pg_hba_file_rules WHERE error IS NOT NULL'


@pytest.fixture
def postgresql(logins, tmp_path):
    """(HostDatabases on PostgreSQL, the path of pg_hba.conf, [two new databases]); the file is put back as it was."""
    databases = HostDatabases('postgresql', logins['postgresql'], str(tmp_path / 'state'), network=NETWORKS['none'](run),
                              run=run)
    names = []
    for requested in ('hca', 'hcb'):
        db_name = technical_name('postgresql', 'lyrd', requested)
        databases.delete(db_name)
        databases.create('lyrd', requested)
        names.append(db_name)
    path = databases.driver.execute('SHOW hba_file')[0][0]
    with open(path) as handle:
        before = handle.read()
    yield databases, path, names
    with open(path) as handle:
        edited = handle.read() != before
    if edited:
        with open(path, 'w') as handle:
            handle.write(before)
    for db_name in names:
        databases.delete(db_name)
    databases.close()


def checks(databases, step):
    """How many times ``step`` had PostgreSQL check the whole file."""
    databases.driver.queries[:] = []
    step()
    return sum(1 for query in databases.driver.queries if CHECK in query)


def rejected_lines(databases):
    return databases.driver.execute('SELECT line_number, error FROM ' + CHECK)


def test_a_file_as_the_collection_left_it_is_not_checked_whole_again(postgresql):
    databases, dummy, (first, second) = postgresql
    firewall = databases.firewall()
    firewall.add(first, '198.51.100.0/24')
    assert checks(databases, lambda: firewall.add(second, '2001:db8::/32')) == 0
    assert checks(databases, lambda: databases.firewall().add(first, '203.0.113.7/32')) == 0
    assert rejected_lines(databases) == []
    assert {(first, first, '198.51.100.0/24'), (first, first, '203.0.113.7/32'),
            (second, second, '2001:db8::/32')} <= databases.driver.access()


def test_a_file_edited_by_hand_is_checked_whole(postgresql):
    """Even an edit of the same size with its time put back, and even one PostgreSQL accepts."""
    databases, path, (first, second) = postgresql
    databases.firewall().add(first, '198.51.100.0/24')
    with open(path) as handle:
        text = handle.read()
    info = os.stat(path)
    with open(path, 'w') as handle:
        handle.write(text.replace('198.51.100.0/24', '198.51.100.0/25'))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert checks(databases, lambda: databases.firewall().add(second, '203.0.113.7/32')) == 1
    assert checks(databases, lambda: databases.firewall().add(second, '203.0.113.8/32')) == 0


def test_a_file_left_unaccepted_is_checked_by_a_write_that_changes_nothing(postgresql):
    """A run killed between its write and PostgreSQL's check leaves the file without its accepted line; run again, the
    same write changes nothing, and still has the file checked (then accepted) before its reload."""
    databases, path, (first, dummy) = postgresql
    databases.firewall().add(first, '198.51.100.0/24')
    with open(path) as handle:
        lines = handle.read().splitlines()
    at = lines.index(BLOCK_BEGIN) + 1
    assert lines[at].startswith(ACCEPTED)
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines[:at] + lines[at + 1:]) + '\n')
    assert checks(databases, lambda: databases.driver._write(lambda groups: None)) == 1
    with open(path) as handle:
        assert handle.read().splitlines() == lines


@pytest.mark.parametrize('where', ['outside the block', 'in the block'])
def test_a_line_postgresql_rejects_puts_the_file_back(postgresql, where):
    """Written by the operator below the block, or in the block among a database's lines: the next write is checked
    whole, fails naming the line, and leaves the file as it found it."""
    databases, path, (first, second) = postgresql
    databases.firewall().add(first, '198.51.100.0/24')
    with open(path) as handle:
        text = handle.read()
    if where == 'outside the block':
        broken = text + 'host all all 198.51.100.300/32 reject\n'
    else:
        line = 'host "%s" "%s" 198.51.100.0/24 scram-sha-256' % (first, first)
        broken = text.replace(line, line + '\n' + line.replace('198.51.100.0/24', '198.51.100.300/32'))
    assert broken != text
    with open(path, 'w') as handle:
        handle.write(broken)
    with pytest.raises(BackendError, match='PostgreSQL rejects %s line [0-9]+: ' % re.escape(path)):
        databases.firewall().add(second, '203.0.113.7/32')
    with open(path) as handle:
        assert handle.read() == broken
