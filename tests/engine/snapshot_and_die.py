# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take a MariaDB snapshot and kill this process with SIGKILL at a chosen point.

    python snapshot_and_die.py DB_NAME STATE_DIR POINT   (login settings in the environment)

Points: ``copy`` while the tables are frozen and their files are being copied, ``compress`` once they are
copied and let go, while the copies are compressed.
"""

import os
import shutil
import signal
import sys

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'api_server'))
from commands import run  # noqa: E402


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(db_name, state_dir, point):
    login = ServerLogin(unix_socket=os.environ['WAYSCLOUD_MDB_SOCKET'], port=int(os.environ['WAYSCLOUD_MDB_PORT']),
                        public_host='127.0.0.1')

    def runner(argv, stdin=None, env=None):
        if point == 'compress' and argv[0] == 'zstd':
            die()
        return run(argv, stdin=stdin, env=env)
    if point == 'copy':
        shutil.copyfile = die
    HostDatabases('mariadb', login, state_dir, run=runner).snapshots().create(db_name)


if __name__ == '__main__':
    main(*sys.argv[1:])
