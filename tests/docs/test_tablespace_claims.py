# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the docs say of MariaDB's tablespace snapshots is what tablespaces.py does: how long a held table may keep
the snapshot waiting, and which tables go the logical way."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import yaml

from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb import tablespaces
from ansible_collections.wayscloud.databases.plugins.modules import wayscloud_database_snapshot
from ansible_collections.wayscloud.databases.tests.docs.test_examples import ROOT


def module_text():
    return ' '.join(yaml.safe_load(wayscloud_database_snapshot.DOCUMENTATION)['description'])


def test_the_lock_wait_the_docs_state_is_the_codes():
    claim = 'more than %d seconds' % tablespaces._LOCK_WAIT
    assert claim in module_text()
    with open(os.path.join(ROOT, 'docs', 'benchmarks.md')) as handle:
        assert claim in handle.read()


def test_the_tables_named_as_logical_are_those_the_split_sends_there():
    """Each reason split() gives has its words in the module's description (engine, sequence, partitioned,
    system-versioned, FULLTEXT, names) and in docs/security.md the name rule."""
    text = module_text()
    for words in ('other engines', 'sequences', 'partitioned', 'system-versioned', 'FULLTEXT', 'letters, digits and C(_)'):
        assert words in text, words
    with open(os.path.join(ROOT, 'docs', 'security.md')) as handle:
        assert '`[A-Za-z0-9_]`' in handle.read()
    assert tablespaces._NAME.pattern == r'^[A-Za-z0-9_]{1,64}$'
