# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotate a database's password and kill this process with SIGKILL at a chosen step.

    python rotate_and_die.py DB_TYPE DB_NAME STATE_DIR STEP     (login and Vault settings in the environment)

The steps that change something are counted in the order a rotation makes them: Vault journal
write, server password, session termination, Vault final write, catalog history. STEP k kills the
process right before the k-th of them (1-based); STEP 0 lets the rotation finish.
"""

import os
import signal
import sys

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore


def main(db_type, db_name, state_dir, step):
    env = os.environ
    socket, port = (('WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT') if db_type == 'postgresql'
                    else ('WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT'))
    login = ServerLogin(unix_socket=env[socket], port=int(env[port]), public_host='127.0.0.1')
    vault = VaultStore(env['WAYSCLOUD_VAULT_ADDR'], env['WAYSCLOUD_VAULT_TOKEN'], prefix='engtest')
    databases = HostDatabases(db_type, login, state_dir, vault=vault)
    done = [0]

    def counted(obj, name):
        original = getattr(obj, name)

        def wrapper(*args, **kwargs):
            done[0] += 1
            if done[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        setattr(obj, name, wrapper)

    counted(vault, 'write')
    counted(databases.driver, 'set_password')
    counted(databases.driver, 'terminate_user_sessions')
    counted(databases.catalog, 'record_event')
    credentials, password = databases.credentials().rotate(db_name)
    print(credentials['database'])


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
