# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile tenant gains nothing through any operation of the collection (issue 16, item 7).

On each engine and backend, a tenant stocks its own database with traps (traps.py), as itself, over TCP.
Then every operation of the collection runs over that database, in the order a customer's life takes it
(tenant_operations.py). Around each: a fingerprint of everything outside the tenant before and after, the tenant's
own rights after, and who ran the tenant's code meanwhile (tenant_support.py). Any difference is a privilege
gained, attributed to the trap whose marker it carries (or, for the tenant's own escalation, to the traps
that ran as someone else during that operation). What a gain left behind is undone before the next
operation, so each operation is judged on its own.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

import pytest

from tenant_operations import ISSUE_OPERATIONS, TRAP_OPERATIONS
from tenant_support import differences, marker_files, traps_named

STAGES = [('postgresql', 'host', 'traps'), ('postgresql', 'host', 'issue'), ('postgresql', 'api', 'traps'),
          ('postgresql', 'api', 'issue'), ('mariadb', 'host', 'traps'), ('mariadb', 'api', 'traps')]
CASES = [stage + (operation,) for stage in STAGES
         for operation in (ISSUE_OPERATIONS if stage[2] == 'issue' else TRAP_OPERATIONS)]


def _markers(stage):
    """{name a payload leaves behind: trap}: each trap's own name, and the marker files its names and comments carry."""
    found = {}
    for trap in stage.traps:
        found[trap.name] = trap.name
        for statement in trap.statements:
            for name in re.findall(r'@marker@([a-z_]+)', statement):
                found.setdefault(name, trap.name)
    return found


def attribute(stage, changes, fired):
    """{trap: [changes]}: a change goes to the traps its markers name, else to the traps that ran as someone else
    meanwhile (``fired``), else (one trap in the database) to that trap, else to no trap in particular."""
    markers = _markers(stage)
    ran = sorted(set(row[0] for row in fired if row[0] in stage.created))
    gains = {}
    for change in changes:
        named = sorted(set(markers[name] for name in traps_named(change, markers)))
        if not named:
            named = ran or (stage.created if len(stage.created) == 1 else ['(unattributed)'])
            change += '' if named == ['(unattributed)'] or len(stage.created) == 1 else ' (with these traps running)'
        for trap in named:
            gains.setdefault(trap, []).append(change)
    return gains


def attack(world, stage, operation):
    """Run ``operation`` over the tenant's database and judge what changed outside the tenant, and in its own
    databases which objects the operation gave to someone else or lost."""
    side = world.side(stage.engine)
    started = time.time()
    before = side.outside(stage, world.hba)
    owned_before, objects_before = side.foreign_owned(stage), side.inventory(stage)
    since = side.mark()
    error = None
    try:
        getattr(world.backends[stage.backend], operation)(stage)
    except AssertionError as exc:
        error = str(exc)
    side.poke(stage)
    changes = differences(before, side.outside(stage, world.hba)) + side.tenant_rights(stage)
    fired = side.fired(stage, since)
    foreign = [found for found in side.foreign_owned(stage) if found not in owned_before]
    objects = side.inventory(stage)
    lost = [] if stage.deleted else sorted(name for name in objects_before if name not in objects)
    if operation == 'restore_new' and side.exists(stage.copy_name):
        lost += sorted('copy:' + name for name in objects_before
                       if not name.startswith('copy:') and 'copy:' + name not in objects)
    side.repair(world.users(stage.engine))
    outcome = dict(stage=stage.id, operation=operation, error=error, gains=attribute(stage, changes, fired),
                   fired=fired, foreign=foreign, lost=lost, seconds=time.time() - started)
    world.results.append(outcome)
    return outcome


@pytest.mark.parametrize('engine,backend,kind', STAGES, ids=['-'.join(stage) for stage in STAGES])
def test_traps_are_planted(world, engine, backend, kind):
    """Every trap a tenant can create is there; what the engine must refuse a tenant, it refused."""
    stage = world.stage(engine, backend, kind)
    wrong = ['%s: %s' % (trap.name, 'created' if trap.name in stage.created else stage.refused[trap.name])
             for trap in stage.traps if (trap.name in stage.refused) != trap.expect_refused]
    assert not wrong, 'traps not as expected (a refusal means the trap is broken; a creation, that the engine lets a' \
                      ' tenant do it): %s' % wrong
    left = marker_files(world.marker)
    assert not left, 'planting the traps wrote outside the tenant: %s' % left


@pytest.mark.parametrize('engine,backend,kind,operation', CASES, ids=['-'.join(case) for case in CASES])
def test_operation_gains_nothing(world, engine, backend, kind, operation):
    stage = world.stage(engine, backend, kind)
    outcome = attack(world, stage, operation)
    report = ['%s x %s gained: %s' % (operation, trap, '; '.join(what))
              for trap, what in sorted(outcome['gains'].items())]
    if outcome['foreign']:
        report.append('objects of the tenant now owned by someone else: %s' % '; '.join(outcome['foreign']))
    if outcome['fired'] and report:
        report.append('tenant code ran as someone else: %s'
                      % ', '.join('%s as %s (session %s)' % row for row in outcome['fired']))
    if outcome['error']:
        report.append('the operation failed: %s' % outcome['error'])
    assert not report, '\n'.join(report)
