# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The servers are the truth: what someone changed by hand on a server or a host is seen by the next task's plan
(a read: nothing changes), named, and repaired by its writes; the task after that finds nothing to do.

Layers here: connection limits (every place they live), owners, PostgreSQL's comment, and the files of the
schedules and of the runner. A module's plan asks ``drift`` (databases) or ``plan`` (schedules) and, when they
answer something, calls ``update`` or ``set``: these tests do the same.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backup_policy import HostBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.host.collector import HostCollector
from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import quote_grant_database
from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import entry_path, runner_dir
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import database_changes

from commands import run
from test_backups import POLICY
from test_databases import create

NOBODY = 65534


def by_hand(databases, statements, identifiers=(), values=()):
    """One statement as an administrator would type it: ``statements[db_type]``, PostgreSQL's with {} for
    ``identifiers``, MariaDB's with the user as the first of ``values``."""
    driver = databases.driver
    if databases.db_type == 'postgresql':
        driver.execute(driver.sql(statements['postgresql'], *identifiers), values or None, log=False)
    else:
        driver.execute(statements['mariadb'], values or None, log=False)


def limit_by_hand(databases, db_name, place, limit):
    """PostgreSQL: the database's (``place`` primary) or the role's limit; MariaDB: the localhost account's
    (primary) or the 127.0.0.1 one's."""
    by_hand(databases, dict(postgresql='ALTER %s {} WITH CONNECTION LIMIT %%s' % ('DATABASE' if place == 'primary'
                                                                                  else 'ROLE'),
                            mariadb='ALTER USER %s@%s WITH MAX_USER_CONNECTIONS %s'),
            [db_name], (db_name, 'localhost' if place == 'primary' else '127.0.0.1', limit)
            if databases.db_type == 'mariadb' else (limit,))


def converge(databases, db_name, wanted):
    """A wayscloud_database task with ``wanted``: (what its plan found to repair, what the next plan finds)."""
    before = databases.get(db_name)
    drift = databases.drift(before, wanted)
    changes = dict(database_changes(before, wanted), **dict((field, wanted[field]) for field in drift if field in wanted))
    assert databases.get(db_name) == before and databases.drift(before, wanted) == drift  # the plan changed nothing
    if changes or drift:
        databases.update(db_name, changes)
    after = databases.get(db_name)
    return drift, databases.drift(after, wanted), database_changes(after, wanted)


def test_a_limit_changed_by_hand_in_any_place_is_repaired(engine):
    databases, state_dir = engine
    db_name = create(databases, 'limits', connection_limit=20)[0]['db_name']
    wanted = dict(connection_limit=20, description=None)
    # PostgreSQL: only the owner role's limit; MariaDB: only one account's (not the one the database shows).
    limit_by_hand(databases, db_name, 'other', 70)
    place = 'role %s' % db_name if databases.db_type == 'postgresql' else "account '%s'@'127.0.0.1'" % db_name
    assert databases.get(db_name)['connection_limit'] == 20  # what the database shows did not move
    assert converge(databases, db_name, wanted) == ({'connection_limit': {place: 70}}, {}, {})
    assert set(databases.driver.kept_settings(db_name)['connection_limit'].values()) == set([20])
    # The place the database shows: an ordinary difference, every place set again.
    limit_by_hand(databases, db_name, 'primary', 30)
    assert databases.get(db_name)['connection_limit'] == 30
    assert converge(databases, db_name, wanted) == ({}, {}, {})
    assert set(databases.driver.kept_settings(db_name)['connection_limit'].values()) == set([20])
    # A limit the task does not manage is left alone.
    limit_by_hand(databases, db_name, 'other', 70)
    assert databases.drift(databases.get(db_name), dict(connection_limit=None, description=None)) == {}


def test_a_comment_changed_by_hand_gets_the_declared_description_back(engine):
    databases, state_dir = engine
    db_name = create(databases, 'comment', description='the shop')[0]['db_name']
    wanted = dict(connection_limit=None, description='the shop')
    if databases.db_type == 'mariadb':  # no comment on a MariaDB database: the catalog alone keeps it
        assert converge(databases, db_name, wanted) == ({}, {}, {})
        return
    comment = dict(postgresql='COMMENT ON DATABASE {} IS %s')
    by_hand(databases, comment, [db_name], ('edited by hand',))
    found = converge(databases, db_name, wanted)
    assert found == ({'description': {'comment on database %s' % db_name: 'edited by hand'}}, {}, {})
    assert databases.driver.read_database(db_name)['comment'] == 'the shop'
    # Not declared: the comment is not the task's business.
    by_hand(databases, comment, [db_name], ('edited by hand',))
    assert databases.drift(databases.get(db_name), dict(connection_limit=None, description=None)) == {}


