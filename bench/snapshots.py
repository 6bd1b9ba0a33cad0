# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot and restore time of the host engine against the raw tools with the same settings.

    bench/run.sh --only snapshots [--scale 70] [--repeat 3]

(the wrapper starts throwaway servers with fsync on and runs this with their settings). Each
measurement alternates ours and theirs, ``--repeat`` times; the table shows medians and ours/theirs.

- PostgreSQL: a pgbench database of ``--scale`` (70 is about 1 GB). Theirs: ``pg_dump -Fd -Z1 -jN``
  and ``createdb`` + ``pg_restore -jN`` into a new database. Ours: the same tools plus what makes a
  snapshot safe (SHA-256 of every file, fsync, catalog) and a restore safe (checking every file,
  a scratch database, the swap, dropping the old contents).
- MariaDB: an accounts table shaped like pgbench's (``--scale`` x 100,000 rows, about the same size).
  Theirs: ``mariadb-dump --single-transaction ... | zstd -1 -T0`` and ``zstd -dc | mariadb``.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from table import row, timed

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'api_server'))

from commands import run  # noqa: E402
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases  # noqa: E402
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin  # noqa: E402

RAW = {'snapshot': {'postgresql': 'pg_dump', 'mariadb': 'mariadb-dump | zstd'},
       'restore': {'postgresql': 'createdb + pg_restore', 'mariadb': 'zstd -dc | mariadb'}}
DUMP_OPTIONS = ['--single-transaction', '--routines', '--triggers', '--events', '--hex-blob',
                '--default-character-set=utf8mb4', '--skip-dump-date']


def shell(script, *args):
    subprocess.run(['bash', '-c', 'set -o pipefail; ' + script, 'bench'] + [str(arg) for arg in args], check=True)


class PostgreSQLSide:
    def __init__(self, env):
        self.socket, self.port = env['WAYSCLOUD_PG_SOCKET_DIR'], env['WAYSCLOUD_PG_PORT']
        self.bin = '/usr/lib/postgresql/15/bin'
        self.conn = ['-h', self.socket, '-p', self.port, '-U', 'postgres']
        self.login = ServerLogin(unix_socket=self.socket, port=int(self.port), public_host='127.0.0.1')

    def fill(self, db_name, scale):
        subprocess.run([os.path.join(self.bin, 'pgbench'), '-i', '-q', '-s', str(scale)] + self.conn + [db_name],
                       check=True, capture_output=True)

    def raw_dump(self, db_name, folder, jobs):
        subprocess.run([os.path.join(self.bin, 'pg_dump'), '--format=directory', '--compress=1', '--jobs=%d' % jobs,
                        '--file=%s' % os.path.join(folder, 'data')] + self.conn + [db_name], check=True)

    def raw_restore(self, folder, new_name, jobs):
        subprocess.run([os.path.join(self.bin, 'createdb'), '-T', 'template0'] + self.conn + [new_name], check=True)
        subprocess.run([os.path.join(self.bin, 'pg_restore'), '--exit-on-error', '--jobs=%d' % jobs,
                        '--dbname=%s' % new_name] + self.conn + [os.path.join(folder, 'data')], check=True)

    def drop(self, name):
        subprocess.run([os.path.join(self.bin, 'dropdb'), '--if-exists', '--force'] + self.conn + [name], check=True)


