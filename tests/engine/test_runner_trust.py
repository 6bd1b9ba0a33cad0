# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The root-run jobs run only code nobody else can change (host/runner.py, host/trust.py).

The runner is installed into a temporary state_dir with a throwaway copy of this Python (its binary,
its standard library linked in, a site-packages of its own) that these tests may plant files in and
chmod; the entry scripts run exactly as the schedule runs them, as root."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backup_policy import HostBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.host.collector import HostCollector
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import Runner, entry_path
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule

from commands import run
from test_backups import POLICY, cron_entry
from test_databases import create

VERSION = 'python%d.%d' % sys.version_info[:2]
TRAP = 'import os; open(os.path.join(%r, %r), "w").close()\n'
PACKAGE = 'ansible_collections/wayscloud/databases/plugins/module_utils/host'


class Python:
    """A copy of the running Python's real interpreter under ``root``: bin/pythonX.Y copied, lib/ linked
    to the real one's entries, lib/pythonX.Y a folder of links to the standard library's entries and an
    empty site-packages of its own."""

    def __init__(self, root):
        real = os.path.realpath(sys.executable)
        prefix = os.path.dirname(os.path.dirname(real))
        self.root, self.stdlib = root, os.path.join(root, 'lib', VERSION)
        self.site = os.path.join(self.stdlib, 'site-packages')
        self.bin = os.path.join(root, 'bin', VERSION)
        os.makedirs(os.path.dirname(self.bin))
        os.makedirs(self.site)
        shutil.copy2(real, self.bin)
        lib = os.path.join(prefix, 'lib')
        for folder, skip in ((lib, VERSION), (os.path.join(lib, VERSION), 'site-packages')):
            for entry in os.listdir(folder):
                if entry != skip:
                    os.symlink(os.path.join(folder, entry), os.path.join(root, os.path.relpath(folder, prefix), entry))

    def own(self, name):
        """Replace the link to the standard library's ``name`` (a package) by a copy; returns its path."""
        path = os.path.join(self.stdlib, name)
        real = os.path.realpath(path)
        os.unlink(path)
        shutil.copytree(real, path)
        return path


@pytest.fixture
def python(tmp_path):
    return Python(str(tmp_path / 'python'))


@pytest.fixture
def traps(tmp_path, python):
    """(environment, cwd, markers): everything an unisolated Python would run from the environment, the
    current folder, its site-packages and the user's site, each leaving a marker when it runs."""
    markers, cwd, pythonpath, home, tools = (tmp_path / name
                                             for name in ('markers', 'cwd', 'pythonpath', 'home', 'tools'))
    user_site = home / '.local' / 'lib' / VERSION / 'site-packages'
    for folder in (markers, cwd, pythonpath, user_site, tools):
        folder.mkdir(parents=True)
    plant = dict(pth=os.path.join(python.site, 'trap.pth'), sitecustomize=os.path.join(python.site, 'sitecustomize.py'),
                 usercustomize=str(user_site / 'usercustomize.py'), user_pth=str(user_site / 'trap.pth'),
                 pythonpath=str(pythonpath / 'json.py'), cwd=str(cwd / 'argparse.py'))
    for name, path in plant.items():
        with open(path, 'w') as handle:
            handle.write(TRAP % (str(markers), name))
    for tool in ('bash', 'pg_dump', 'mariadb-dump', 'zstd', 'psql'):
        (tools / tool).write_text('#!/bin/sh\ntouch %s/tool-%s\nexit 1\n' % (markers, tool))
        (tools / tool).chmod(0o755)
    environment = dict(os.environ, PYTHONPATH=str(pythonpath), HOME=str(home),
                       PATH='%s:%s' % (tools, os.environ['PATH']))
    # The traps are live: a plain run of the same Python, in the same place, springs every one of them.
    subprocess.run([python.bin, '-c', 'import json, argparse, subprocess; subprocess.run(["zstd"])'],
                   env=environment, cwd=str(cwd), check=True)
    assert sorted(os.listdir(str(markers))) == sorted(list(plant) + ['tool-zstd'])
    for marker in os.listdir(str(markers)):
        os.unlink(str(markers / marker))
    return environment, str(cwd), str(markers)