def test_an_owner_changed_by_hand_is_given_back(engine):
    """Even to the user of another tenant: the catalog's user owns the database again, the other one nothing."""
    databases, state_dir = engine
    db_name = create(databases, 'owned')[0]['db_name']
    other = create(databases, 'intruder')[0]['db_name']
    wanted = dict(connection_limit=None, description=None)
    grants = quote_grant_database(db_name)
    by_hand(databases, dict(postgresql='ALTER DATABASE {} OWNER TO {}',
                            mariadb="REVOKE DELETE, DROP ON %s.* FROM %%s@'localhost'" % grants), [db_name, other],
            () if databases.db_type == 'postgresql' else (db_name,))
    if databases.db_type == 'postgresql':
        assert databases.driver.read_database(db_name)['owner'] == other
        drift = {'owner': {'owner of database %s' % db_name: other}}
    else:
        by_hand(databases, dict(mariadb="REVOKE ALL PRIVILEGES ON %s.* FROM %%s@'::1'" % grants), values=(db_name,))
        drift = {'owner': {"privileges of '%s'@'localhost' on %s" % (db_name, db_name): 'lacks delete, drop',
                           "privileges of '%s'@'::1' on %s" % (db_name, db_name): 'none'}}
    assert converge(databases, db_name, wanted) == (drift, {}, {})
    if databases.db_type == 'postgresql':
        assert databases.driver.read_database(db_name)['owner'] == db_name
    assert databases.driver.owner_drift(db_name, db_name) == {}
    assert databases.driver.owner_drift(other, other) == {}


def test_an_owner_that_cannot_be_given_back_is_refused(engine):
    """A catalog naming another customer's user would hand the database to that tenant; a user dropped by hand has
    no password anyone knows. Both are refused by the plan and by the writes, and nothing changes."""
    databases, state_dir = engine
    db_name = create(databases, 'refused')[0]['db_name']
    wanted = dict(connection_limit=None, description=None)
    stranger = db_name.replace('cust_engtest_', 'cust_other_')
    with databases.catalog.transaction() as conn:
        conn.execute('UPDATE databases SET username = ? WHERE db_name = ?', (stranger, db_name))
    for attempt in (lambda: databases.drift(databases.get(db_name), wanted), lambda: databases.update(db_name, {})):
        with pytest.raises(BackendError, match='names %s as the user of .* which is not a user of customer engtest'
                           % stranger):
            attempt()
    assert databases.driver.owner_drift(db_name, db_name) == {}
    with databases.catalog.transaction() as conn:
        conn.execute('UPDATE databases SET username = ? WHERE db_name = ?', (db_name, db_name))
    if databases.db_type == 'postgresql':  # a role that owns a database cannot be dropped
        by_hand(databases, dict(postgresql='ALTER DATABASE {} OWNER TO {}'),
                [db_name, databases.driver.login.user or 'postgres'])
    databases.driver.drop_user(db_name)
    gone = 'user %s of %s database %s no longer exists' % (db_name, databases.db_type, db_name)
    with pytest.raises(BackendError, match=gone):
        databases.drift(databases.get(db_name), wanted)


def states(paths):
    """(content, mode, owner) of each path (None when missing): to show a plan touched nothing."""
    found = {}
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            found[path] = None
            continue
        content = open(path).read() if stat.S_ISREG(info.st_mode) else os.readlink(path)
        found[path] = (content, stat.S_IMODE(info.st_mode), info.st_uid)
    return found


def repaired(plan, apply, paths):
    """Plan (nothing may move), apply, plan again: (what the first plan named, what the second one names)."""
    before = states(paths)
    named = plan()
    assert states(paths) == before
    if named:
        apply()
    return named, plan()


