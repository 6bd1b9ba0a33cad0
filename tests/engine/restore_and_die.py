# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a snapshot in place and kill this process with SIGKILL at a chosen point.

    python restore_and_die.py DB_TYPE DB_NAME STATE_DIR SNAPSHOT_ID POINT   (login settings in the environment)

Points, in the order a restore reaches them: 1 before the scratch database is made, 2 while the
restore tool runs (the tool is left running, orphaned), 3 before the swap is prepared, 4 right before
the swap, 5 right after the swap (before the old contents are dropped), 6 in the middle of finishing,
7 (MariaDB tablespaces) once the files are placed in the scratch schema, before they are imported.
POINT 0 lets the restore finish.
"""

import os
import signal
import subprocess
import sys
import time

from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'api_server'))
from commands import run  # noqa: E402


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def main(db_type, db_name, state_dir, snapshot_id, point):
    env = os.environ
    socket, port = (('WAYSCLOUD_PG_SOCKET_DIR', 'WAYSCLOUD_PG_PORT') if db_type == 'postgresql'
                    else ('WAYSCLOUD_MDB_SOCKET', 'WAYSCLOUD_MDB_PORT'))
    login = ServerLogin(unix_socket=env[socket], port=int(env[port]), public_host='127.0.0.1')

    def runner(argv, stdin=None, env=None):
        if point == 2 and any('restore' in part or 'load' in part for part in argv[:4]):
            subprocess.Popen(argv, env=dict(os.environ, **(env or {})), start_new_session=True)
            time.sleep(0.3)
            die()
        output = run(argv, stdin=stdin, env=env)
        if point == 7 and argv[0] == 'zstd' and '-d' in argv:
            die()
        return output

    databases = HostDatabases(db_type, login, state_dir, run=runner)
    snapshots = databases.snapshots()
    engine = snapshots.engine

    def before(name, at):
        original = getattr(engine, name)

        def wrapper(*args, **kwargs):
            if point == at:
                die()
            result = original(*args, **kwargs)
            if point == at + 1 and name == 'swap':
                die()
            return result
        setattr(engine, name, wrapper)

    before('restore_into', 1)
    before('prepare', 3)
    before('swap', 4)
    if point == 6:
        original_execute = databases.driver.execute
        state = {'finishing': False}

        def execute(query, params=None, log=True, conn=None):
            text = query if isinstance(query, str) else query.as_string(databases.driver.conn)
            if state['finishing'] and text.startswith('DROP'):
                die()
            return original_execute(query, params, log, conn)
        original_finish = engine.finish

        def finish(*args):
            state['finishing'] = True
            return original_finish(*args)
        databases.driver.execute = execute
        engine.finish = finish
    print(snapshots.restore(db_name, snapshot_id))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
