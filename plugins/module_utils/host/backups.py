# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Automated backups on a host: the policy in the catalog, a schedule on the host, and the runner.

The runner is this collection's own snapshot engine, copied to ``<state_dir>/runner/lib`` when a
policy is enabled, with a small entry script ``<state_dir>/runner/wayscloud-backup`` (0700) that the
schedule (host/schedule.py) runs as root:

    <state_dir>/runner/wayscloud-backup --state-dir DIR [--db-type T --db-name N]

It takes the database's backup when a slot is due (backups.py: UTC slots since the policy was
enabled, each taken once), then deletes its automated snapshots older than ``retention_days`` (manual ones stay).
Without --db-name it does so for every enabled policy on the host (what the backup role runs). One
run at a time per host (a lock; a second run says so and does nothing); every action is appended to
``<state_dir>/logs/backups.log`` and printed as one JSON line. WAYSCLOUD_NOW (ISO UTC) sets the clock.
How it logs in is kept in ``<state_dir>/runner/login-<db_type>.json`` (0600).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import datetime
import fcntl
import importlib
import json
import os
import pkgutil
import sys

from ansible_collections.wayscloud.databases.plugins.module_utils import backups as rules
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, NotFound, WaysCloudError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import ensure_private_dir, utc_now
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule, write_if_changed

PACKAGE = 'ansible_collections.wayscloud.databases.plugins.module_utils'
SCHEDULE_SETTING = 'backup_schedule'
RUNNER_SCRIPT = '''#!%(python)s
# Written by wayscloud.databases (its host/backups.py explains it); edits are lost.
import os
import subprocess
import sys

sys.path.insert(0, %(lib)r)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backups import main
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import command_failed


def run(argv, stdin=None, env=None):
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False,
                          env=dict(os.environ, **(env or {})))
    if done.returncode != 0:
        raise command_failed(argv, done.returncode, done.stdout, done.stderr)
    return done.stdout


sys.exit(main(sys.argv[1:], run, print))
'''
LOGIN_FIELDS = ('host', 'port', 'user', 'password', 'unix_socket', 'public_host')


def runner_paths(state_dir):
    folder = os.path.join(state_dir, 'runner')
    return folder, os.path.join(folder, 'lib'), os.path.join(folder, 'wayscloud-backup')


def collection_sources():
    """{relative path: source} of this collection's module_utils, read from wherever they were imported
    (a module's zip payload, or an installed collection)."""
    package = importlib.import_module(PACKAGE)
    sources = {}
    for info in pkgutil.walk_packages(package.__path__, PACKAGE + '.'):
        source = importlib.import_module(info.name).__loader__.get_source(info.name)
        if source is not None:
            sources[info.name.replace('.', '/') + ('/__init__.py' if info.ispkg else '.py')] = source
    for name in (PACKAGE, PACKAGE.rsplit('.', 1)[0]):
        sources.setdefault(name.replace('.', '/') + '/__init__.py', '')
    return sources


class HostBackups:
    """``schedule``: a host/schedule.py Schedule; ``python``: the interpreter the runner uses."""

    def __init__(self, databases, schedule, python=None):
        self.databases = databases
        self.db_type = databases.db_type
        self.catalog = databases.catalog
        self.schedule = schedule
        self.python = python or sys.executable

    def get(self, db_name, now=None):
        """The contract's fields; a database without a policy has the default one, disabled."""
        if self.databases.get(db_name) is None:
            raise NotFound('%s database %s does not exist' % (self.databases.driver.label, db_name))
        row = self.catalog.backup_policy(self.db_type, db_name)
        return self._result(db_name, row, now)

    def _result(self, db_name, row, now=None):
        policy = dict((field, row[field]) for field in rules.POLICY_FIELDS) if row else dict(rules.DEFAULT_POLICY)
        last = self.databases.snapshots().last_automated(db_name)
        now = now or datetime.datetime.now(rules.UTC)
        return dict(policy, db_name=db_name, db_type=self.db_type, last_backup=last['created_at'] if last else None,
                    next_backup=rules.format_time(rules.next_slot(policy, now)) if policy['enabled'] else None)

    def command(self, db_name):
        return [runner_paths(self.catalog.state_dir)[2], '--state-dir', self.catalog.state_dir,
                '--db-type', self.db_type, '--db-name', db_name]

    def set(self, db_name, policy, check_mode=False):
        """Store the policy and make the host's schedule match it; returns (result, changed)."""
        policy = rules.check_policy(policy)
        with self.catalog.lock(self.db_type, db_name):
            if self.databases.get(db_name) is None:
                raise NotFound('%s database %s does not exist' % (self.databases.driver.label, db_name))
            row = self.catalog.backup_policy(self.db_type, db_name)
            current = dict((field, row[field]) for field in rules.POLICY_FIELDS) if row else None
            new_row = dict(policy, db_type=self.db_type, db_name=db_name, updated_at=utc_now(),
                           enabled_at=(row or {}).get('enabled_at'), last_slot=(row or {}).get('last_slot'))
            if policy['enabled'] and not (current or {}).get('enabled'):
                new_row['enabled_at'] = utc_now()
            changed = current != policy
            if policy['enabled']:
                changed = self._install(db_name, policy, check_mode) or changed
            elif self.schedule.installed(self.db_type, db_name):
                changed = True
                if not check_mode:
                    self.schedule.remove(self.db_type, db_name)
            if changed and current != policy and not check_mode:
                self.catalog.save_backup_policy(new_row)
        return self._result(db_name, new_row if changed else row or new_row), changed

    def _install(self, db_name, policy, check_mode):
        """The runner and the schedule; True if either was (or, in check mode, would be) written."""
        wanted = self.schedule.render(self.db_type, db_name, policy, self.command(db_name))
        changed = any(not _holds(path, text) for path, text in wanted.items())
        folder, lib, script = runner_paths(self.catalog.state_dir)
        files = dict((os.path.join(lib, path), source) for path, source in collection_sources().items())
        files[script] = RUNNER_SCRIPT % dict(python=self.python, lib=lib)
        login = self.databases.driver.login
        files[os.path.join(folder, 'login-%s.json' % self.db_type)] = json.dumps(
            dict((field, getattr(login, field)) for field in LOGIN_FIELDS), sort_keys=True)
        changed = changed or any(not _holds(path, text) for path, text in files.items())
        if check_mode or not changed:
            return changed
        ensure_private_dir(self.catalog.state_dir)
        for path, text in sorted(files.items()):
            for parent in _parents(os.path.dirname(path), self.catalog.state_dir):
                ensure_private_dir(parent)
            write_if_changed(path, text, mode=0o700 if path == script else 0o600)
        self.catalog.set_setting(SCHEDULE_SETTING, json.dumps(dict(
            driver=self.schedule.driver, unit_dir=self.schedule.unit_dir, cron_dir=self.schedule.cron_dir)))
        self.schedule.install(self.db_type, db_name, policy, self.command(db_name))
        return True

    def forget(self, db_name):
        """When the database goes: its policy and its schedule. True if there was either."""
        had = self.catalog.backup_policy(self.db_type, db_name) is not None
        if had:
            self.catalog.delete_backup_policy(self.db_type, db_name)
        return self.schedule.remove(self.db_type, db_name) or had


