# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's scheduled jobs, at the top of the host engine: they use the engine, nothing in it uses them.

The schedule (host/schedule.py) runs them as root through the entry scripts that host/runner.py
installs; each script puts host/trust.py's guard in place, and host/runner.py's ``run_job`` loads this
module and calls the job's entry point:

    <state_dir>/runner/wayscloud-backup  --state-dir DIR [--db-type T --db-name N]   backup_main
    <state_dir>/runner/wayscloud-collect --state-dir DIR [--retention-days N]        collect_main

The backup job takes a database's backup when a slot is due (backup_rules.py: UTC slots since the
policy was enabled, each taken once), then deletes its automated snapshots older than
``retention_days`` or beyond the host's cap of automated snapshots (host/snapshots.py SNAPSHOT_LIMITS;
manual ones stay). Without --db-name it does so for every enabled policy on the host (what the backup
role runs). Every run also sweeps the host's expired snapshots. One run at a time per database (a
lock; a second run lists it as busy and leaves it alone). WAYSCLOUD_NOW (ISO UTC) sets its clock.

The collector stores one metrics sample of every customer database of every engine it can log in to
(host/metrics.py says what a sample holds).

Every run is appended to ``<state_dir>/logs/<log>.log`` and printed as one JSON line.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import datetime
import json
import os

from ansible_collections.wayscloud.databases.plugins.module_utils import backup_rules
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.metrics import collect
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import (
    BACKUP_JOB, COLLECT_JOB, JOB_LOGS, append_log, logins)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import sweep_expired
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import format_time, parse_time, utc_now


def failure_text(exc):
    """What a job logs of an error: our own messages as they are, anything unexpected with its type."""
    return str(exc) if isinstance(exc, WaysCloudError) else repr(exc)


# ---------------------------------------------------------------- backups
def backup_main(argv, run, say):
    """The backup job: ``say`` prints a line; exit status 1 when any database failed."""
    parser = argparse.ArgumentParser(prog=BACKUP_JOB, description='Take due backups and prune old ones.')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--db-type')
    parser.add_argument('--db-name')
    args = parser.parse_args(argv)
    now = os.environ.get('WAYSCLOUD_NOW')
    now = parse_time(now) if now else datetime.datetime.now(backup_rules.UTC).replace(microsecond=0)
    try:
        summary = run_due(args.state_dir, run, now, args.db_type, args.db_name)
    except (BackendError, OSError, ValueError, KeyError) as exc:
        summary = dict(at=format_time(now), taken=[], pruned=[], failed=[dict(error=str(exc))], busy=[], expired=[])
    say(append_log(args.state_dir, JOB_LOGS[BACKUP_JOB], summary))
    return 1 if summary['failed'] else 0


def run_due(state_dir, run, now, db_type=None, db_name=None):
    """Take due backups and prune, for one database or every enabled policy; returns the summary."""
    catalog = Catalog(state_dir)
    policies = [p for p in catalog.backup_policies()
                if p['enabled'] and (db_name is None or (p['db_type'], p['db_name']) == (db_type, db_name))]
    expired = sweep_expired(catalog, format_time(now))
    catalog.close()
    known = logins(state_dir)
    summary = dict(at=format_time(now), taken=[], pruned=[], failed=[], busy=[], checked=len(policies),
                   expired=expired)
    for policy in policies:
        backend = HostDatabases(policy['db_type'], known[policy['db_type']], state_dir, run=run)
        # One run per database at a time: every database's own timer may fire at the same minute.
        with backend.catalog.lock('backup', '%s-%s' % (policy['db_type'], policy['db_name']), wait=False) as held:
            if held:
                _back_up(backend, policy, now, summary)
            else:
                summary['busy'].append(dict(db_type=policy['db_type'], db_name=policy['db_name']))
        backend.close()
    return summary


def _back_up(backend, policy, now, summary):
    """One policy's due backup and pruning, into ``summary``; an error is recorded there, not raised."""
    try:
        snapshots = backend.snapshots()
        last_slot = parse_time(policy['last_slot']) if policy['last_slot'] else None
        due = backup_rules.is_due(policy, parse_time(policy['enabled_at']), last_slot, now)
        if due and backend.get(policy['db_name']) is not None:
            snapshot = snapshots.create_automated(policy['db_name'], 'Automated %s backup' % policy['frequency'])
            backend.catalog.set_last_slot(policy['db_type'], policy['db_name'],
                                          format_time(backup_rules.latest_slot(policy, now)))
            taken = dict(db_type=policy['db_type'], db_name=policy['db_name'], snapshot_id=snapshot['snapshot_id'],
                         size_mb=snapshot['size_mb'])
            if backend.warnings:  # what a task would warn of (tables a MariaDB snapshot dumped as SQL, say)
                taken['warnings'] = list(backend.warnings)
            summary['taken'].append(taken)
        cutoff = format_time(now - datetime.timedelta(days=policy['retention_days']))
        for snapshot_id in snapshots.prune(policy['db_name'], cutoff):
            summary['pruned'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'],
                                          snapshot_id=snapshot_id))
    except Exception as exc:  # one database's failure must not cost the others their backups
        summary['failed'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'], error=failure_text(exc)))


# ---------------------------------------------------------------- metrics
def collect_main(argv, run, say):
    """The collector: one metrics sample of every customer database of every engine it can log in to."""
    parser = argparse.ArgumentParser(prog=COLLECT_JOB, description='Store one metrics sample per database.')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--retention-days', type=int, default=7)
    args = parser.parse_args(argv)
    at = utc_now()
    catalog = Catalog(args.state_dir)
    with catalog.lock('collector', 'host', wait=False) as held:
        if not held:
            say(json.dumps(dict(at=at, busy=True)))
            return 0
        summary = dict(at=at, samples=0, failed=[])
        for db_type, login in sorted(logins(args.state_dir).items()):
            backend = HostDatabases(db_type, login, args.state_dir, run=run)
            try:
                summary['samples'] += collect([backend], args.retention_days)
            except Exception as exc:  # one engine's failure must not cost the other its sample
                summary['failed'].append(dict(db_type=db_type, error=failure_text(exc)))
            finally:
                backend.close()
        say(append_log(args.state_dir, JOB_LOGS[COLLECT_JOB], summary))
        return 1 if summary['failed'] else 0


# The entry point of each job host/runner.py runs.
ENTRY_POINTS = {BACKUP_JOB: backup_main, COLLECT_JOB: collect_main}