def install(state_dir, python, run, db_type, login):
    """The runner installed as a module installs it: True if anything was written."""
    runner = Runner(state_dir, python, run, db_type, login)
    pending = bool(runner.drift())
    runner.install()
    return pending


def run_job(argv, environment=None, cwd=None):
    done = subprocess.run(argv, env=environment, cwd=cwd, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_the_jobs_run_isolated_and_nothing_planted_runs(engine, tmp_path, python, traps):
    """A backup is taken and the collector samples, with every trap in place and none sprung."""
    databases, state_dir = engine
    environment, cwd, markers = traps
    db_name = create(databases, 'isolated')[0]['db_name']
    cron_dir = str(tmp_path / 'cron.d')
    schedule = Schedule(run, driver='cron', cron_dir=cron_dir)
    HostBackupPolicy(databases, schedule, python=python.bin).set(db_name, POLICY)
    with open(entry_path(state_dir, 'wayscloud-backup')) as handle:
        assert handle.readline() == '#!%s -IS\n' % python.bin
    with databases.catalog.transaction() as conn:
        conn.execute("UPDATE backup_policies SET enabled_at = '2026-01-01T00:00:00Z'")
    argv = cron_entry(os.path.join(cron_dir, 'wayscloud-backup-%s-%s' % (databases.db_type, db_name)))[2]
    status, out, err = run_job(argv, dict(environment, WAYSCLOUD_NOW='2026-11-27T02:00:00Z'), cwd)
    assert status == 0, err + out
    assert [item['db_name'] for item in json.loads(out.splitlines()[-1])['taken']] == [db_name]
    collector = HostCollector(databases, schedule, python=python.bin)
    assert collector.plan(True)
    collector.set(True)
    status, out, err = run_job(cron_entry(os.path.join(cron_dir, 'wayscloud-metrics'))[2], environment, cwd)
    assert status == 0, err + out
    assert json.loads(out.splitlines()[-1])['samples'] >= 1
    assert os.listdir(markers) == []


def test_the_interpreter_is_its_real_path(engine):
    """A venv's python is a link (here into pyenv): the jobs run the file it leads to, outside the venv."""
    databases, state_dir = engine
    install(state_dir, sys.executable, run, databases.db_type, databases.driver.login)
    with open(entry_path(state_dir, 'wayscloud-collect')) as handle:
        assert handle.readline() == '#!%s -IS\n' % os.path.realpath(sys.executable)


def plant_lib_module(state_dir, markers):
    """The runner's own host/metrics.py (the collector imports it after the guard), trapped and
    writable by others."""
    path = os.path.join(state_dir, 'runner', 'lib', PACKAGE, 'metrics.py')
    with open(path, 'w') as handle:
        handle.write(TRAP % (markers, 'lib'))
    os.chmod(path, 0o646)
    return path, PACKAGE.replace('/', '.') + '.metrics'


def plant_stdlib_folder(python, markers):
    """The standard library's json (the runner imports it), trapped, in a folder writable by others."""
    path = python.own('json')
    with open(os.path.join(path, '__init__.py'), 'a') as handle:
        handle.write(TRAP % (markers, 'stdlib'))
    os.chmod(path, 0o777)
    return path, 'json'


def plant_bytecode(python, markers):
    """The cached bytecode of the standard library's json, writable by others."""
    source = os.path.join(python.own('json'), '__init__.py')
    cached = importlib.util.cache_from_source(source)
    py_compile.compile(source, cached)
    os.chmod(cached, 0o646)
    return cached, 'json'


def plant_startup(python, markers):
    """An encodings module Python loads at start-up, before any script runs, writable by others."""
    path = os.path.join(python.own('encodings'), 'utf_8.py')
    os.chmod(path, 0o646)
    return path, 'encodings.utf_8'


@pytest.mark.parametrize('plant, logged', [(plant_lib_module, True), (plant_stdlib_folder, False),
                                           (plant_bytecode, False), (plant_startup, False)])
def test_a_file_others_could_change_stops_the_job_before_it_runs(logins, tmp_path, python, plant, logged):
    """Planted after the install (the install refuses what it can see): refused when loaded, the job stops
    with the file and the rule on stderr, in its log once the runner is loaded, and the code never ran."""
    state_dir, markers = str(tmp_path / 'state'), str(tmp_path / 'markers')
    os.mkdir(markers)
    install(state_dir, python.bin, run, 'postgresql', logins['postgresql'])
    path, name = plant(state_dir, markers) if plant is plant_lib_module else plant(python, markers)
    status, out, err = run_job([entry_path(state_dir, 'wayscloud-collect'), '--state-dir', state_dir])
    assert status == 1 and out == ''
    assert err.startswith('wayscloud: refused to load %s' % name) and ' writable by group or others, mode ' in err, err
    assert path in err and 'Traceback' not in err
    log = os.path.join(state_dir, 'logs', 'collector.log')
    if logged:
        with open(log) as handle:
            assert path in json.loads(handle.read().splitlines()[-1])['refused']
    else:
        assert not os.path.exists(log)
    assert os.listdir(markers) == []


@pytest.mark.parametrize('where', ['bin', 'bin/' + VERSION, '.', 'lib/' + VERSION + '/encodings/utf_8.py'])
def test_an_interpreter_others_could_change_is_refused_at_install(logins, tmp_path, python, where):
    """The interpreter's real file, a folder above it, or a file it loads before any script runs."""
    target = os.path.join(python.root, where)
    if where.startswith('lib/'):
        python.own('encodings')
    os.chmod(target, os.stat(target).st_mode | 0o002)
    state_dir = str(tmp_path / 'state')
    with pytest.raises(BackendError, match=re.escape(os.path.normpath(target)) + ' is writable by group or others.*'
                       'the scheduled jobs run as root'):
        install(state_dir, python.bin, run, 'postgresql', logins['postgresql'])
    assert not os.path.exists(state_dir)


def test_an_interpreter_of_another_user_is_refused_but_a_link_to_it_from_anywhere_is_not(logins, tmp_path, python):
    """A link to the interpreter is resolved (the jobs name the real file); the real file's folders count."""
    shared = tmp_path / 'shared'
    shared.mkdir()
    shared.chmod(0o777)
    (shared / 'python').symlink_to(python.bin)
    state_dir = str(tmp_path / 'state')
    assert install(state_dir, str(shared / 'python'), run, 'postgresql', logins['postgresql'])
    with open(entry_path(state_dir, 'wayscloud-backup')) as handle:
        assert handle.readline() == '#!%s -IS\n' % python.bin
    os.chown(python.root, 65534, -1)
    with pytest.raises(BackendError, match='%s belongs to uid 65534' % python.root):
        install(str(tmp_path / 'other'), str(shared / 'python'), run, 'postgresql', logins['postgresql'])


def test_a_driver_folder_others_could_change_is_refused_at_install(logins, tmp_path, python, monkeypatch):
    """The folders the jobs import the drivers from are checked like the interpreter."""
    drivers = tmp_path / 'drivers'
    (drivers / 'wayscloud_test_driver').mkdir(parents=True)
    (drivers / 'wayscloud_test_driver' / '__init__.py').write_text('')
    drivers.chmod(0o757)
    monkeypatch.syspath_prepend(str(drivers))
    from ansible_collections.wayscloud.databases.plugins.module_utils.host import runner
    monkeypatch.setattr(runner, 'DRIVERS', runner.DRIVERS + ('wayscloud_test_driver',))
    with pytest.raises(BackendError, match='%s is writable by group or others, mode 0757' % drivers):
        install(str(tmp_path / 'state'), python.bin, run, 'postgresql', logins['postgresql'])
    drivers.chmod(0o755)
    install(str(tmp_path / 'state'), python.bin, run, 'postgresql', logins['postgresql'])
    with open(entry_path(str(tmp_path / 'state'), 'wayscloud-backup')) as handle:
        assert repr(str(drivers)) in handle.read()
