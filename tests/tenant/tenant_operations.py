# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every operation of the collection, as a user starts it: the modules on the host backend (run as Ansible
runs them), HTTP with the customer's own API key on the api backend, and the scheduled jobs (backups, metrics
collector) by running exactly the command their cron file holds, as cron would (as root).

Each operation takes a Stage (tenant_support.py), raises AssertionError when the collection reports a
failure, and keeps what later operations need (snapshot id, rule id, the rotated password) on the stage.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import shlex
import subprocess

TRAP_OPERATIONS = ['info', 'snapshot', 'restore_in_place', 'restore_new', 'scheduled_backup', 'metrics_collection',
                   'rotation', 'firewall_add', 'firewall_remove', 'update', 'restart', 'delete']
ISSUE_OPERATIONS = ['snapshot', 'restore_in_place', 'restore_new', 'delete']
POLICY = dict(enabled=True, frequency='daily', time_of_day='02:00', retention_days=7)
RULES = dict(host='198.18.0.7/32', api='198.18.0.8/32')


def due_time():
    """A moment when the daily 02:00 slot is due for a policy enabled now (WAYSCLOUD_NOW of the backup job)."""
    day = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=2)
    return '%sT02:00:00Z' % day.isoformat()


def cron_command(path):
    """The command line of a cron.d file's one job (after the five time fields and the user)."""
    with open(path) as handle:
        lines = [line for line in handle.read().splitlines()
                 if line and not line.startswith('#') and '=' not in line.split()[0]]
    assert len(lines) == 1, lines
    return shlex.split(lines[0].split(None, 6)[6])


def run_job(argv, now=None):
    """Run a scheduled job's command as cron would; returns its JSON summary (its last line)."""
    env = dict(os.environ, WAYSCLOUD_NOW=now) if now else dict(os.environ)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=300)
    lines = done.stdout.strip().splitlines()
    assert lines, 'the job printed nothing (exit %d): %s' % (done.returncode, done.stderr[-2000:])
    summary = json.loads(lines[-1])
    assert done.returncode == 0 and not summary.get('failed'), 'the job failed (exit %d): %s' % (
        done.returncode, summary)
    return summary


def _failed(result):
    return result.get('failed') or result.get('_rc')


class HostBackend:
    """The modules with backend=host, one state_dir for the whole suite; schedules as cron files of its own."""

    name = 'host'

    def __init__(self, run_module, host_options, servers, state_dir, cron_dir):
        self.run_module = run_module
        self.host_options = host_options
        self.servers = servers
        self.state_dir = state_dir
        self.cron_dir = cron_dir

    def options(self, engine, **args):
        return dict(self.host_options(self.servers, engine, self.state_dir), **args)

    def module(self, module_name, stage, **args):
        result = self.run_module(module_name, self.options(stage.engine, **args))
        assert not _failed(result), '%s failed: %s' % (
            module_name, result.get('msg') or result.get('_stderr', '')[-2000:])
        return result

    def create(self, stage):
        result = self.module('wayscloud_database', stage, customer_id=stage.customer, requested_name=stage.requested)
        return result['password']

    def info(self, stage):
        self.module('wayscloud_database_info', stage, name=stage.db_name, customer_id=stage.customer,
                    gather=['databases', 'info', 'metrics', 'snapshots', 'firewall', 'backup_policy', 'credentials',
                            'quota', 'history', 'engines'])

    def snapshot(self, stage):
        result = self.module('wayscloud_database_snapshot', stage, name=stage.db_name, description='tenant suite')
        stage.snapshot_ids.append(result['snapshot']['snapshot_id'])

    def restore_in_place(self, stage):
        assert stage.snapshot_ids, 'no snapshot to restore (the snapshot operation failed)'
        self.module('wayscloud_database_snapshot', stage, name=stage.db_name, state='restored',
                    snapshot_id=stage.snapshot_ids[0], force=True)

    def restore_new(self, stage):
        assert stage.snapshot_ids, 'no snapshot to restore (the snapshot operation failed)'
        self.module('wayscloud_database_snapshot', stage, name=stage.db_name, state='restored',
                    snapshot_id=stage.snapshot_ids[0], target_db_name=stage.copy_name)

    def scheduled_backup(self, stage):
        self.module('wayscloud_database_backup_policy', stage, name=stage.db_name, schedule_driver='cron',
                    cron_dir=self.cron_dir, **POLICY)
        path = os.path.join(self.cron_dir, 'wayscloud-backup-%s-%s' % (stage.engine, stage.db_name))
        summary = run_job(cron_command(path), due_time())
        assert [item['db_name'] for item in summary['taken']] == [stage.db_name], summary

    def metrics_collection(self, stage):
        self.module('wayscloud_database_collector', stage, schedule_driver='cron', cron_dir=self.cron_dir)
        run_job(cron_command(os.path.join(self.cron_dir, 'wayscloud-metrics')))

    def rotation(self, stage):
        result = self.module('wayscloud_database_credentials', stage, name=stage.db_name, rotate=True)
        stage.password = result['password']

    def firewall_add(self, stage):
        result = self.module('wayscloud_database_firewall', stage, name=stage.db_name, ip_address=RULES[self.name],
                             description='tenant suite')
        stage.rule_id = result['rule']['rule_id']

    def firewall_remove(self, stage):
        self.module('wayscloud_database_firewall', stage, name=stage.db_name, ip_address=RULES[self.name],
                    state='absent')

    def update(self, stage):
        self.module('wayscloud_database', stage, name=stage.db_name, connection_limit=40, description='tenant suite')

    def restart(self, stage):
        self.module('wayscloud_database', stage, name=stage.db_name, state='restarted')

    def delete(self, stage):
        self.module('wayscloud_database', stage, name=stage.copy_name, state='absent')
        self.module('wayscloud_database', stage, name=stage.db_name, state='absent')
        stage.deleted = True

    def forget(self, stage):
        """Cleanup: the databases, whatever state a failed run left them in."""
        for name in (stage.copy_name, stage.db_name):
            self.run_module('wayscloud_database', self.options(stage.engine, name=name, state='absent'))

    def stop(self):
        for engine in ('postgresql', 'mariadb'):
            self.run_module('wayscloud_database_collector', self.options(engine, schedule_driver='cron',
                                                                         cron_dir=self.cron_dir, state='absent'))