EDITS = [
    # (file, what is done to it by hand, what the plan calls it)
    ('schedule', lambda path: open(path, 'a').write('* * * * * root /tmp/evil\n'), 'edited'),
    ('schedule', os.unlink, 'missing'),
    ('schedule', lambda path: os.chmod(path, 0o666), 'mode 0666'),
    ('schedule', lambda path: (os.unlink(path), os.symlink('/dev/null', path)), 'not a regular file'),
    ('backup script', lambda path: os.chmod(path, 0o755), 'mode 0755'),
    ('collect script', lambda path: open(path, 'a').write('import os\n'), 'edited'),
    ('login', lambda path: os.chmod(path, 0o644), 'mode 0644'),
    ('login', lambda path: os.chown(path, NOBODY, -1), 'owner uid %d' % NOBODY),
    ('lib', lambda path: open(path, 'a').write('\n'), '1 of '),
]


def edit_paths(state_dir, db_type, schedule_path):
    lib = os.path.join(runner_dir(state_dir), 'lib')
    return {'schedule': schedule_path, 'backup script': entry_path(state_dir, 'wayscloud-backup'),
            'collect script': entry_path(state_dir, 'wayscloud-collect'),
            'login': os.path.join(runner_dir(state_dir), 'login-%s.json' % db_type),
            'lib': os.path.join(lib, 'ansible_collections/wayscloud/databases/plugins/module_utils/host/jobs.py')}, lib


@pytest.mark.parametrize('what, edit, named', EDITS, ids=['%s %s' % (what, named.strip()) for what, edit, named in EDITS])
def test_a_backup_schedule_or_runner_changed_by_hand_is_repaired(engine, tmp_path, what, edit, named):
    databases, state_dir = engine
    db_name = create(databases, 'sched')[0]['db_name']
    backups = HostBackupPolicy(databases, Schedule(run, driver='cron', cron_dir=str(tmp_path / 'cron.d')))
    backups.set(db_name, POLICY)
    paths, lib = edit_paths(state_dir, databases.db_type, backups.schedule_files(db_name)[0])
    edit(paths[what])
    shown = lib if what == 'lib' else paths[what]
    found, again = repaired(lambda: backups.plan(db_name, POLICY)[1], lambda: backups.set(db_name, POLICY),
                            list(paths.values()))
    assert list(found) == ['files'] and list(found['files']) == [shown], found
    assert found['files'][shown][0].startswith(named)
    assert again == {}
    assert states([paths[what]])[paths[what]][1:] == ((0o644, 0o700, 0o700, 0o600, 0o600)[
        ['schedule', 'backup script', 'collect script', 'login', 'lib'].index(what)], os.geteuid())


def test_a_disabled_policy_takes_away_a_schedule_put_back_by_hand(engine, tmp_path):
    databases, state_dir = engine
    db_name = create(databases, 'unsched')[0]['db_name']
    backups = HostBackupPolicy(databases, Schedule(run, driver='cron', cron_dir=str(tmp_path / 'cron.d')))
    off = dict(POLICY, enabled=False)
    backups.set(db_name, POLICY)
    path = backups.schedule_files(db_name)[0]
    saved = open(path).read()
    backups.set(db_name, off)
    with open(path, 'w') as handle:
        handle.write(saved)
    assert repaired(lambda: backups.plan(db_name, off)[1], lambda: backups.set(db_name, off), [path]) == (
        {'files': {path: ('present', 'removed')}}, {})
    assert not os.path.exists(path)


@pytest.mark.parametrize('what, edit, named', EDITS, ids=['%s %s' % (what, named.strip()) for what, edit, named in EDITS])
def test_the_collectors_schedule_or_runner_changed_by_hand_is_repaired(engine, tmp_path, what, edit, named):
    databases, state_dir = engine
    collector = HostCollector(databases, Schedule(run, driver='cron', cron_dir=str(tmp_path / 'cron.d')))
    collector.set(True, 9)
    paths, lib = edit_paths(state_dir, databases.db_type, collector.schedule_files()[0])
    edit(paths[what])
    shown = lib if what == 'lib' else paths[what]
    found, again = repaired(lambda: collector.plan(True, 9), lambda: collector.set(True, 9), list(paths.values()))
    assert list(found) == [shown] and found[shown][0].startswith(named), found
    assert again == {}
    # Removing it takes away a schedule put back by hand too.
    collector.set(False)
    with open(paths['schedule'], 'w') as handle:
        handle.write('by hand\n')
    assert repaired(lambda: collector.plan(False), lambda: collector.set(False), [paths['schedule']]) == (
        {paths['schedule']: ('present', 'removed')}, {})
