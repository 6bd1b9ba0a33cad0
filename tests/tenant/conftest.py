# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostile-tenant suite's world: the servers (scripts/test.sh gate ``tenant`` starts them and the API
server), a victim customer per engine, the tenants' trap databases, and the cleanup that leaves the servers
as they were even after failures. Module runners and server settings come from tests/hardening/conftest.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import importlib.util
import os
import secrets
import shutil
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
_spec = importlib.util.spec_from_file_location('wayscloud_hardening_conftest',
                                               os.path.join(os.path.dirname(HERE), 'hardening', 'conftest.py'))
hardening = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hardening)

from tenant_operations import ApiBackend, HostBackend  # noqa: E402
from tenant_support import MariaDBSide, PostgreSQLSide, Stage, remove_marker  # noqa: E402
from traps import MDB_COMMON, MDB_TRAPS, PG_COMMON, PG_ISSUE_EXAMPLE, PG_TRAPS, fill  # noqa: E402
import tenant_figures  # noqa: E402

servers = hardening.servers
ENGINES = ('postgresql', 'mariadb')
SIDES = dict(postgresql=PostgreSQLSide, mariadb=MariaDBSide)
CUSTOMERS = dict(host='tenanth', api='itest1')  # the API's customer key belongs to itest1
VICTIM = 'tnvictim'
REQUESTED = dict(traps='tnt_traps', issue='tnt_issue')
TRAPS = {('postgresql', 'traps'): (PG_COMMON, PG_TRAPS), ('postgresql', 'issue'): ([], PG_ISSUE_EXAMPLE),
         ('mariadb', 'traps'): (MDB_COMMON, MDB_TRAPS)}
STALE = 600  # seconds after which a marker file is a killed run's


class World:
    """Everything the suite made, made once and taken away at the end (in reverse), failures included; what a
    killed run left behind under the same names is taken away first."""

    def __init__(self, servers, work):
        self.servers = servers
        self.work = work
        self.marker = '/tmp/wayscloud-pwned-%s-' % secrets.token_hex(3)
        self.host = HostBackend(hardening.run_module, hardening.host_options, servers, os.path.join(work, 'state'),
                                os.path.join(work, 'cron.d'))
        os.mkdir(self.host.state_dir, 0o700)
        self.backends = dict(host=self.host, api=ApiBackend(hardening.http_json, servers))
        self.victims = dict((engine, Stage(engine, 'host', 'victim', VICTIM, 'data', [])) for engine in ENGINES)
        self.sides = dict((engine, SIDES[engine](servers, self.marker, self.victims[engine].db_name))
                          for engine in ENGINES)
        self.sides['mariadb'].start()
        self.hba = self.sides['postgresql'].rows('SHOW hba_file')[0][0]
        self.stages = {}
        self.ready = set()
        self.results = []
        self._sweep()

    def _sweep(self):
        for engine, side in self.sides.items():
            for backend in self.backends:
                for kind in set(kind for stage_engine, kind in TRAPS if stage_engine == engine):
                    stage = Stage(engine, backend, kind, CUSTOMERS[backend], REQUESTED[kind], [])
                    if side.exists(stage.db_name) or side.exists(stage.copy_name) or side.user_exists(stage.user):
                        self.backends[backend].forget(stage)
            if side.exists(self.victims[engine].db_name) or side.user_exists(self.victims[engine].user):
                self.host.forget(self.victims[engine])
            side.repair([])
        for path in glob.glob('/tmp/wayscloud-pwned-*'):
            if os.lstat(path).st_mtime < time.time() - STALE:
                remove_marker(path)  # a killed run's (each run removes its own at once; runs take minutes)

    def side(self, engine):
        """The engine's side, with its victim customer made on first use."""
        side = self.sides[engine]
        if engine not in self.ready:
            self.ready.add(engine)
            side.victim_setup(self.host.create(self.victims[engine]))
        return side

    def stage(self, engine, backend, kind):
        """The tenant's database of (engine, backend, kind), created by the backend and stocked by the tenant."""
        key = (engine, backend, kind)
        if key not in self.stages:
            side = self.side(engine)
            common, traps = TRAPS[(engine, kind)]
            stage = Stage(engine, backend, kind, CUSTOMERS[backend], REQUESTED[kind], traps)
            self.stages[key] = stage
            stage.password = self.backends[backend].create(stage)
            values = dict(tenant=stage.user, db=stage.db_name, victim=side.victim, marker=self.marker)
            error = side.run_as_tenant(stage, stage.db_name, [fill(statement, **values) for statement in common])
            assert error is None, 'the payload could not be planted: %s' % error
            for trap in traps:
                statements = [fill(statement, **values) for statement in trap.statements]
                error = side.run_as_tenant(stage, stage.db_name, statements)
                if error is None:
                    stage.created.append(trap.name)
                else:
                    stage.refused[trap.name] = error
        return self.stages[key]

    def users(self, engine):
        return [stage.user for stage in self.stages.values() if stage.engine == engine]

    def close(self):
        problems = []
        for stage in reversed(list(self.stages.values())):
            problems += _attempt(self.backends[stage.backend].forget, stage)
        for backend in self.backends.values():
            problems += _attempt(backend.stop)
        for engine, side in self.sides.items():
            problems += _attempt(side.repair, self.users(engine))
            if engine in self.ready:
                problems += _attempt(self.host.forget, self.victims[engine])
        problems += _attempt(self.sides['mariadb'].stop)
        shutil.rmtree(self.work, ignore_errors=True)
        return problems


def _attempt(action, *args):
    try:
        action(*args)
    except Exception as exc:  # cleanup goes on; the problems are reported at the end
        return ['%s: %r' % (getattr(action, '__name__', action), exc)]
    return []


@pytest.fixture(scope='session')
def world(servers):
    work = tempfile.mkdtemp(prefix='wayscloud-tenant-')
    made = World(servers, work)
    yield made
    problems = made.close()
    tenant_figures.write(made)
    assert not problems, 'cleanup failed: %s' % problems