def recorded_schedule(catalog, run):
    """The Schedule the host's policies were installed with (or the default one)."""
    setting = catalog.setting(SCHEDULE_SETTING)
    return Schedule(run, **json.loads(setting)) if setting else Schedule(run)


def _holds(path, text):
    try:
        with open(path) as handle:
            return handle.read() == text
    except (IOError, OSError):
        return False


def _parents(folder, top):
    """``folder`` and its parents below ``top``, outermost first."""
    chain = []
    while folder and os.path.abspath(folder) != os.path.abspath(top) and folder != os.path.dirname(folder):
        chain.append(folder)
        folder = os.path.dirname(folder)
    return list(reversed(chain))


# ---------------------------------------------------------------- the runner
def run_due(state_dir, run, now, db_type=None, db_name=None, log=None):
    """Take due backups and prune, for one database or every enabled policy; returns the summary."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
    catalog = Catalog(state_dir)
    policies = [p for p in catalog.backup_policies()
                if p['enabled'] and (db_name is None or (p['db_type'], p['db_name']) == (db_type, db_name))]
    catalog.close()
    summary = dict(at=rules.format_time(now), taken=[], pruned=[], failed=[], checked=len(policies))
    for policy in policies:
        with open(os.path.join(runner_paths(state_dir)[0], 'login-%s.json' % policy['db_type'])) as handle:
            login = ServerLogin(**json.load(handle))
        databases = HostDatabases(policy['db_type'], login, state_dir, run=run)
        try:
            snapshots = databases.snapshots()
            last_slot = rules.parse_time(policy['last_slot']) if policy['last_slot'] else None
            due = rules.is_due(policy, rules.parse_time(policy['enabled_at']), last_slot, now)
            if due and databases.get(policy['db_name']) is not None:
                snapshot = snapshots.create(policy['db_name'], 'Automated %s backup' % policy['frequency'],
                                            automated=True)
                databases.catalog.set_last_slot(policy['db_type'], policy['db_name'],
                                                rules.format_time(rules.latest_slot(policy, now)))
                summary['taken'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'],
                                             snapshot_id=snapshot['snapshot_id'], size_mb=snapshot['size_mb']))
            cutoff = rules.format_time(now - datetime.timedelta(days=policy['retention_days']))
            for snapshot_id in snapshots.prune(policy['db_name'], cutoff):
                summary['pruned'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'],
                                              snapshot_id=snapshot_id))
        except WaysCloudError as exc:
            summary['failed'].append(dict(db_type=policy['db_type'], db_name=policy['db_name'], error=str(exc)))
        finally:
            databases.close()
    if log:
        log(summary)
    return summary


def main(argv, run, say):
    """The runner's entry point (see the module docstring): ``say`` prints a line; exit status 1 when any
    database failed."""
    parser = argparse.ArgumentParser(prog='wayscloud-backup', description='Take due backups and prune old ones.')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--db-type')
    parser.add_argument('--db-name')
    args = parser.parse_args(argv)
    now = os.environ.get('WAYSCLOUD_NOW')
    now = rules.parse_time(now) if now else datetime.datetime.now(rules.UTC).replace(microsecond=0)
    lock_dir = ensure_private_dir(os.path.join(args.state_dir, 'locks'))
    log_dir = ensure_private_dir(os.path.join(args.state_dir, 'logs'))
    fd = os.open(os.path.join(lock_dir, 'backup-runner.lock'), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            say(json.dumps(dict(at=rules.format_time(now), busy=True, taken=[], pruned=[], failed=[])))
            return 0

        def log(summary):
            line = json.dumps(summary, sort_keys=True)
            with open(os.path.join(log_dir, 'backups.log'), 'a') as handle:
                os.chmod(handle.name, 0o600)
                handle.write(line + '\n')
            say(line)
        try:
            summary = run_due(args.state_dir, run, now, args.db_type, args.db_name, log=log)
        except (BackendError, OSError, ValueError) as exc:
            log(dict(at=rules.format_time(now), taken=[], pruned=[], failed=[dict(error=str(exc))]))
            return 1
        return 1 if summary['failed'] else 0
    finally:
        os.close(fd)