class MariaDBSide:
    def __init__(self, env):
        self.socket = env['WAYSCLOUD_MDB_SOCKET']
        self.conn = ['--user=root', '--socket=%s' % self.socket]
        self.login = ServerLogin(unix_socket=self.socket, port=int(env['WAYSCLOUD_MDB_PORT']), public_host='127.0.0.1')

    def sql(self, db_name, statement):
        subprocess.run(['mariadb'] + self.conn + ['--database=%s' % db_name, '-e', statement], check=True,
                       capture_output=True)

    def fill(self, db_name, scale):
        self.sql(db_name, 'CREATE TABLE accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL,'
                          ' filler char(84)) ENGINE=InnoDB')
        for start in range(0, scale * 100000, 1000000):
            self.sql(db_name, 'INSERT INTO accounts SELECT seq, seq DIV 100000 + 1, 0, REPEAT(" ", 84)'
                              ' FROM seq_%d_to_%d' % (start + 1, min(start + 1000000, scale * 100000)))
        self.sql(db_name, 'ANALYZE TABLE accounts')  # fresh statistics, so the size column is right

    def raw_dump(self, db_name, folder, jobs):
        shell('"$1" "${@:3}" | zstd -q -1 -T0 -f -o "$2"', 'mariadb-dump', os.path.join(folder, 'dump.sql.zst'),
              *(self.conn + DUMP_OPTIONS + [db_name]))

    def raw_restore(self, folder, new_name, jobs):
        subprocess.run(['mariadb'] + self.conn + ['-e', 'CREATE DATABASE `%s`' % new_name], check=True)
        shell('zstd -q -dc "$1" | mariadb "${@:2}"', os.path.join(folder, 'dump.sql.zst'),
              *(self.conn + ['--database=%s' % new_name]))

    def drop(self, name):
        subprocess.run(['mariadb'] + self.conn + ['-e', 'DROP DATABASE IF EXISTS `%s`' % name], check=True)


SIDES = {'postgresql': PostgreSQLSide, 'mariadb': MariaDBSide}


def measure(db_type, env, scale, repeat, jobs_list, work):
    side = SIDES[db_type](env)
    state_dir = os.path.join(work, 'state-' + db_type)
    databases = HostDatabases(db_type, side.login, state_dir, run=run)
    db_name = databases.create('bench', 'big')[0]['db_name']
    try:
        side.fill(db_name, scale)
        size_mb = databases.driver.size_bytes(db_name) / 1048576.0
        snapshots = databases.snapshots()
        rows = []
        for jobs in jobs_list:
            ours_dump, theirs_dump, ours_restore, theirs_restore = [], [], [], []
            for dummy in range(repeat):
                raw_folder = tempfile.mkdtemp(dir=work)
                theirs_dump.append(timed(side.raw_dump, db_name, raw_folder, jobs))
                start = time.monotonic()
                snapshot_id = snapshots.create(db_name, jobs=jobs)['snapshot_id']
                ours_dump.append(time.monotonic() - start)
                theirs_restore.append(timed(side.raw_restore, raw_folder, 'bench_raw_copy', jobs))
                side.drop('bench_raw_copy')
                ours_restore.append(timed(snapshots.restore, db_name, snapshot_id, jobs=jobs))
                snapshots.delete(db_name, snapshot_id)
                shutil.rmtree(raw_folder)
            label = '' if db_type == 'mariadb' else ' -j%d' % jobs
            rows.append(('%s snapshot%s' % (db_type, label), ours_dump, theirs_dump))
            rows.append(('%s restore%s' % (db_type, label), ours_restore, theirs_restore))
        return size_mb, rows
    finally:
        databases.delete(db_name)
        databases.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scale', type=int, default=70)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--engines', default='postgresql,mariadb')
    parser.add_argument('--jobs', default='1,2', help='PostgreSQL parallel jobs to measure (comma-separated)')
    parser.add_argument('--work', default=tempfile.gettempdir())
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='wayscloud-bench-', dir=args.work)
    baseline = {}
    try:
        for db_type in args.engines.split(','):
            jobs_list = [int(jobs) for jobs in args.jobs.split(',')] if db_type == 'postgresql' else [1]
            size_mb, rows = measure(db_type, os.environ, args.scale, args.repeat, jobs_list, work)
            for name, ours, theirs in rows:
                kind = name.split(' -j')[0]
                baseline.setdefault(kind, theirs)
                note = '' if baseline[kind] is theirs else 'vs raw -j1: %.2f' % (statistics.median(ours) / statistics.median(baseline[kind]))
                row('%s (%.0f MB)' % (name, size_mb), ours, theirs, theirs_name=RAW[kind.split()[-1]][db_type], note=note)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
