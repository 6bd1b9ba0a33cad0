# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as a user gets it: the tarball gate `galaxy` built (WAYSCLOUD_GALAXY_OUT), installed offline
the way README.md says, and README.md's first playbooks (through the API, on a host) run against the test servers
with nothing but that installed copy on the collections path (no PYTHONPATH, no source tree)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import stat
import subprocess
import sys
import tarfile

import pytest
import yaml

from ansible_collections.wayscloud.databases.tests.docs.test_examples import logins
from ansible_collections.wayscloud.databases.tests.environment import setting

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
SHIPPED = ('LICENSE', 'README.md', 'CHANGELOG.rst', 'requirements.txt', 'meta/runtime.yml', 'changelogs/changelog.yaml')
CLONE_ONLY = ('Makefile', 'scripts/')


def source_file(name):
    with open(os.path.join(ROOT, name)) as handle:
        return handle.read()


def readme_block(title):
    """The first ```yaml block of README.md's section ``title``."""
    text = source_file('README.md')
    start = text.index('\n%s\n' % title)
    return re.search(r'^```yaml\n(.*?)^```', text[start:], re.S | re.M).group(1)


@pytest.fixture(scope='module')
def tarball():
    found = glob.glob(os.path.join(setting('WAYSCLOUD_GALAXY_OUT'), 'wayscloud-databases-*.tar.gz'))
    assert len(found) == 1, found
    return found[0]


def users_env(collections):
    """The environment of a user who installed the collection into ``collections``: the source tree unreachable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'PYTHONPATH'))}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', PATH=BIN + os.pathsep + os.environ['PATH'])
    return env


def run(argv, env, cwd):
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert done.returncode == 0, done.stdout
    return done.stdout


@pytest.fixture(scope='module')
def installed(tarball, tmp_path_factory):
    """Installed offline through a requirements file naming the tarball, as README.md shows."""
    work = tmp_path_factory.mktemp('user')
    requirements = work / 'requirements.yml'
    requirements.write_text(yaml.safe_dump(dict(collections=[dict(name=tarball, type='file')])))
    collections = str(work / 'collections')
    env = users_env(collections)
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-r', str(requirements), '-p', collections],
        env, str(work))
    return dict(work=work, collections=collections, env=env)


def test_the_tarball_ships_the_license_and_release_files_and_leaves_the_clone_tools_out(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    for name in SHIPPED:
        assert name in names, name
    for name in CLONE_ONLY:
        assert not [n for n in names if n == name.rstrip('/') or n.startswith(name)], name
    with tarfile.open(tarball) as archive:
        license_text = archive.extractfile('LICENSE').read().decode()
    assert 'GNU GENERAL PUBLIC LICENSE' in license_text and 'Version 3, 29 June 2007' in license_text
    assert 'END OF TERMS AND CONDITIONS' in license_text


def test_installs_from_git_through_a_requirements_file(tmp_path):
    """README's git form, from the repository the gate built the tarball from (its last commit): the same
    collection, without the clone's tools."""
    source_tree = setting('WAYSCLOUD_GALAXY_SRC')
    commit = subprocess.check_output(['git', '-C', source_tree, 'rev-parse', 'HEAD'], universal_newlines=True).strip()
    requirements = tmp_path / 'requirements.yml'
    requirements.write_text(yaml.safe_dump(dict(collections=[dict(name='file://' + source_tree, type='git', version=commit)])))
    collections = str(tmp_path / 'collections')
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-r', str(requirements), '-p', collections],
        users_env(collections), str(tmp_path))
    installed = os.path.join(collections, 'ansible_collections', 'wayscloud', 'databases')
    with open(os.path.join(installed, 'MANIFEST.json')) as handle:
        version = json.load(handle)['collection_info']['version']
    assert version == yaml.safe_load(source_file('galaxy.yml'))['version']
    for name in SHIPPED:
        assert os.path.exists(os.path.join(installed, name)), name
    for name in CLONE_ONLY:
        assert not os.path.exists(os.path.join(installed, name)), name


