# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog.gone(): a catalog this process may not read (a 0700 state_dir of another user) counts as still there, so
a task run as another user (say postgres, which may write pg_hba.conf) never takes over the access of databases that
catalog holds. Read as an unprivileged user, a live catalog in a root 0700 folder."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import sqlite3
import subprocess

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.host import catalog

COLLECTIONS = catalog.__file__.split(os.sep + 'ansible_collections' + os.sep, maxsplit=1)[0]  # what PYTHONPATH points at


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('runuser'), reason='needs root to run as nobody')
def test_a_catalog_this_user_cannot_read_is_not_gone(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    state_dir = tmp_path / 'state'
    state_dir.mkdir(mode=0o700)
    conn = sqlite3.connect(str(state_dir / 'catalog.sqlite3'))
    conn.execute('CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)')
    conn.execute("INSERT INTO settings VALUES ('catalog_id', 'live')")
    conn.commit()
    conn.close()
    code = ('from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Owner, gone\n'
            'print(gone(Owner("live", %r)))' % str(state_dir))
    done = subprocess.run(['runuser', '-u', 'nobody', '--', 'env', 'PYTHONPATH=%s' % COLLECTIONS, '/usr/bin/python3',
                           '-c', code], capture_output=True, text=True, timeout=60, cwd='/', check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'False', 'a live catalog nobody may read counts as gone'
