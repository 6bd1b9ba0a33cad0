# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""README's development table names what the Makefile and scripts/test.sh have: each `make` target it names exists
and runs only gates `make test` runs, every gate it names is one of those, and `make test` runs them in two lanes
with folders (servers) of their own, with the logs where it says."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.wayscloud.databases.tests.docs.test_examples import ROOT


def read(*path):
    with open(os.path.join(ROOT, *path)) as handle:
        return handle.read()


def table():
    """{first cell: second cell} of the README's development table."""
    section = read('README.md').split('## Development', 1)[1].split('\n\n', 2)[1]
    return dict(re.match(r'\| (.*?) \| (.*) \|$', line).groups() for line in section.splitlines()[2:])


def make_targets():
    """{target: its recipe} of the Makefile."""
    return dict((name, recipe) for name, recipe in re.findall(r'^([a-z-]+):[^\n]*\n((?:\t[^\n]*\n)*)', read('Makefile'), re.M))


def all_gates():
    return re.search(r'^GATES=\$\{GATES:-([^}]*)\}', read('scripts', 'test.sh'), re.M).group(1).split()


def test_each_make_target_the_table_names_exists_and_runs_only_gates_make_test_runs():
    targets, gates = make_targets(), all_gates()
    named = [re.match(r'`make ([a-z-]+)`', cell).group(1) for cell in table() if cell.startswith('`make ')]
    assert named and set(named) <= set(targets), (named, sorted(targets))
    assert targets['test'].strip() == 'scripts/test.sh'
    for name in named:
        asked = re.search(r'GATES="?([a-z -]+)"? scripts/test.sh', targets[name])
        assert asked is None or set(asked.group(1).split()) <= set(gates), (name, targets[name])


def test_each_gate_the_table_names_is_one_make_test_runs():
    gates = all_gates()
    named = [re.match(r'([a-z-]+) gate$', cell).group(1) for cell in table() if cell.endswith(' gate')]
    named += re.findall(r'`([a-z-]+)` builds the tarball', ' '.join(table().values()))
    assert named and set(named) <= set(gates), (named, gates)


def test_make_test_runs_two_lanes_with_servers_of_their_own_and_logs_where_it_says():
    said = table()['`make test`']
    assert 'in two lanes at once' in said and '`WAYSCLOUD_TEST_LANES=1` for one after another' in said
    script = read('scripts', 'test.sh')
    assert '"${WAYSCLOUD_TEST_LANES:-2}" -gt 1' in script and 'lanes=("" "")' in script
    assert 'WAYSCLOUD_TEST_WORK=$WORK/lane-$k' in script  # each lane's servers, OpenBao and API server in its own folder
    logs = re.search(r'logs in `([^`]+)`', said).group(1)
    assert 'WORK=${WAYSCLOUD_TEST_WORK:-%s}' % os.path.dirname(logs) in script and 'LOGS=${WAYSCLOUD_TEST_LOGS:-$WORK/logs}' in script
