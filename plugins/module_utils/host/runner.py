# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's own runner for scheduled jobs: this collection's engine, copied to the host.

``<state_dir>/runner/lib`` holds this collection's module_utils, copied from wherever the module
imported them (a module's zip payload, or an installed collection), so the scheduled jobs run the
very code the modules do. Two entry scripts (0700) call into it with a subprocess runner:

    <state_dir>/runner/wayscloud-backup  --state-dir DIR [--db-type T --db-name N]   (host/backups.py)
    <state_dir>/runner/wayscloud-collect --state-dir DIR [--retention-days N]        (host/metrics.py)

How the jobs log in to each engine is kept in ``<state_dir>/runner/login-<db_type>.json`` (0600).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import datetime
import importlib
import json
import os
import pkgutil

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import ensure_private_dir
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import holds, write_if_changed

PACKAGE = 'ansible_collections.wayscloud.databases.plugins.module_utils'
ENTRY_SCRIPT = '''#!%(python)s
# Written by wayscloud.databases (its host/runner.py explains it); edits are lost.
import os
import subprocess
import sys

sys.path.insert(0, %(lib)r)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import command_failed
from %(module)s import %(function)s as main


def run(argv, stdin=None, env=None):
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False,
                          env=dict(os.environ, **(env or {})))
    if done.returncode != 0:
        raise command_failed(argv, done.returncode, done.stdout, done.stderr)
    return done.stdout


sys.exit(main(sys.argv[1:], run, print))
'''
ENTRIES = {
    'wayscloud-backup': (PACKAGE + '.host.backups', 'main'),
    'wayscloud-collect': (PACKAGE + '.host.runner', 'collect_main'),
}
LOGIN_FIELDS = ('host', 'port', 'user', 'password', 'unix_socket', 'public_host')


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


def runner_files(state_dir, python, db_type, login):
    """{path: (text, mode)} of the runner: the library, the entry scripts and this engine's login."""
    folder = runner_dir(state_dir)
    lib = os.path.join(folder, 'lib')
    files = dict((os.path.join(lib, path), (source, 0o600)) for path, source in collection_sources().items())
    for name, (module, function) in ENTRIES.items():
        script = ENTRY_SCRIPT % dict(python=python, lib=lib, module=module, function=function)
        files[entry_path(state_dir, name)] = (script, 0o700)
    files[os.path.join(folder, 'login-%s.json' % db_type)] = (json.dumps(
        dict((field, getattr(login, field)) for field in LOGIN_FIELDS), sort_keys=True), 0o600)
    return files


def check_trusted(state_dir, python):
    """Root runs the runner: refuse a state_dir or interpreter that someone else could change."""
    for path in [state_dir, os.path.dirname(os.path.abspath(state_dir)), python]:
        try:
            info = os.stat(path)
        except OSError:
            continue  # state_dir is made below, private
        if info.st_uid not in (0, os.getuid()) or info.st_mode & 0o022:
            raise BackendError('%s belongs to another user or is writable by others (mode %o): the scheduled jobs run'
                               ' as root and must not run code anyone else can change' % (path, info.st_mode & 0o7777))


def install_runner(state_dir, python, db_type, login, check_mode=False):
    """Write the runner where it differs; True if anything was (or in check mode would be) written."""
    check_trusted(state_dir, python)
    files = runner_files(state_dir, python, db_type, login)
    changed = any(not holds(path, text) for path, (text, mode) in files.items())
    if changed and not check_mode:
        for path, (text, mode) in sorted(files.items()):
            folder, chain = os.path.dirname(path), []
            while os.path.abspath(folder) != os.path.abspath(state_dir):
                chain.insert(0, folder)
                folder = os.path.dirname(folder)
            for parent in [state_dir] + chain:
                ensure_private_dir(parent)
            write_if_changed(path, text, mode=mode)
    return changed


def logins(state_dir):
    """{db_type: ServerLogin} the runner was given."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
    found = {}
    for db_type in ('postgresql', 'mariadb'):
        path = os.path.join(runner_dir(state_dir), 'login-%s.json' % db_type)
        if os.path.exists(path):
            with open(path) as handle:
                found[db_type] = ServerLogin(**json.load(handle))
    return found


def failure_text(exc):
    """What a job logs of an error: our own messages as they are, anything unexpected with its type."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.errors import WaysCloudError
    return str(exc) if isinstance(exc, WaysCloudError) else repr(exc)


def append_log(state_dir, name, entry):
    """One JSON line in ``<state_dir>/logs/<name>.log`` (0600); returns the line."""
    line = json.dumps(entry, sort_keys=True)
    path = os.path.join(ensure_private_dir(os.path.join(state_dir, 'logs')), name + '.log')
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'a') as handle:
        handle.write(line + '\n')
    return line


def collect_main(argv, run, say):
    """The collector: one metrics sample of every customer database of every engine it can log in to."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.metrics import collect
    parser = argparse.ArgumentParser(prog='wayscloud-collect', description='Store one metrics sample per database.')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--retention-days', type=int, default=7)
    args = parser.parse_args(argv)
    at = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    catalog = Catalog(args.state_dir)
    with catalog.lock('collector', 'host', wait=False) as held:
        if not held:
            say(json.dumps(dict(at=at, busy=True)))
            return 0
        summary = dict(at=at, samples=0, failed=[])
        for db_type, login in sorted(logins(args.state_dir).items()):
            databases = HostDatabases(db_type, login, args.state_dir, run=run)
            try:
                summary['samples'] += collect([databases], args.retention_days)
            except Exception as exc:  # one engine's failure must not cost the other its sample
                summary['failed'].append(dict(db_type=db_type, error=failure_text(exc)))
            finally:
                databases.close()
        say(append_log(args.state_dir, 'collector', summary))
        return 1 if summary['failed'] else 0
