# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the README says about accounts, grants and passwords, each sentence next to the check of what a run
leaves on the servers.

Plays (the docs harness's, backend host) create two PostgreSQL databases and a MariaDB one, add a firewall
rule, and delete them; between the steps the test reads the servers as their administrator: pg_authid,
pg_database, pg_auth_members, the collection's block of pg_hba.conf and pg_hba_file_rules, mysql.user,
SHOW GRANTS, and tries to log in. Each claim quotes README.md word for word (line breaks aside): reword the
sentence and its check no longer finds it; change what the code makes and the check fails. Every sentence of
the README's "What a database is on a host" that speaks of accounts, grants, users or passwords must be
quoted here, so a new claim there needs its check.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import re

import pytest

from ansible_collections.wayscloud.databases.tests.docs.test_examples import ROOT, run_play
from ansible_collections.wayscloud.databases.tests.environment import setting

PG, OTHER, MDB = 'cust_readme_pg_claims', 'cust_readme_pg_other', 'cust_readme_mdb_claims'
RULE = '198.51.100.7'
LIMIT, DESCRIPTION = 15, 'README claims'
SECTION = '### What a database is on a host'
TOPICS = re.compile(r'\b(accounts?|grants?|privileges?|owns?|owner|users?|connect|passwords?|login|roles?|reject)\b', re.I)


def flat(text):
    return ' '.join(text.split())


def readme():
    with open(os.path.join(ROOT, 'README.md')) as handle:
        return handle.read()


def section(text, title):
    start = text.index(title) + len(title)
    end = text.find('\n#', start)
    return text[start:end if end >= 0 else len(text)]


# ---------------------------------------------------------------- reading the servers as their administrator

def pg_connect(dbname='postgres', user='postgres', password=None, tcp=False):
    import psycopg2
    return psycopg2.connect(host='127.0.0.1' if tcp else setting('WAYSCLOUD_PG_SOCKET_DIR'), port=int(setting('WAYSCLOUD_PG_PORT')),
                            user=user, password=password, dbname=dbname, connect_timeout=5)


def mdb_connect(user='root', password=None, tcp=False, database=None):
    import pymysql
    where = dict(host='127.0.0.1', port=int(setting('WAYSCLOUD_MDB_PORT'))) if tcp else dict(unix_socket=setting('WAYSCLOUD_MDB_SOCKET'))
    return pymysql.connect(user=user, password=password or '', database=database, connect_timeout=5, **where)


def rows(connection, query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def refusal(connect):
    """The server's refusal of a login, or None when it let the user in."""
    try:
        connect().close()
    except Exception as exc:  # psycopg2 and PyMySQL errors alike
        return str(exc)
    return None


def look():
    """What the servers hold now for the test's databases and users."""
    pg, mdb = pg_connect(), mdb_connect()
    try:
        seen = dict(roles={}, databases={}, groups={}, accounts={}, grants={})
        for name in (PG, OTHER):
            for row in rows(pg, 'SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,'
                                ' rolconnlimit, rolpassword FROM pg_authid WHERE rolname = %s', (name,)):
                seen['roles'][name] = dict(zip(('login', 'superuser', 'createdb', 'createrole', 'replication', 'bypassrls',
                                                'limit', 'password'), row))
            for row in rows(pg, "SELECT pg_get_userbyid(datdba), datconnlimit, shobj_description(oid, 'pg_database'),"
                                " has_database_privilege('public', oid, 'CONNECT'), has_database_privilege('public', oid, 'TEMP')"
                                ' FROM pg_database WHERE datname = %s', (name,)):
                seen['databases'][name] = dict(zip(('owner', 'limit', 'comment', 'public_connect', 'public_temp'), row))
            seen['groups'][name] = sorted(group for (group,) in rows(
                pg, 'SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid'
                    ' JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s', (name,)))
        seen['maintenance'] = rows(pg, "SELECT datname, datacl::text FROM pg_database WHERE datname IN ('postgres', 'template1')"
                                       ' ORDER BY 1')
        with open(rows(pg, 'SHOW hba_file')[0][0]) as handle:
            lines = handle.read().splitlines()
        begin = [number for number, line in enumerate(lines) if line.startswith('# BEGIN wayscloud.databases')]
        seen['block'] = lines[begin[0] + 1:lines.index('# END wayscloud.databases')] if begin else []
        seen['hba_rules'] = rows(pg, "SELECT database, user_name, address, auth_method FROM pg_hba_file_rules"
                                     " WHERE type = 'host' AND error IS NULL")
        seen['accounts'] = dict((host, dict(plugin=plugin, hash=authentication, limit=int(limit)))
                                for host, plugin, authentication, limit in rows(
                                    mdb, 'SELECT Host, plugin, authentication_string, max_user_connections FROM mysql.user'
                                         ' WHERE User = %s', (MDB,)))
        for host in seen['accounts']:
            seen['grants'][host] = sorted(grant for (grant,) in rows(mdb, 'SHOW GRANTS FOR %s@%s', (MDB, host)))
        seen['charset'] = rows(mdb, 'SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA'
                                    ' WHERE SCHEMA_NAME = %s', (MDB,))
        return seen
    finally:
        pg.close()
        mdb.close()


# ---------------------------------------------------------------- the runs

def database(db_type, name, **more):
    requested = name.split('_', 3)[3]
    options = dict(backend='host', db_type=db_type, customer_id='readme', requested_name=requested, **more)
    return {'wayscloud.databases.wayscloud_database': options}


def made_and_kept(tmp_path):
    """Create the three databases and keep their results (passwords) in a 0600 file of the test's own."""
    kept = str(tmp_path / 'made.json')
    tasks = []
    for number, (db_type, name) in enumerate((('postgresql', PG), ('postgresql', OTHER), ('mariadb', MDB))):
        task = database(db_type, name, connection_limit=LIMIT, description=DESCRIPTION)
        tasks.append(dict(task, register='made%d' % number, no_log=True))
    tasks.append({'ansible.builtin.copy': dict(content='{{ [made0, made1, made2] | to_json }}', dest=kept, mode='0600'),
                  'no_log': True})
    return tasks, kept


def rule(db_type, name):
    options = dict(backend='host', db_type=db_type, name=name, rules=[dict(ip_address=RULE)], purge=True)
    return {'wayscloud.databases.wayscloud_database_firewall': options}


def deleted(db_type, name):
    return {'wayscloud.databases.wayscloud_database': dict(backend='host', db_type=db_type, name=name, state='absent')}


@pytest.fixture(scope='module')
def servers(tmp_path_factory):
    """What the servers hold before the run, after the creation, after the rule and after the deletion."""
    tmp_path = tmp_path_factory.mktemp('readme')

    def play(tasks):
        done = run_play(tasks, tmp_path / 'plays')
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1500:]

    everything = [('postgresql', PG), ('postgresql', OTHER), ('mariadb', MDB)]
    play([deleted(db_type, name) for db_type, name in everything])
    seen = dict(before=look())
    tasks, kept = made_and_kept(tmp_path)
    play(tasks)
    with open(kept) as handle:
        made = json.load(handle)
    passwords = dict((result['database']['db_name'], result['password']) for result in made)
    seen['created'] = look()
    play([rule('postgresql', PG), rule('mariadb', MDB)])
    seen['ruled'] = look()
    seen['logins'] = dict(
        pg_own_tcp=refusal(lambda: pg_connect(PG, PG, passwords[PG], tcp=True)),
        pg_postgres_tcp=refusal(lambda: pg_connect('postgres', PG, passwords[PG], tcp=True)),
        pg_template1_tcp=refusal(lambda: pg_connect('template1', PG, passwords[PG], tcp=True)),
        pg_other_tcp=refusal(lambda: pg_connect(OTHER, PG, passwords[PG], tcp=True)),
        pg_own_socket=refusal(lambda: pg_connect(PG, PG)),
        pg_other_socket=refusal(lambda: pg_connect(OTHER, PG)),
        mdb_own_tcp=refusal(lambda: mdb_connect(MDB, passwords[MDB], tcp=True, database=MDB)))
    sessions = [pg_connect(PG, PG, passwords[PG], tcp=True), mdb_connect(MDB, passwords[MDB], tcp=True, database=MDB)]
    play([deleted(db_type, name) for db_type, name in everything])
    seen['deleted'] = look()
    seen['sessions_after_deletion'] = [refusal(lambda: rows(session, 'SELECT 1')) for session in sessions]
    for session in sessions:
        try:
            session.close()
        except Exception:  # already ended by the deletion, as it should be
            pass
    seen['passwords'] = passwords
    return seen


# ---------------------------------------------------------------- the claims, as README.md words them

CLAIMS = []


def claim(sentence):
    def register(check):
        CLAIMS.append((sentence, check))
        return check
    return register


@claim("the user has the same name.")
def same_name(seen):
    assert sorted(seen['created']['roles']) == sorted([PG, OTHER])  # roles named like the databases
    assert seen['created']['accounts'] and seen['created']['charset']  # accounts of user MDB, database MDB


@claim("PostgreSQL: the user owns the database.")
def pg_owner(seen):
    assert [seen['created']['databases'][name]['owner'] for name in (PG, OTHER)] == [PG, OTHER]


@claim("It is a `LOGIN` role that is not a superuser and may not create databases or roles, replicate or bypass"
       " row-level security, and a member of `wayscloud_tenants` and of no other role.")
def pg_role(seen):
    role = seen['created']['roles'][PG]
    assert (role['login'], role['superuser'], role['createdb'], role['createrole'], role['replication'],
            role['bypassrls']) == (True, False, False, False, False, False)
    assert seen['created']['groups'][PG] == ['wayscloud_tenants']


@claim("`CONNECT` and `TEMP` are revoked from `PUBLIC`, so other customers' users cannot connect.")
def pg_public(seen):
    database = seen['created']['databases'][PG]
    assert (database['public_connect'], database['public_temp']) == (False, False)
    # over the socket the test server trusts every user: only the missing CONNECT right keeps it out
    assert 'CONNECT' in (seen['logins']['pg_other_socket'] or ''), seen['logins']['pg_other_socket']


@claim("The connection limit is set on the database and the role; the description is also the database's comment.")
def pg_limit_and_comment(seen):
    assert seen['created']['databases'][PG]['limit'] == LIMIT
    assert seen['created']['roles'][PG]['limit'] == LIMIT
    assert seen['created']['databases'][PG]['comment'] == DESCRIPTION


@claim("MariaDB: a `utf8mb4` database.")
def mdb_charset(seen):
    assert [tuple(row) for row in seen['created']['charset']] == [('utf8mb4',)]


@claim("Its user has three local accounts, `'name'@'localhost'`, `'name'@'127.0.0.1'` and `'name'@'::1'`, and one"
       " more per firewall rule, `'name'@'<address>'`; there is never a `'name'@'%'`.")
def mdb_accounts(seen):
    assert sorted(seen['created']['accounts']) == ['127.0.0.1', '::1', 'localhost']
    assert sorted(seen['ruled']['accounts']) == ['127.0.0.1', '198.51.100.7', '::1', 'localhost']


@claim("Every account has the same password and all privileges on that database only (the `_` in its name is"
       " escaped in the grant, so it cannot match other databases), and the connection limit as its"
       " `MAX_USER_CONNECTIONS`.")
def mdb_grants(seen):
    accounts = seen['ruled']['accounts']
    assert len(set(account['hash'] for account in accounts.values())) == 1
    assert set(account['limit'] for account in accounts.values()) == set([LIMIT])
    escaped = MDB.replace('_', '\\_')
    for host, grants in seen['ruled']['grants'].items():
        assert len(grants) == 2 and grants[1].startswith("GRANT USAGE ON *.* TO `%s`@`%s`" % (MDB, host)), grants
        assert grants[0] == "GRANT ALL PRIVILEGES ON `%s`.* TO `%s`@`%s`" % (escaped, MDB, host), grants


@claim("Passwords: 32 random letters and digits")
def password_form(seen):
    assert all(re.fullmatch('[A-Za-z0-9]{32}', password) for password in seen['passwords'].values())
    assert len(set(seen['passwords'].values())) == 3


@claim("sent to the server only as a SCRAM-SHA-256 verifier (PostgreSQL) or a `mysql_native_password` hash (MariaDB)")
def password_storage(seen):
    assert seen['created']['roles'][PG]['password'].startswith('SCRAM-SHA-256$4096:')
    password = seen['passwords'][MDB].encode()
    native = '*' + hashlib.sha1(hashlib.sha1(password).digest()).hexdigest().upper()
    assert all(account == dict(plugin='mysql_native_password', hash=native, limit=LIMIT)
               for account in seen['ruled']['accounts'].values())
    assert seen['logins']['pg_own_tcp'] is None and seen['logins']['mdb_own_tcp'] is None  # and the password works


@claim("`state: absent` terminates sessions, drops the database and (unless `drop_user: false`, or a copy restored from"
       " its snapshots still uses it) the user.")
def deletion(seen):
    """No copy here; the copy's case is tests/api_server/test_limits.py's and the snapshot target's."""
    gone = seen['deleted']
    assert (gone['roles'], gone['databases'], gone['accounts'], list(gone['charset'])) == ({}, {}, {}, [])
    assert all(seen['sessions_after_deletion']), 'a session of a deleted database is still open'


@claim("PostgreSQL over TCP: a customer's user reaches its own database only; the block rejects it for every other"
       " database, the maintenance databases `postgres` and `template1` included.")
def pg_tcp(seen):
    logins = seen['logins']
    assert logins['pg_own_tcp'] is None
    for name in ('pg_postgres_tcp', 'pg_template1_tcp', 'pg_other_tcp'):
        assert 'pg_hba.conf rejects connection' in (logins[name] or ''), (name, logins[name])


@claim("Over the local socket the server's own `pg_hba.conf` lines decide, and the collection leaves `PUBLIC`'s"
       " `CONNECT` on `postgres` and `template1` as it is: the DBA revokes it (the `db_server` role does).")
def pg_socket(seen):
    assert not [line for line in seen['ruled']['block'] if line.startswith('local') and PG in line]
    assert seen['logins']['pg_own_socket'] is None  # the test server's own line: local all all trust
    assert seen['before']['maintenance'] == seen['deleted']['maintenance']
    with open(os.path.join(ROOT, 'roles', 'db_server', 'tasks', 'main.yml')) as handle:
        assert 'REVOKE CONNECT ON DATABASE postgres FROM PUBLIC; REVOKE CONNECT ON DATABASE template1 FROM PUBLIC' in handle.read()


@claim("a `pg_hba.conf` block the collection owns, reloaded;")
def pg_block(seen):
    assert ('host "%s" "%s" %s/32 scram-sha-256' % (PG, PG, RULE)) in seen['ruled']['block']
    assert [PG] in [list(database) for database, users, address, method in seen['ruled']['hba_rules'] if address == RULE]


@claim("MariaDB accounts `<user>@<address>`).")
def mdb_rule_account(seen):
    assert RULE in seen['ruled']['accounts'] and RULE not in seen['created']['accounts']


@claim("Database users have local accounts only (`localhost`, `127.0.0.1`, `::1`) until a rule adds one, so an"
       " allowed address reaches only its own database as its own user.")
def local_until_a_rule(seen):
    assert sorted(seen['created']['accounts']) == ['127.0.0.1', '::1', 'localhost']
    own = [line for line in seen['created']['block'] if line.split()[1:2] == ['"%s"' % PG]]
    admitted = [line.split()[3] for line in own if '"%s"' % PG in line.split()[2].split(',')
                and line.endswith('scram-sha-256')]
    assert sorted(admitted) == ['127.0.0.1/32', '::1/128'], own
    with_rule = [line for line in seen['ruled']['block'] if RULE in line]
    assert with_rule == ['host "%s" "%s" %s/32 scram-sha-256' % (PG, PG, RULE)], with_rule


@claim("On PostgreSQL every customer database's owner is a member of the role `wayscloud_tenants`, which the"
       " block's last line rejects over TCP: a database is closed from the moment it exists, and its own lines are"
       " written as it is created.")
def closed_from_the_start(seen):
    block = seen['created']['block']
    assert block[-1:] == ['host all +wayscloud_tenants all reject']
    own = [line for line in block if line.split()[1:2] == ['"%s"' % PG]]
    assert own[-1:] == ['host "%s" all all reject' % PG], own
    assert all(seen['created']['groups'][name] == ['wayscloud_tenants'] for name in (PG, OTHER))


@pytest.mark.parametrize('sentence, check', CLAIMS, ids=[check.__name__ for sentence, check in CLAIMS])
def test_the_readme_says_what_the_servers_hold(servers, sentence, check):
    said = flat(sentence) in flat(readme())
    assert said, 'README.md no longer says: %s' % sentence
    check(servers)


def test_every_readme_sentence_about_accounts_is_checked():
    """What is left of the section once the quoted claims are taken out speaks of no account, grant or user."""
    rest = flat(section(readme(), SECTION))
    for sentence, check in CLAIMS:
        rest = rest.replace(flat(sentence), ' ')
    unchecked = [part for part in re.split(r'(?<=[.;])\s+|\n- ', rest) if TOPICS.search(part)]
    assert unchecked == [], 'README claims without a check in %s: %s' % (os.path.basename(__file__), unchecked)
