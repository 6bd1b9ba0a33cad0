# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's own runner for scheduled jobs: this collection's engine, copied to the host, and its install.

``<state_dir>/runner/lib`` holds this collection's module_utils, copied from wherever the module
imported them (a module's zip payload, or an installed collection), so the scheduled jobs run the
very code the modules do. Two entry scripts (0700) run the jobs of host/jobs.py:

    <state_dir>/runner/wayscloud-backup  --state-dir DIR [--db-type T --db-name N]
    <state_dir>/runner/wayscloud-collect --state-dir DIR [--retention-days N]

Root runs them, so they run only code nobody else can change (host/trust.py has the rule):
- the interpreter is the real path of the module's Python (a venv's link followed to its file), checked
  at install with every folder above it; the install is refused otherwise;
- it runs isolated (``-I -S``): no PYTHON* variable, current folder, user site, site-packages or
  ``.pth`` file adds code. Its path is the standard library, the runner's lib and the folders where the
  install found the drivers (psycopg2, pymysql), each checked; the jobs need nothing else (no hvac);
- a finder placed first vets every file before it is loaded (and the modules loaded before it); a
  refused file stops the job before its code runs: one line on stderr, exit status 1, and a
  ``refused`` line in the job's log once the runner itself is loaded;
- the tools the jobs start (pg_dump, mariadb-dump...) see a fixed system PATH and no LD_* variable.

How the jobs log in to each engine is kept in ``<state_dir>/runner/login-<db_type>.json`` (0600).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import importlib.util
import json
import os
import pkgutil

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import ensure_private_dir
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import command_failed
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import files_drift, write_if_changed
from ansible_collections.wayscloud.databases.plugins.module_utils.host import trust
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import utc_now

PACKAGE = 'ansible_collections.wayscloud.databases.plugins.module_utils'
# What runs before the guard is in place: the script itself, then host/trust.py from the lib.
ENTRY_SCRIPT = '''#!%(python)s -IS
# Written by wayscloud.databases (its host/runner.py explains it); edits are lost.
import sys
sys.path.append(%(lib)r)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.trust import guard
guard(%(folders)r)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import run_job
import subprocess
sys.exit(run_job(%(name)r, %(state_dir)r, sys.argv[1:], subprocess.run))
'''
BACKUP_JOB = 'wayscloud-backup'
COLLECT_JOB = 'wayscloud-collect'
JOB_LOGS = {BACKUP_JOB: 'backups', COLLECT_JOB: 'collector'}  # <state_dir>/logs/<name>.log
DRIVERS = ('psycopg2', 'pymysql')
JOB_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
LOGIN_FIELDS = ('host', 'port', 'user', 'password', 'unix_socket', 'public_host')
LISTED = 3  # of the library's files not as written, a diff names the first few


def runner_dir(state_dir):
    return os.path.join(state_dir, 'runner')


def entry_path(state_dir, name):
    return os.path.join(runner_dir(state_dir), name)


def collection_sources():
    """{relative path: source} of this collection's module_utils."""
    package = importlib.import_module(PACKAGE)
    sources = {}
    for info in pkgutil.walk_packages(package.__path__, PACKAGE + '.'):
        source = importlib.import_module(info.name).__loader__.get_source(info.name)
        if source is not None:
            sources[info.name.replace('.', '/') + ('/__init__.py' if info.ispkg else '.py')] = source
    for name in (PACKAGE, PACKAGE.rsplit('.', 1)[0]):
        sources.setdefault(name.replace('.', '/') + '/__init__.py', '')
    return sources


def runner_files(state_dir, python, folders, db_type, login):
    """{path: (text, mode)} of the runner: the library, the entry scripts and this engine's login."""
    folder = runner_dir(state_dir)
    lib = os.path.join(folder, 'lib')
    files = dict((os.path.join(lib, path), (source, 0o600)) for path, source in collection_sources().items())
    for name in (BACKUP_JOB, COLLECT_JOB):
        script = ENTRY_SCRIPT % dict(python=python, lib=lib, folders=folders, name=name, state_dir=state_dir)
        files[entry_path(state_dir, name)] = (script, 0o700)
    files[os.path.join(folder, 'login-%s.json' % db_type)] = (json.dumps(
        dict((field, getattr(login, field)) for field in LOGIN_FIELDS), sort_keys=True), 0o600)
    return files


def driver_folders():
    """The folders this Python imports the engine drivers from, as found (not checked)."""
    folders = []
    for name in DRIVERS:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.has_location:
            folder = os.path.dirname(spec.origin)
            folders.append(os.path.dirname(folder) if spec.submodule_search_locations is not None else folder)
    return folders


