# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot and restore time of the host engine against the raw tools with the same settings, and against
the community modules run the way a user would.

    bench/run.sh --only snapshots [--scale 70] [--repeat 3]
    bench/snapshots.py --scale 10 --repeat 3 [--engines postgresql,mariadb] [--pg-schemas shop,pgbench]
                       [--jobs 1,2] [--parts raw,community] --work DIR --ours PATH --community PATH

(the wrapper starts throwaway servers with fsync on and runs this with their settings). Each
measurement alternates ours and theirs, ``--repeat`` times; the table shows medians and ours/theirs.

- PostgreSQL: a shop's database (bench/shop_schema.py: five tables of different sizes, secondary
  indexes, foreign keys) and a pgbench database (one big table), each about 15 MB per unit of
  ``--scale`` (70 is about 1 GB).
- MariaDB: an accounts table shaped like pgbench's (``--scale`` x 100,000 rows, about the same size) and a
  history table with a secondary index (``--scale`` x 20,000 rows); the snapshot row notes how long writers
  of the tables copied as InnoDB files waited (the snapshot's ``tables_locked_seconds``).
- raw: the engine's snapshot and in-place restore, called in-process, against the tools with the
  same settings. PostgreSQL ``pg_dump -Fd -Z1 -jN`` and ``createdb`` + ``pg_restore -jN`` into a new
  database; MariaDB ``mariadb-dump --single-transaction ... | zstd -1 -T0`` and ``zstd -dc | mariadb``.
  Ours adds what makes a snapshot safe (SHA-256 of every file, fsync, catalog) and a restore safe
  (checking every file, a scratch database loaded by a login without rights, the swap, dropping the
  old contents).
- community: whole ``ansible-playbook`` runs. Ours: ``wayscloud_database_snapshot`` state=present,
  then state=restored (in place, force). Theirs: community.postgresql ``postgresql_db`` state=dump,
  and state=absent, state=present, state=restore (drop, create, restore); community.mysql
  ``mysql_db`` state=dump (single_transaction), and state=absent, present, import; each with a
  plain ``.sql`` and a ``.sql.gz`` file.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import shop_schema
from ansible_runs import Playbooks
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
COMMUNITY_COPY = 'bench_community'  # the database the community modules drop, create and restore
RESTORE_AIM = 0.7  # PostgreSQL in place against community.postgresql, on a database of several tables


def shell(script, *args):
    subprocess.run(['bash', '-c', 'set -o pipefail; ' + script, 'bench'] + [str(arg) for arg in args], check=True)


class PostgreSQLSide:
    module = 'community.postgresql.postgresql_db'

    def __init__(self, env, schema='shop'):
        self.socket, self.port, self.schema = env['WAYSCLOUD_PG_SOCKET_DIR'], env['WAYSCLOUD_PG_PORT'], schema
        self.bin = '/usr/lib/postgresql/15/bin'
        self.conn = ['-h', self.socket, '-p', self.port, '-U', 'postgres']
        self.login = ServerLogin(unix_socket=self.socket, port=int(self.port), public_host='127.0.0.1')
        self.community_login = dict(login_unix_socket=self.socket, port=int(self.port), login_user='postgres')

    def fill(self, db_name, scale):
        if self.schema == 'pgbench':
            subprocess.run([os.path.join(self.bin, 'pgbench'), '-i', '-q', '-s', str(scale)] + self.conn + [db_name],
                           check=True, capture_output=True)
            return
        subprocess.run([os.path.join(self.bin, 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db_name] + self.conn,
                       input=';\n'.join(shop_schema.statements(scale)) + ';\n', text=True, check=True, capture_output=True)

    def raw_dump(self, db_name, folder, jobs):
        subprocess.run([os.path.join(self.bin, 'pg_dump'), '--format=directory', '--compress=1', '--jobs=%d' % jobs,
                        '--file=%s' % os.path.join(folder, 'data')] + self.conn + [db_name], check=True)

    def raw_restore(self, folder, new_name, jobs):
        subprocess.run([os.path.join(self.bin, 'createdb'), '-T', 'template0'] + self.conn + [new_name], check=True)
        subprocess.run([os.path.join(self.bin, 'pg_restore'), '--exit-on-error', '--jobs=%d' % jobs,
                        '--dbname=%s' % new_name] + self.conn + [os.path.join(folder, 'data')], check=True)

    def community_restore(self, target):
        """Drop, create, restore: what a user of postgresql_db runs to restore in place."""
        return [dict(state='absent'), dict(state='present'), dict(state='restore', target=target)]

    def settle(self):
        """Write out what the last step left dirty, so that no step pays for another's pages."""
        subprocess.run([os.path.join(self.bin, 'psql'), '-X', '-q', '-d', 'postgres', '-c', 'CHECKPOINT'] + self.conn,
                       check=True)

    def drop(self, name):
        subprocess.run([os.path.join(self.bin, 'dropdb'), '--if-exists', '--force'] + self.conn + [name], check=True)


class MariaDBSide:
    module = 'community.mysql.mysql_db'
    schema = 'accounts, history'

    def __init__(self, env, schema=None):
        self.socket = env['WAYSCLOUD_MDB_SOCKET']
        self.conn = ['--user=root', '--socket=%s' % self.socket]
        self.login = ServerLogin(unix_socket=self.socket, port=int(env['WAYSCLOUD_MDB_PORT']), public_host='127.0.0.1')
        self.community_login = dict(login_unix_socket=self.socket, login_user='root')

    def sql(self, db_name, statement):
        subprocess.run(['mariadb'] + self.conn + ['--database=%s' % db_name, '-e', statement], check=True,
                       capture_output=True)

    def fill(self, db_name, scale):
        self.sql(db_name, 'CREATE TABLE accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL,'
                          ' filler char(84)) ENGINE=InnoDB')
        for start in range(0, scale * 100000, 1000000):
            self.sql(db_name, 'INSERT INTO accounts SELECT seq, seq DIV 100000 + 1, 0, REPEAT(" ", 84)'
                              ' FROM seq_%d_to_%d' % (start + 1, min(start + 1000000, scale * 100000)))
        self.sql(db_name, 'CREATE TABLE history (hid int PRIMARY KEY, aid int NOT NULL, delta int NOT NULL,'
                          ' mtime datetime NOT NULL, filler char(22), KEY history_aid (aid)) ENGINE=InnoDB')
        for start in range(0, scale * 20000, 1000000):
            self.sql(db_name, 'INSERT INTO history SELECT seq, seq * 7 MOD %d + 1, CAST(seq MOD 1000 AS SIGNED) - 500,'
                              ' NOW() - INTERVAL seq SECOND, REPEAT(" ", 22) FROM seq_%d_to_%d'
                              % (scale * 100000, start + 1, min(start + 1000000, scale * 20000)))
        self.sql(db_name, 'ANALYZE TABLE accounts, history')  # fresh statistics, so the size column is right

    def raw_dump(self, db_name, folder, jobs):
        shell('"$1" "${@:3}" | zstd -q -1 -T0 -f -o "$2"', 'mariadb-dump', os.path.join(folder, 'dump.sql.zst'),
              *(self.conn + DUMP_OPTIONS + [db_name]))

    def raw_restore(self, folder, new_name, jobs):
        subprocess.run(['mariadb'] + self.conn + ['-e', 'CREATE DATABASE `%s`' % new_name], check=True)
        shell('zstd -q -dc "$1" | mariadb "${@:2}"', os.path.join(folder, 'dump.sql.zst'),
              *(self.conn + ['--database=%s' % new_name]))

    def community_restore(self, target):
        """Drop, create, import: what a user of mysql_db runs to restore in place."""
        return [dict(state='absent'), dict(state='present'), dict(state='import', target=target)]

    def settle(self):
        """InnoDB flushes in the background whatever the last step did; nothing to wait for."""

    def drop(self, name):
        subprocess.run(['mariadb'] + self.conn + ['-e', 'DROP DATABASE IF EXISTS `%s`' % name], check=True)


SIDES = {'postgresql': PostgreSQLSide, 'mariadb': MariaDBSide}


def measure_raw(db_type, side, databases, db_name, repeat, jobs_list, work):
    """Rows of the engine in-process against the raw tools, per jobs."""
    snapshots = databases.snapshots()
    rows = []
    for jobs in jobs_list:
        ours_dump, theirs_dump, ours_restore, theirs_restore, locked = [], [], [], [], []
        for dummy in range(repeat):
            raw_folder = tempfile.mkdtemp(dir=work)
            side.settle()
            theirs_dump.append(timed(side.raw_dump, db_name, raw_folder, jobs))
            start = time.monotonic()
            snapshot_id = snapshots.create(db_name, jobs=jobs)['snapshot_id']
            ours_dump.append(time.monotonic() - start)
            locked.append(json.loads(databases.catalog.snapshot(snapshot_id)['properties']).get('tables_locked_seconds'))
            side.settle()
            theirs_restore.append(timed(side.raw_restore, raw_folder, 'bench_raw_copy', jobs))
            side.drop('bench_raw_copy')
            side.settle()
            ours_restore.append(timed(snapshots.restore, db_name, snapshot_id, jobs=jobs))
            snapshots.delete(db_name, snapshot_id)
            shutil.rmtree(raw_folder)
        label = '' if db_type == 'mariadb' else ' -j%d' % jobs
        waited = [seconds for seconds in locked if seconds is not None]
        rows.append(('%s snapshot%s' % (db_type, label), ours_dump, theirs_dump, RAW['snapshot'][db_type],
                     'writers waited %.2f s' % statistics.median(waited) if waited else ''))
        rows.append(('%s restore%s' % (db_type, label), ours_restore, theirs_restore, RAW['restore'][db_type], ''))
    return rows


def measure_community(db_type, side, books, state_dir, db_name, repeat, work):
    """Rows of whole playbook runs: our snapshot module against the community module's dump and restore."""
    ours_defaults = dict(backend='host', state_dir=state_dir, firewall_driver='none', public_host='127.0.0.1',
                         login_unix_socket=side.login.unix_socket, login_port=side.login.port)
    samples = dict((key, []) for key in ('ours snapshot', 'ours restore', '.sql dump', '.sql restore',
                                         '.sql.gz dump', '.sql.gz restore'))
    sizes = {}

    def ours(step, number):
        options = dict(db_type=db_type, name=db_name, label='bench%d' % number)
        options.update(dict(state='restored', force=True) if step == 'restore' else {})
        task = {'name': 'Snapshot', 'wayscloud.databases.wayscloud_database_snapshot': options}
        return books.run('ours-%s' % step, books.play('wayscloud %s' % step, [task], defaults=ours_defaults), books.ours)

    def theirs(step, suffix, number):
        target = os.path.join(work, 'community-%d%s' % (number, suffix))
        if step == 'dump':
            steps = [dict(name=db_name, state='dump', target=target)]
            if db_type == 'mariadb':
                steps[0]['single_transaction'] = True
        else:
            steps = [dict(options, name=COMMUNITY_COPY) for options in side.community_restore(target)]
        tasks = [{'name': 'Step %d' % index, side.module: dict(options, **side.community_login)}
                 for index, options in enumerate(steps)]
        done = books.run('community-%s' % step, books.play('community %s' % step, tasks), books.community)
        sizes[suffix] = os.path.getsize(target) / 1048576.0
        return done

    for number in range(repeat):
        for step in ('dump', 'restore'):
            order = ['ours', '.sql', '.sql.gz']
            for kind in (order if number % 2 == 0 else order[::-1]):
                side.settle()
                seconds, changed, failed = ours(step, number) if kind == 'ours' else theirs(step, kind, number)
                if failed:
                    raise RuntimeError('%s %s failed:\n%s' % (kind, step, '\n'.join(books.failures)[:5000]))
                samples['ours snapshot' if kind == 'ours' and step == 'dump' else 'ours restore' if kind == 'ours'
                        else '%s %s' % (kind, step)].append(seconds)
        for suffix in ('.sql', '.sql.gz'):
            os.remove(os.path.join(work, 'community-%d%s' % (number, suffix)))
    side.drop(COMMUNITY_COPY)
    folder = os.path.join(state_dir, 'snapshots', db_type, db_name)
    ours_mb = statistics.median(folder_bytes(os.path.join(folder, snapshot)) for snapshot in os.listdir(folder)) / 1048576.0
    name = 'community.postgresql postgresql_db' if db_type == 'postgresql' else 'community.mysql mysql_db'
    rows = []
    for suffix in ('.sql', '.sql.gz'):
        rows.append(('%s snapshot, playbook' % db_type, samples['ours snapshot'], samples['%s dump' % suffix],
                     '%s dump %s' % (name, suffix), 'files: ours %.1f MB, theirs %.1f MB' % (ours_mb, sizes[suffix])))
    for suffix in ('.sql', '.sql.gz'):
        rows.append(('%s restore in place, playbook' % db_type, samples['ours restore'], samples['%s restore' % suffix],
                     '%s drop, create, %s %s' % (name, 'restore' if db_type == 'postgresql' else 'import', suffix), ''))
    return rows


def folder_bytes(folder):
    return sum(os.path.getsize(os.path.join(root, name)) for root, dummy, names in os.walk(folder) for name in names)


def measure(db_type, schema, env, scale, repeat, jobs_list, parts, books):
    side = SIDES[db_type](env, schema)
    work = books.work
    state_dir = os.path.join(work, 'state-%s-%s' % (db_type, schema))
    databases = HostDatabases(db_type, side.login, state_dir, run=run)
    db_name = databases.create('bench', 'big')[0]['db_name']
    try:
        side.fill(db_name, scale)
        size_mb = databases.driver.size_bytes(db_name) / 1048576.0
        rows = []
        if 'raw' in parts:
            rows += measure_raw(db_type, side, databases, db_name, repeat, jobs_list, work)
        if 'community' in parts:
            rows += measure_community(db_type, side, books, state_dir, db_name, repeat, work)
        return size_mb, rows
    finally:
        databases.delete(db_name)
        databases.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scale', type=int, default=70)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--engines', default='postgresql,mariadb')
    parser.add_argument('--pg-schemas', default='shop,pgbench', help='PostgreSQL databases to measure: shop, pgbench')
    parser.add_argument('--jobs', default='1,2', help='PostgreSQL parallel jobs to measure (comma-separated)')
    parser.add_argument('--parts', default='raw,community', help='raw (the tools), community (the modules)')
    parser.add_argument('--work', default=tempfile.gettempdir())
    parser.add_argument('--ours', required=True, help='collections path holding wayscloud.databases')
    parser.add_argument('--community', required=True, help='collections path of the PyPI package ansible')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='wayscloud-bench-', dir=args.work)
    books = Playbooks(os.environ, work, args.ours, args.community)
    parts = args.parts.split(',')
    try:
        for db_type in args.engines.split(','):
            jobs_list = [int(jobs) for jobs in args.jobs.split(',')] if db_type == 'postgresql' else [1]
            for schema in (args.pg_schemas.split(',') if db_type == 'postgresql' else [MariaDBSide.schema]):
                size_mb, rows = measure(db_type, schema, os.environ, args.scale, args.repeat, jobs_list, parts, books)
                baseline = {}
                for name, ours, theirs, theirs_name, note in rows:
                    kind = name.split(' -j')[0]
                    baseline.setdefault(kind, theirs)
                    if baseline[kind] is not theirs and ' -j' in name:
                        note = 'vs raw -j1: %.2f' % (statistics.median(ours) / statistics.median(baseline[kind]))
                    if db_type == 'postgresql' and schema != 'pgbench' and name.endswith('restore in place, playbook'):
                        met = statistics.median(ours) <= RESTORE_AIM * statistics.median(theirs)
                        note = 'aim: <= %.2f (%s)' % (RESTORE_AIM, 'met' if met else 'not met')
                    row('%s (%s, %.0f MB)' % (name, schema, size_mb), ours, theirs, theirs_name=theirs_name, note=note)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
