# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wayscloud.databases.plugins.module_utils.host.metrics import result


def sample(timestamp, queries, ticks, **extra):
    fields = dict(db_name='cust_a_pg_x', timestamp=timestamp, measured_at='2026-11-27T02:00:00Z',
                  storage_bytes=2 * 1024 ** 3, backup_bytes=1024 ** 3 // 2, active_connections=3, max_connections=50,
                  total_queries=queries, cache_hits=990, cache_misses=10, cpu_ticks=ticks, memory_percent=1.5, cpus=2)
    fields.update(extra)
    return fields


def test_rates_come_from_the_two_newest_samples():
    ticks = os.sysconf('SC_CLK_TCK')
    metrics = result(sample(1300.0, 4000, 10 * ticks + 60 * ticks), sample(1000.0, 1000, 10 * ticks))
    assert metrics['queries_per_sec'] == 10.0
    assert metrics['cpu_percent'] == 10.0  # 60 s of CPU over 300 s on 2 processors
    assert metrics['storage_gb'] == 2.0 and metrics['backup_gb'] == 0.5
    assert metrics['cache_hit_ratio'] == 99.0
    assert metrics['database_id'] == 'cust_a_pg_x' and metrics['measured_at'] == '2026-11-27T02:00:00Z'


def test_one_reading_has_no_rates_and_counters_that_restarted_give_zero():
    assert result(sample(1000.0, 10, 5), None)['queries_per_sec'] is None
    assert result(sample(1000.0, 10, 5), None)['cpu_percent'] is None
    assert result(sample(1300.0, 10, 5), sample(1000.0, 900, 50))['queries_per_sec'] == 0
    assert result(sample(1000.0, None, None, cache_hits=None, cache_misses=None), None)['cache_hit_ratio'] is None