def check_trusted(state_dir, python, run):
    """Root runs the runner: (the interpreter's real path, the driver folders' real paths), each checked with
    every folder above it, like the files the interpreter loads before an entry script's guard (found by
    running host/trust.py with it through ``run``); refuses a state_dir, interpreter or folder someone else
    could change."""
    existing = os.path.abspath(state_dir)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)  # state_dir is made below, private
    checked = set()
    try:
        trust.check_path(existing, checked)
        real = trust.check_path(os.path.realpath(python), checked)
        if not os.path.isfile(real) or not os.access(real, os.X_OK) or any(char.isspace() for char in real):
            raise BackendError('%s (the real path of %s) must be an executable file whose path has no blank, to be'
                               ' named on the #! line of the scheduled jobs' % (real, python))
        for path in run([real, '-I', '-S', '-'], stdin=trust.__loader__.get_source(trust.__name__)).splitlines():
            trust.check_path(path, checked)
        folders = []
        for folder in driver_folders():
            folder = trust.check_path(os.path.realpath(folder), checked)
            if folder not in folders:
                folders.append(folder)
    except trust.Untrusted as exc:
        raise BackendError('%s: the scheduled jobs run as root and load only code nobody else can change' % exc)
    return real, folders


class Runner:
    """The runner as one engine's login wants it on this host, checked (check_trusted) when made."""

    def __init__(self, state_dir, python, run, db_type, login):
        """``python`` is the Python running this (the drivers are looked for here); the jobs run its real path.
        ``run``: the command runner (host/network.py's), for one look at what that Python loads."""
        real, folders = check_trusted(state_dir, python, run)
        self.state_dir = state_dir
        self.files = runner_files(state_dir, real, folders, db_type, login)

    def drift(self):
        """{path: (as found, as it would be)} of its files that are not as it writes them (content, mode, owner); the
        library's files as one entry, its folder's."""
        drift = files_drift(self.files)
        lib = os.path.join(runner_dir(self.state_dir), 'lib')
        inside = sorted(path for path in drift if path.startswith(lib + os.sep))
        if inside:
            total = sum(1 for path in self.files if path.startswith(lib + os.sep))
            found = ['%s %s' % (os.path.relpath(path, lib), drift.pop(path)[0]) for path in inside]
            if len(found) == total and all(item.endswith(' missing') for item in found):
                drift[lib] = ('missing', 'written, %d files' % total)
            else:
                drift[lib] = ('%d of %d files: %s' % (len(found), total, ', '.join(found[:LISTED])
                                                      + (', ...' if len(found) > LISTED else '')),
                              'written, %d files' % total)
        return drift

    def install(self):
        """Write the files that differ, in private folders."""
        for path, (text, mode) in sorted(self.files.items()):
            folder, chain = os.path.dirname(path), []
            while os.path.abspath(folder) != os.path.abspath(self.state_dir):
                chain.insert(0, folder)
                folder = os.path.dirname(folder)
            for parent in [self.state_dir] + chain:
                ensure_private_dir(parent)
            write_if_changed(path, text, mode=mode)


def command_runner(spawn):
    """``run(argv, stdin=None, env=None)`` for the engine outside Ansible (the scheduled jobs, the API
    server): returns stdout, raises command_failed. ``spawn`` is subprocess.run, handed in by the caller:
    module_utils start no process themselves (in a module, commands go through AnsibleModule.run_command).
    Secrets go in ``env`` (added to this process's environment), never in argv."""
    def run(argv, stdin=None, env=None):
        try:
            done = spawn(argv, input=stdin, capture_output=True, text=True, timeout=6 * 3600, check=False,
                         env=dict(os.environ, **(env or {})))
        except OSError as exc:
            raise BackendError('cannot run %s: %s (is it installed?)' % (argv[0], exc.strerror))
        if done.returncode != 0:
            raise command_failed(argv, done.returncode, done.stdout, done.stderr)
        return done.stdout
    return run


def run_job(name, state_dir, argv, spawn):
    """An entry script's job, once the guard (host/trust.py) is in place; returns the exit status.
    ``spawn``: subprocess.run (see command_runner).
    A module the guard refuses stops the job, with a ``refused`` line in the job's log."""
    for variable in [variable for variable in os.environ if variable.startswith(('LD_', 'PYTHON'))]:
        del os.environ[variable]
    os.environ['PATH'] = JOB_PATH
    try:
        # The jobs, at the top of the host engine, are imported only now that the guard is in place, so that a file
        # of theirs (or of the engine below them) the guard refuses is logged as the job's refusal. An import
        # statement, not a name: Ansible packs what a module's code imports, and the lib is a copy of that.
        from ansible_collections.wayscloud.databases.plugins.module_utils.host import jobs
        return jobs.ENTRY_POINTS[name](argv, command_runner(spawn), print)
    except trust.Untrusted as exc:
        append_log(state_dir, JOB_LOGS[name], dict(at=utc_now(), refused=str(exc)))
        raise


def logins(state_dir):
    """{db_type: ServerLogin} the runner was given."""
    found = {}
    for db_type in ('postgresql', 'mariadb'):
        path = os.path.join(runner_dir(state_dir), 'login-%s.json' % db_type)
        if os.path.exists(path):
            with open(path) as handle:
                found[db_type] = ServerLogin(**json.load(handle))
    return found


def append_log(state_dir, name, entry):
    """One JSON line in ``<state_dir>/logs/<name>.log`` (0600); returns the line."""
    line = json.dumps(entry, sort_keys=True)
    path = os.path.join(ensure_private_dir(os.path.join(state_dir, 'logs')), name + '.log')
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'a') as handle:
        handle.write(line + '\n')
    return line