class ApiBackend:
    """HTTP to tests/api_server with the customer's own key (customer itest1): what a tenant can ask for itself."""

    name = 'api'

    def __init__(self, http_json, servers):
        self.http_json = http_json
        self.url = servers['WAYSCLOUD_API_URL']
        self.key = servers['WAYSCLOUD_TEST_KEY_CUSTOMER']
        self.state_dir = servers['WAYSCLOUD_API_STATE_DIR']
        self.cron_dir = os.path.join(os.path.dirname(self.state_dir), 'cron.d')

    def send(self, method, path, body=None):
        return self.http_json(self.url + path, method, body, {'X-API-Key': self.key}, timeout=300)

    def request(self, method, path, body=None, ok=(200,)):
        status, answer = self.send(method, path, body)
        assert status in ok, '%s %s answered %s: %s' % (method, path, status, _redacted(answer))
        return answer

    def path(self, stage, rest=''):
        return '/v1/databases/%s/%s%s' % (stage.engine, stage.db_name, rest)

    def create(self, stage):
        answer = self.request('POST', '/v1/databases', dict(db_type=stage.engine, requested_name=stage.requested))
        assert answer['db_name'] == stage.db_name, answer['db_name']
        return answer['password']

    def info(self, stage):
        for rest in ('/info', '/metrics', '/credentials', '/snapshots', '/firewall', '/backup-policy'):
            self.request('GET', self.path(stage, rest))
        self.request('GET', '/v1/databases/%s' % stage.engine)
        self.request('GET', '/v1/quota')
        self.request('GET', '/v1/databases/history')

    def snapshot(self, stage):
        answer = self.request('POST', self.path(stage, '/snapshots'), dict(description='tenant suite'))
        stage.snapshot_ids.append(answer['snapshot_id'])

    def restore_in_place(self, stage):
        assert stage.snapshot_ids, 'no snapshot to restore (the snapshot operation failed)'
        self.request('POST', self.path(stage, '/restore'), dict(snapshot_id=stage.snapshot_ids[0]))

    def restore_new(self, stage):
        assert stage.snapshot_ids, 'no snapshot to restore (the snapshot operation failed)'
        body = dict(snapshot_id=stage.snapshot_ids[0], target_db_name=stage.copy_requested)
        self.request('POST', self.path(stage, '/restore'), body)

    def scheduled_backup(self, stage):
        self.request('PUT', self.path(stage, '/backup-policy'), POLICY)
        path = os.path.join(self.cron_dir, 'wayscloud-backup-%s-%s' % (stage.engine, stage.db_name))
        summary = run_job(cron_command(path), due_time())
        assert [item['db_name'] for item in summary['taken']] == [stage.db_name], summary
        for item in summary['taken']:
            stage.snapshot_ids.append(item['snapshot_id'])

    def metrics_collection(self, stage):
        """The API server's host has no collector task of its own: its runner (installed with the backup policy)
        is run as the host's schedule would run it."""
        run_job([os.path.join(self.state_dir, 'runner', 'wayscloud-collect'), '--state-dir', self.state_dir])

    def rotation(self, stage):
        stage.password = self.request('POST', self.path(stage, '/credentials/rotate'))['password']

    def firewall_add(self, stage):
        stage.rule_id = self.request('POST', self.path(stage, '/firewall'),
                                     dict(ip_address=RULES[self.name], description='tenant suite'))['rule_id']

    def firewall_remove(self, stage):
        assert stage.rule_id, 'no rule to remove (firewall_add failed)'
        self.request('DELETE', self.path(stage, '/firewall/%s' % stage.rule_id))

    def update(self, stage):
        self.request('PATCH', self.path(stage), dict(connection_limit=40, description='tenant suite'))

    def restart(self, stage):
        self.request('POST', self.path(stage, '/restart'))

    def delete(self, stage):
        self.request('DELETE', '/v1/databases/%s/%s' % (stage.engine, stage.copy_name), ok=(200, 404))
        self.request('DELETE', self.path(stage, '?username=%s' % stage.user))
        stage.deleted = True

    def forget(self, stage):
        """Cleanup: snapshots first (a deleted database's stay listed), then the databases and the user."""
        for name in (stage.db_name, stage.copy_name):
            for snapshot_id in stage.snapshot_ids:
                self.send('DELETE', '/v1/databases/%s/%s/snapshots/%s' % (stage.engine, name, snapshot_id))
        self.send('DELETE', '/v1/databases/%s/%s' % (stage.engine, stage.copy_name))
        self.send('DELETE', self.path(stage, '?username=%s' % stage.user))

    def stop(self):
        """Nothing: the API server's schedules go with its databases."""


def _redacted(answer):
    """An API answer fit for an assertion message: a password in it is replaced."""
    if isinstance(answer, dict) and 'password' in answer:
        return dict(answer, password='<redacted>')
    return answer
