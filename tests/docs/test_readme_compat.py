# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""README.md's compatibility table claims only what the tests run: each row is compared with what chooses the
versions (scripts/sanity.sh's defaults, the dev requirements and scripts/bootstrap.sh for the venv every other
gate runs in, the execution environment's definition, tests/config.yml and the Pythons sanity finds, the
servers the tests run on). Change a version there and this test names the row to change, and the other way
round."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

import yaml

from ansible_collections.wayscloud.databases.tests.docs.test_examples import ROOT
from ansible_collections.wayscloud.databases.tests.docs.test_readme_accounts import mdb_connect, pg_connect, readme, rows, section

ROWS = {
    'core': 'ansible-core on the controller',
    'controller': 'Python on the controller',
    'ee': 'execution environment',
    'host': 'Python on the database host',
    'postgresql': 'PostgreSQL',
    'mariadb': 'MariaDB',
}


def table():
    """The compatibility table's rows: first cell -> versions cell."""
    found = {}
    for line in section(readme(), '### Compatibility').splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0] in ROWS.values():
            found[cells[0]] = cells[1]
    assert sorted(found) == sorted(ROWS.values()), 'README.md ### Compatibility: rows %s' % sorted(found)
    return found


def versions(cell):
    return re.findall(r'\b\d+\.\d+\b', cell)


def source(*path):
    with open(os.path.join(ROOT, *path)) as handle:
        return handle.read()


def default(script, name):
    """A shell variable's default, as in NAME=${KNOB:-default}."""
    return re.search(r'^%s=\$\{[A-Z_]+:-(.*)\}$' % name, source('scripts', script), re.M).group(1)


def series(spec):
    """The one X.Y series a pip spec of ansible-core pins (>=X.Y,<X.Y+1), else a failure saying to pin it."""
    match = re.match(r'^ansible-core>=(\d+)\.(\d+)(?:\.0)?,<(\d+)\.(\d+)$', spec.strip())
    assert match and match.group(1) == match.group(3) and int(match.group(4)) == int(match.group(2)) + 1, (
        '%r is no single ansible-core series: the README can only name what a pin makes sure of' % spec)
    return '%s.%s' % match.group(1, 2)


def dev_requirement(name):
    lines = [line.split('#')[0].strip() for line in source('tests', 'requirements-dev.txt').splitlines()]
    return [line for line in lines if re.match(r'^%s\b' % re.escape(name), line)][0]


def ordered(found):
    return sorted(found, key=lambda version: tuple(int(part) for part in version.split('.')))


def interpreter(path):
    return re.search(r'python(\d+\.\d+)$', path).group(1)


def test_the_controllers_ansible_core_is_what_sanity_and_the_venv_run():
    oldest, newest = series(default('sanity.sh', 'CORE_OLD')), series(default('sanity.sh', 'CORE_NEW'))
    runtime = series(dev_requirement('ansible-core'))
    assert versions(table()[ROWS['core']]) == ordered({oldest, runtime, newest})
    required = yaml.safe_load(source('meta', 'runtime.yml'))['requires_ansible']
    assert re.match(r'^>=%s(\.0)?$' % re.escape(oldest), required), (required, oldest)


def test_the_controllers_python_is_what_sanity_and_the_venv_run():
    wanted = {interpreter(default('sanity.sh', 'PY_OLD')), interpreter(default('sanity.sh', 'PY_NEW')),
              interpreter(default('bootstrap.sh', 'PYTHON'))}
    assert set(versions(table()[ROWS['controller']])) == wanted


def test_the_execution_environment_pins_what_the_tests_run():
    ee = yaml.safe_load(source('execution-environment', 'execution-environment.yml'))['dependencies']
    assert ee['ansible_core']['package_pip'].replace(' ', '') == dev_requirement('ansible-core').replace(' ', '')
    python = interpreter(ee['python_interpreter']['python_path'])
    assert python == interpreter(default('bootstrap.sh', 'PYTHON'))
    assert versions(table()[ROWS['ee']]) == [series(ee['ansible_core']['package_pip']), python]


def test_the_host_python_is_what_sanity_compiles_and_imports_on():
    """From tests/config.yml's oldest to the newest Python sanity.sh finds (it runs compile and import on each)."""
    oldest = re.match(r'^>=(\d+\.\d+)$', yaml.safe_load(source('tests', 'config.yml'))['modules']['python_requires']).group(1)
    pyenv = os.environ.get('SANITY_PYENV_ROOT') or os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv')
    found = {interpreter(path) for path in glob.glob(os.path.join(pyenv, 'versions', '*', 'bin', 'python3.*'))
             if re.search(r'python\d+\.\d+$', path)}
    wanted = ordered(found)
    wanted = wanted[wanted.index(oldest):] if oldest in wanted else []
    assert wanted, 'no Python %s under %s: scripts/sanity.sh compiles and imports the modules with pyenv\'s' % (oldest, pyenv)
    claimed = versions(table()[ROWS['host']])
    assert claimed == wanted
    assert interpreter(default('bootstrap.sh', 'PYTHON')) in claimed  # where the modules run in every other gate


def test_the_servers_are_the_versions_claimed():
    connection = pg_connect()
    try:
        major = int(rows(connection, 'SHOW server_version_num')[0][0]) // 10000
    finally:
        connection.close()
    assert table()[ROWS['postgresql']] == str(major)
    assert re.search(r'/postgresql/%d/bin' % major, default('servers.sh', 'PG_BIN'))
    connection = mdb_connect()
    try:
        version = rows(connection, 'SELECT VERSION()')[0][0]
    finally:
        connection.close()
    assert table()[ROWS['mariadb']] == '.'.join(version.split('.')[:2]), version
