# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Metrics of a database on its host: readings of counters, samples in the catalog, and the contract's fields.

A reading holds raw counters; the collector (host/jobs.py, every 5 minutes) stores one per
database in the catalog and drops old ones. ``metrics`` answers from the newest two samples
(rates need two), or from a live reading when there is none (then the rates are null).

Where each field comes from (P: per database, S: per server):
- storage_gb (P): PostgreSQL pg_database_size(); MariaDB the schema's files in the data directory
  when readable here, else DATA_LENGTH + INDEX_LENGTH of information_schema.TABLES.
- backup_gb (P): the size of the database's snapshots under state_dir, from the catalog.
- active_connections (P): client sessions on the database (pg_stat_activity / PROCESSLIST).
- max_connections (P if the database has a connection limit, else S): that limit, else the
  server's max_connections.
- total_queries: PostgreSQL (P) transactions committed and rolled back (pg_stat_database; each
  statement outside a transaction block is one); MariaDB (S) the server's Questions counter
  (MariaDB counts statements per database only with performance_schema or userstat, both off by default).
- queries_per_sec: the difference of total_queries between the two newest samples, per second.
- cache_hit_ratio (%): PostgreSQL (P) blks_hit / (blks_hit + blks_read); MariaDB (S) InnoDB buffer
  pool read requests not served from disk.
- cpu_percent (S): CPU time of the server's processes between the two newest samples, as a share
  of the wall time of all processors (from /proc; the server must run on this host). Backends that
  ended between the samples are not counted.
- memory_percent (S): proportional set size (Pss) of the server's processes over MemTotal.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import time

from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import format_time

GIB = 1024.0 ** 3


def _proc_stat(pid):
    """(parent pid, utime + stime ticks) of a process, or None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (IOError, OSError, IndexError):
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _pss_bytes(pid):
    for name in ('smaps_rollup', 'status'):
        try:
            with open('/proc/%d/%s' % (pid, name)) as handle:
                for line in handle:
                    if line.startswith('Pss:' if name == 'smaps_rollup' else 'VmRSS:'):
                        return int(line.split()[1]) * 1024
        except (IOError, OSError):
            continue
    return 0


def process_tree(pid):
    """``pid`` and its children (PostgreSQL backends are children of the postmaster)."""
    tree = [pid]
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat and stat[0] == pid:
                tree.append(int(entry))
    return tree


def server_usage(pid):
    """(CPU ticks, memory share in %) of the server process tree, or (None, None) when it is not here."""
    if pid is None or _proc_stat(pid) is None:
        return None, None
    ticks, pss = 0, 0
    for member in process_tree(pid):
        stat = _proc_stat(member)
        if stat:
            ticks += stat[1]
            pss += _pss_bytes(member)
    total = 0
    with open('/proc/meminfo') as handle:
        for line in handle:
            if line.startswith('MemTotal:'):
                total = int(line.split()[1]) * 1024
    return ticks, round(100.0 * pss / total, 2) if total else None


def read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.readline().strip())
    except (IOError, OSError, ValueError):
        return None


class HostMetrics:
    def __init__(self, backend):
        self.driver = backend.driver
        self.catalog = backend.catalog
        self.db_type = backend.db_type

    def reading(self, db_name, server=None):
        """Raw counters of one database now; ``server`` (counters of the whole server) is read once per run."""
        server = server or self.server_reading()
        counters = self.driver.metric_counters(db_name)
        backup = sum(row['size_bytes'] for row in self.catalog.snapshots(self.db_type, db_name))
        limit = self.driver.read_database(db_name)['connection_limit']
        reading = dict(db_type=self.db_type, db_name=db_name, measured_at=server['measured_at'],
                       timestamp=server['timestamp'], backup_bytes=backup,
                       active_connections=self.driver.count_sessions(db_name),
                       max_connections=limit or server['max_connections'], cpu_ticks=server['cpu_ticks'],
                       memory_percent=server['memory_percent'], cpus=server['cpus'])
        reading.update(counters)
        for field in ('total_queries', 'cache_hits', 'cache_misses'):
            if reading.get(field) is None:
                reading[field] = server.get(field)
        return reading

    def server_reading(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        ticks, memory = server_usage(read_pid(self.driver.pid_file()))
        server = dict(measured_at=format_time(now), timestamp=time.time(), cpu_ticks=ticks,
                      memory_percent=memory, cpus=os.cpu_count() or 1)
        server.update(self.driver.server_counters())
        return server

    def metrics(self, db_name):
        """The contract's fields from the newest samples, else from a live reading."""
        samples = self.catalog.samples(self.db_type, db_name, limit=2)
        newest = samples[0] if samples else self.reading(db_name)
        previous = samples[1] if len(samples) > 1 else None
        return result(newest, previous)


def result(newest, previous):
    hits, misses = newest.get('cache_hits'), newest.get('cache_misses')
    qps = cpu = None
    if previous is not None:
        elapsed = newest['timestamp'] - previous['timestamp']
        if elapsed > 0:
            if newest['total_queries'] is not None and previous['total_queries'] is not None:
                qps = round(max(0, newest['total_queries'] - previous['total_queries']) / elapsed, 3)
            if newest['cpu_ticks'] is not None and previous['cpu_ticks'] is not None:
                ticks = max(0, newest['cpu_ticks'] - previous['cpu_ticks'])
                cpus = newest.get('cpus') or os.cpu_count() or 1
                cpu = round(100.0 * ticks / os.sysconf('SC_CLK_TCK') / elapsed / cpus, 2)
    return dict(database_id=newest['db_name'], storage_gb=round(newest['storage_bytes'] / GIB, 6),
                backup_gb=round(newest['backup_bytes'] / GIB, 6), active_connections=newest['active_connections'],
                max_connections=newest['max_connections'], total_queries=newest['total_queries'],
                queries_per_sec=qps,
                cache_hit_ratio=round(100.0 * hits / (hits + misses), 2) if hits is not None and hits + misses else None,
                cpu_percent=cpu, memory_percent=newest['memory_percent'], measured_at=newest['measured_at'])


def collect(backends, retention_days=7):
    """One sample of every customer database of each engine, stored; returns how many."""
    count = 0
    for backend in backends:
        metrics = HostMetrics(backend)
        server = metrics.server_reading()
        samples = [metrics.reading(item['db_name'], server) for item in backend.list()]
        keep_after = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=retention_days))
        backend.catalog.save_samples(samples, format_time(keep_after))
        count += len(samples)
    return count