def test_only_the_installed_copy_is_on_the_path(installed):
    listed = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', 'wayscloud.databases', '--format', 'json'],
                 installed['env'], str(installed['work']))
    assert list(json.loads(listed)) == [os.path.join(installed['collections'], 'ansible_collections')]
    where = run([sys.executable, '-c', 'import ansible_collections.wayscloud.databases as c; print(c.__path__)'],
                dict(installed['env'], PYTHONPATH=installed['collections']), str(installed['work']))
    assert ROOT not in where and installed['collections'] in where


def test_the_readmes_first_playbook_runs_from_the_installed_copy(installed):
    work = installed['work']
    (work / 'reports.yml').write_text(readme_block('### Through the API'))
    env = dict(installed['env'], WAYSCLOUD_API_URL=setting('WAYSCLOUD_API_URL'),
               WAYSCLOUD_API_KEY=setting('WAYSCLOUD_TEST_KEY_CUSTOMER'))
    playbook = [os.path.join(BIN, 'ansible-playbook'), 'reports.yml']
    try:
        first = run(playbook, env, str(work))
        assert re.search(r'ok=\d+\s+changed=2\b', first), first
        saved = glob.glob(str(work / 'cust_*_pg_reports.json'))
        assert len(saved) == 1, first
        assert stat.S_IMODE(os.stat(saved[0]).st_mode) == 0o600
        with open(saved[0]) as handle:
            credentials = json.load(handle)
        assert len(credentials['password']) == 32 and credentials['password'] not in first
        assert credentials['connection_string'] in first and ' MB, ' in first

        again = run(playbook, env, str(work))
        assert re.search(r'ok=\d+\s+changed=0\b', again), again
    finally:
        delete = [dict(db_type='postgresql', name=os.path.basename(path)[:-len('.json')], state='absent')
                  for path in glob.glob(str(work / 'cust_*_pg_reports.json'))]
        cleanup = [dict(hosts='localhost', gather_facts=False,
                        tasks=[{'wayscloud.databases.wayscloud_database': args} for args in delete])]
        (work / 'cleanup.yml').write_text(yaml.safe_dump(cleanup))
        run([os.path.join(BIN, 'ansible-playbook'), 'cleanup.yml'], env, str(work))


def test_the_readmes_host_playbook_runs_from_the_installed_copy(installed, tmp_path):
    """As written, with only where the test servers are added: db1 is this machine (already root, so no become),
    the engines' sockets and ports, a catalog of the test's own and no packet filter (pg_hba.conf alone)."""
    work = installed['work']
    play = yaml.safe_load(readme_block('### On a host'))
    defaults = play[0]['module_defaults']['group/wayscloud.databases.all']
    assert defaults == dict(backend='host'), defaults
    defaults.update(logins=logins(), state_dir=str(tmp_path / 'state'), firewall_driver='none')
    (work / 'shop.yml').write_text(yaml.safe_dump(play, sort_keys=False))
    (work / 'inventory').write_text('db1 ansible_connection=local ansible_become=false\n')
    playbook = [os.path.join(BIN, 'ansible-playbook'), '-i', 'inventory', 'shop.yml']
    try:
        first = run(playbook, installed['env'], str(work))
        assert re.search(r'db1 +: ok=4 +changed=3 .* failed=0 +skipped=0\b', first), first
        saved = work / 'cust_6dd1d906_pg_webapp_prod_db.json'
        assert stat.S_IMODE(os.stat(str(saved)).st_mode) == 0o600 and len(json.loads(saved.read_text())['password']) == 32
        again = run(playbook, installed['env'], str(work))
        assert re.search(r'db1 +: ok=3 +changed=0 .* failed=0 +skipped=1\b', again), again
    finally:
        play[0]['tasks'] = [{'wayscloud.databases.wayscloud_database': dict(
            db_type='postgresql', name='cust_6dd1d906_pg_webapp_prod_db', state='absent')}]
        (work / 'shop.yml').write_text(yaml.safe_dump(play, sort_keys=False))
        run(playbook, installed['env'], str(work))
