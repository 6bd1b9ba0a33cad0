# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine tests run the host engine's functions against the real servers scripts/servers.sh started."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'api_server'))
from commands import run  # noqa: E402  (the API server's runner: the engine tests run the engine as it does)

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.tests.environment import setting


@pytest.fixture
def logins():
    return {
        'postgresql': ServerLogin(unix_socket=setting('WAYSCLOUD_PG_SOCKET_DIR'), port=int(setting('WAYSCLOUD_PG_PORT')),
                                  public_host='127.0.0.1'),
        'mariadb': ServerLogin(unix_socket=setting('WAYSCLOUD_MDB_SOCKET'), port=int(setting('WAYSCLOUD_MDB_PORT')),
                               public_host='127.0.0.1'),
    }


@pytest.fixture(params=['postgresql', 'mariadb'])
def engine(request, logins, tmp_path):
    """(HostDatabases, state_dir) for each engine; databases it made are dropped afterwards."""
    state_dir = str(tmp_path / 'state')
    databases = HostDatabases(request.param, logins[request.param], state_dir, run=run)
    made = []
    databases.made = made
    yield databases, state_dir
    for db_name in made:
        databases.delete(db_name)
    databases.close()
