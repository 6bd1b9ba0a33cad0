# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The suite's figure: traps x operations per engine, backend and database, and the privilege gained (must be 0),
as JSON in $WAYSCLOUD_TENANT_FIGURES/tenant.json (scripts/test.sh prints it at the end of the gate's log)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import json
import os
import tempfile


def summary(world):
    stages = collections.OrderedDict()
    for stage in world.stages.values():
        outcomes = [outcome for outcome in world.results if outcome['stage'] == stage.id]
        gained = ['%s x %s: %s' % (outcome['operation'], trap, '; '.join(what))
                  for outcome in outcomes for trap, what in sorted(outcome['gains'].items())]
        stages[stage.id] = dict(
            traps=len(stage.created), operations=len(outcomes), cases=len(stage.created) * len(outcomes),
            privilege_gained=len(gained), gained=gained,
            operations_failed=dict((o['operation'], o['error']) for o in outcomes if o['error']),
            foreign_owned=dict((o['operation'], o['foreign']) for o in outcomes if o['foreign']),
            ran_as_someone_else=dict((o['operation'], ['%s as %s (session %s)' % row for row in o['fired']])
                                     for o in outcomes if o['fired']),
            objects_lost=dict((o['operation'], o['lost']) for o in outcomes if o['lost']),
            not_creatable=dict(stage.refused),
            seconds=round(sum(o['seconds'] for o in outcomes), 1))
    return dict(privilege_gained=sum(s['privilege_gained'] for s in stages.values()),
                cases=sum(s['cases'] for s in stages.values()),
                operations_failed=sum(len(s['operations_failed']) for s in stages.values()),
                foreign_owned=sum(len(s['foreign_owned']) for s in stages.values()),
                by_stage=stages)


def write(world):
    folder = os.environ.get('WAYSCLOUD_TENANT_FIGURES') or tempfile.mkdtemp(prefix='wayscloud-tenant-figures-')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'tenant.json'), 'w') as handle:
        json.dump(summary(world), handle, indent=1, sort_keys=True)
