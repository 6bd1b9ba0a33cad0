# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What docs/security.md says of the pg_hba block's accepted line and of the files checked on every write is what
postgresql/database.py writes and looks for."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.wayscloud.databases.plugins.module_utils.host.postgresql import database
from ansible_collections.wayscloud.databases.tests.docs.test_examples import ROOT


def security():
    with open(os.path.join(ROOT, 'docs', 'security.md')) as handle:
        return ' '.join(handle.read().split())


def test_the_accepted_line_the_docs_show_is_the_one_written():
    shown = re.search(r'`(%s[^`]*)`' % re.escape(database.ACCEPTED.strip()), security()).group(1)
    pattern = re.escape(shown).replace(re.escape('<version>'), '[0-9]+').replace(re.escape('<on|off>'), '(on|off)')
    pattern = pattern.replace(re.escape('<digest>'), '[0-9a-f]{64}')
    for server in ('150018 ssl=off', '160004 ssl=on'):
        assert re.fullmatch(pattern, database.accepted_line('host all all all reject\n', server)), (pattern, server)


def test_the_files_the_docs_say_are_checked_on_every_write_are():
    text = security()
    for shown, line in (('`include`', 'include other.conf'), ('`include_dir`', 'include_dir conf.d'),
                        ('`@file`', 'host all @admins 10.0.0.0/8 scram-sha-256'),
                        ('continues a line with `\\`', 'host all all 10.0.0.0/8 \\')):
        assert shown in text, shown
        assert database.open_ended('local all postgres peer\n%s\nscram-sha-256\n' % line), line
