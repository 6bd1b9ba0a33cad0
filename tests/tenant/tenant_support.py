# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both engines as the suite sees them: the tenant's own sessions (over TCP, with its password), and the
administrator's view of everything outside the tenant.

Outside the tenant (``outside``): every role or account with its attributes and memberships, every grant,
database ACLs and settings, pg_hba lines that let anyone into another database, server-wide settings, the
contents and objects of another customer's database (the victim) and of the databases every tenant shares
(postgres, template1; MariaDB's mysql tables), the files payloads write. The tenant's own databases, its
role's password and its own objects are the tenant's, and are left out; its rights are judged on their own
(``tenant_rights``). Secrets are compared only as digests and never printed.

Administrator sessions into a database a tenant controls pin ``search_path`` to pg_catalog before their
first query and read only catalogs; whatever the tenant wrote in its own tables is read by the tenant itself.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import hashlib
import json
import os
import shutil
import re
import time

import psycopg2
import pymysql

from ansible_collections.wayscloud.databases.plugins.module_utils.host.mariadb.database import OWNERS_SCHEMA

PINNED = '-c search_path=pg_catalog,pg_temp'  # before the database's or role's own settings apply
SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast')"
EVIL_PREFIX = 'wc_evil_'
MARKER_NAME = re.compile(r'(?:wc_evil_|pwned by |wayscloud-pwned-[0-9a-f]+-)([a-z][a-z0-9_]*)')
FIRED = re.compile(r'wayscloud-fired (\S+) trap=(\S+) run_as=(\S+) session=(\S+)')


def digest(value):
    return 'sha256:' + hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def marker_files(marker):
    return sorted(glob.glob(marker + '*'))


def remove_marker(path):
    """What a payload left: a file, or a folder (a table's DATA DIRECTORY)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def differences(before, after):
    """['section key: before -> after', ...] of two fingerprints ({section: {key: value}})."""
    found = []
    for section in sorted(set(before) | set(after)):
        old, new = before.get(section, {}), after.get(section, {})
        for key in sorted(set(old) | set(new), key=str):
            if (key in old, old.get(key)) != (key in new, new.get(key)):
                found.append('%s %s: %s -> %s' % (section, key, _shown(old, key), _shown(new, key)))
    return found


def _shown(values, key):
    return repr(values[key]) if key in values else 'absent'


def traps_named(text, names):
    """The names in ``names`` a difference carries through a payload's marker (wc_evil_<name>, pwned by <name>,
    a marker file)."""
    return sorted(set(found for found in MARKER_NAME.findall(text) if found in names))


class Stage:
    """One tenant database and what the suite knows about it."""

    def __init__(self, engine, backend, kind, customer, requested, traps):
        self.engine = engine
        self.backend = backend
        self.kind = kind
        self.customer = customer
        self.requested = requested
        tag = 'pg' if engine == 'postgresql' else 'mdb'
        self.db_name = 'cust_%s_%s_%s' % (customer, tag, requested)
        self.copy_requested = requested + '_copy'
        self.copy_name = 'cust_%s_%s_%s' % (customer, tag, self.copy_requested)
        self.password = None
        self.traps = traps
        self.created = []
        self.refused = {}
        self.snapshot_ids = []
        self.rule_id = None
        self.deleted = False

    @property
    def user(self):
        return self.db_name

    @property
    def id(self):
        return '%s-%s-%s' % (self.engine, self.backend, self.kind)

    def databases(self):
        """Every database this tenant may have now: its own and the copy restored from its snapshot."""
        return [self.db_name, self.copy_name]

    def pokes(self):
        return [statement for trap in self.traps if trap.name in self.created for statement in trap.poke]


def _tag(stage, db_name):
    """How the objects of a database of the tenant are named: a copy's with a prefix."""
    return 'copy:' if db_name == stage.copy_name else ''


# ---------------------------------------------------------------- PostgreSQL
def _user_object(alias, catalog, namespace_column):
    """SQL: the row ``alias`` of ``catalog`` is in a user schema and no extension's member (the engine owns those)."""
    namespace = '(SELECT nspname FROM pg_namespace WHERE oid = %s.%s)' % (alias, namespace_column)
    return ("%s NOT IN %s AND %s !~ '^pg_' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid ="
            " 'pg_catalog.%s'::regclass AND d.objid = %s.oid AND d.deptype = 'e')"
            % (namespace, SYSTEM_SCHEMAS, namespace, catalog, alias))


# (kind, name, owner or NULL for what goes with its table) of a tenant's database.
PG_OBJECTS = ' UNION ALL '.join([
    "SELECT 'relation', c.relname::text, c.relowner FROM pg_class c WHERE "
    + _user_object('c', 'pg_class', 'relnamespace'),
    "SELECT 'function', p.oid::regprocedure::text, p.proowner FROM pg_proc p WHERE "
    + _user_object('p', 'pg_proc', 'pronamespace'),
    "SELECT 'type', t.typname::text, t.typowner FROM pg_type t WHERE " + _user_object('t', 'pg_type', 'typnamespace')
    + " AND t.typcategory <> 'A' AND t.typrelid = 0",
    "SELECT 'operator', o.oid::regoperator::text, o.oprowner FROM pg_operator o WHERE "
    + _user_object('o', 'pg_operator', 'oprnamespace'),
    "SELECT 'schema', nspname::text, nspowner FROM pg_namespace WHERE nspname NOT IN %s AND nspname !~ '^pg_'"
    " AND nspname <> 'public'" % SYSTEM_SCHEMAS,
    "SELECT 'large object', oid::text, lomowner FROM pg_largeobject_metadata",
    "SELECT 'event trigger', evtname::text, evtowner FROM pg_event_trigger",
    "SELECT 'statistics', stxname::text, stxowner FROM pg_statistic_ext",
    "SELECT 'extension', extname::text, extowner FROM pg_extension WHERE extname <> 'plpgsql'",
    "SELECT 'trigger', tgname::text, NULL FROM pg_trigger WHERE NOT tgisinternal",
    "SELECT 'policy', polname::text, NULL FROM pg_policy",
    "SELECT 'rule', rulename::text, NULL FROM pg_rewrite WHERE rulename <> '_RETURN'",
    "SELECT 'constraint', conname::text, NULL FROM pg_constraint c WHERE "
    + _user_object('c', 'pg_constraint', 'connamespace'),
])

# Objects with owner and ACL of a database every tenant shares (or the victim's).
PG_SHARED_OBJECTS = ' UNION ALL '.join([
    "SELECT 'schema', nspname::text, pg_get_userbyid(nspowner), nspacl::text FROM pg_namespace",
    "SELECT 'relation', n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner), c.relacl::text FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN %s AND n.nspname !~ '^pg_'" % SYSTEM_SCHEMAS,
    "SELECT 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner), p.proacl::text FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
    "SELECT 'default acl', defaclrole::regrole::text || '/' || defaclobjtype::text, pg_get_userbyid(defaclrole),"
    ' defaclacl::text FROM pg_default_acl',
    "SELECT 'event trigger', evtname::text, pg_get_userbyid(evtowner), evtenabled::text FROM pg_event_trigger",
    "SELECT 'extension', extname::text, pg_get_userbyid(extowner), extversion FROM pg_extension",
    "SELECT 'large object', oid::text, pg_get_userbyid(lomowner), lomacl::text FROM pg_largeobject_metadata",
    "SELECT 'language', lanname::text, pg_get_userbyid(lanowner), lanacl::text FROM pg_language",
])

PG_ROLES = ('SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,'
            ' rolbypassrls, rolconnlimit, rolvaliduntil::text, rolpassword FROM pg_authid')
PG_MEMBERS = ('SELECT pg_get_userbyid(roleid), pg_get_userbyid(member), pg_get_userbyid(grantor), admin_option'
              ' FROM pg_auth_members')
PG_DATABASES = ("SELECT datname, pg_get_userbyid(datdba), datacl::text, datistemplate, datallowconn, datconnlimit,"
                " shobj_description(oid, 'pg_database') FROM pg_database")
PG_SETTINGS = ("SELECT coalesce(d.datname, '*'), coalesce(pg_get_userbyid(s.setrole), '*'), s.setconfig::text"
               ' FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase')
PG_FLAGS = ("SELECT concat_ws(' ', CASE WHEN rolsuper THEN 'SUPERUSER' END, CASE WHEN rolcreaterole THEN 'CREATEROLE'"
            " END, CASE WHEN rolcreatedb THEN 'CREATEDB' END, CASE WHEN rolreplication THEN 'REPLICATION' END,"
            " CASE WHEN rolbypassrls THEN 'BYPASSRLS' END) FROM pg_roles WHERE rolname = %s")
PG_GROUPS = 'SELECT pg_get_userbyid(roleid) FROM pg_auth_members WHERE pg_get_userbyid(member) = %s'
# The collection puts every customer database's owner in this role, which pg_hba rejects over TCP: a
# membership in it gives nothing as long as the role itself holds nothing (checked in tenant_rights).
TENANT_GROUP = 'wayscloud_tenants'


def hba_admissions(path, owners, mine, others):
    """The lines of pg_hba.conf that matter outside the tenant: every line outside the collection's block, and in
    it every line that lets a role of ``others`` (every role but the superusers, whichever of them wrote the
    block) in that is not the database's owner (or ``all``, for the rejects). The block's own housekeeping
    (lines of a database that no longer exists, or of a new one) is no one's gain."""
    found, inside = [], False
    with open(path) as handle:
        for line in handle.read().splitlines():
            if line.startswith('# BEGIN wayscloud.databases'):
                inside = True
            elif line.startswith('# END wayscloud.databases'):
                inside = False
            elif line.strip() and not line.lstrip().startswith('#'):
                fields = line.split()
                if not inside:
                    found.append(line)
                    continue
                database, users = fields[1].strip('"'), [user.strip('"') for user in fields[2].split(',')]
                if database in mine or database not in owners or fields[-1] == 'reject' and users == ['all']:
                    continue
                if any(user != owners[database] and user in others for user in users):
                    found.append('(block) %s' % line)
    return found


def quote_pg(name):
    return '"%s"' % name.replace('"', '""')


class PostgreSQLSide:
    db_type = 'postgresql'

    def __init__(self, servers, marker, victim):
        self.socket = servers['WAYSCLOUD_PG_SOCKET_DIR']
        self.port = int(servers['WAYSCLOUD_PG_PORT'])
        self.marker = marker
        self.victim = victim
        self.victim_comment = None

    def admin(self, dbname='postgres'):
        conn = psycopg2.connect(host=self.socket, port=self.port, user='postgres', dbname=dbname, options=PINNED,
                                application_name='wayscloud-tenant-suite')
        conn.autocommit = True
        return conn

    def rows(self, sql, params=None, dbname='postgres', fetch=True):
        """An administrator's statement (a fresh session each time: a session left in a template would stop the
        collection's CREATE DATABASE)."""
        conn = self.admin(dbname)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if fetch else None
        finally:
            conn.close()

    def exists(self, db_name):
        return bool(self.rows('SELECT 1 FROM pg_database WHERE datname = %s', (db_name,)))

    def user_exists(self, user):
        return bool(self.rows('SELECT 1 FROM pg_roles WHERE rolname = %s', (user,)))

    def tenant(self, db_name, user, password):
        conn = psycopg2.connect(host='127.0.0.1', port=self.port, user=user, password=password, dbname=db_name,
                                connect_timeout=10, application_name='wayscloud-tenant-suite')
        conn.autocommit = True
        return conn

    def run_as_tenant(self, stage, db_name, statements, each=False):
        """Run ``statements`` as the tenant: in one transaction (the first error, or None), or ``each`` on its own
        (the errors, in order)."""
        conn = self.tenant(db_name, stage.user, stage.password)
        errors = []
        try:
            conn.autocommit = each
            with conn.cursor() as cursor:
                for statement in statements:
                    try:
                        cursor.execute(statement)
                    except psycopg2.Error as exc:
                        if not each:
                            conn.rollback()
                            return first_line(exc)
                        errors.append(first_line(exc))
            if not each:
                conn.commit()
        finally:
            conn.close()
        return errors if each else None

    def victim_setup(self, password):
        """The victim's own table and rows, made by the victim."""
        conn = self.tenant(self.victim, self.victim, password)
        try:
            with conn.cursor() as cursor:
                cursor.execute('CREATE TABLE public.accounts (owner text PRIMARY KEY, balance integer)')
                cursor.execute("INSERT INTO public.accounts VALUES ('alice', 100), ('bob', 250)")
        finally:
            conn.close()
        self.victim_comment = self.rows("SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                                        ' WHERE datname = %s', (self.victim,))[0][0]

    # -------------------------------------------------------- the tenant's databases
    def _objects(self, stage):
        """(tag, kind, name, owner) of the objects in the tenant's databases."""
        found = []
        for db_name in stage.databases():
            if self.exists(db_name):
                found += [(_tag(stage, db_name),) + tuple(row) for row in self.rows(PG_OBJECTS, dbname=db_name)]
        return found

    def inventory(self, stage):
        """What the tenant's databases hold (what a restore should bring back)."""
        return set('%s%s %r' % (tag, kind, name) for tag, kind, name, owner in self._objects(stage))

    def foreign_owned(self, stage):
        """Objects of the tenant's databases owned by anyone but the tenant."""
        names = dict(self.rows('SELECT oid, rolname FROM pg_roles'))
        return ['%s%s %r owned by %s' % (tag, kind, name, names.get(owner, owner))
                for tag, kind, name, owner in self._objects(stage)
                if owner is not None and names.get(owner) != stage.user]

    def _log(self):
        """The server's log file as scripts/servers.sh starts it (next to the data directory), or None."""
        path = os.path.join(os.path.dirname(self.rows('SHOW data_directory')[0][0]), 'log')
        return path if os.path.isfile(path) else None

    def mark(self):
        """Where the log ends now: ``fired`` reads what payloads logged after it."""
        path = self._log()
        return os.path.getsize(path) if path else 0

    def fired(self, stage, mark):
        """(trap, ran as, session) of every payload that ran as someone other than the tenant since ``mark``."""
        path = self._log()
        if not path:
            return []
        with open(path, 'rb') as handle:
            handle.seek(mark)
            text = handle.read().decode('utf-8', 'replace')
        names = set(trap.name for trap in stage.traps)
        return sorted(set((trap, run_as, session) for marker, trap, run_as, session in FIRED.findall(text)
                          if marker == self.marker and trap in names))

    def poke(self, stage):
        """As the tenant, use every object that runs code (an object owned by someone else would run as them)."""
        for db_name in stage.databases():
            if stage.pokes() and self.exists(db_name):
                self.run_as_tenant(stage, db_name, stage.pokes(), each=True)

    # -------------------------------------------------------- outside the tenant
    def outside(self, stage, hba_path):
        mine = set(stage.databases())
        roles = {}
        for row in self.rows(PG_ROLES):
            if row[0] != stage.user:  # the tenant's own rights: tenant_rights
                roles[row[0]] = ('super=%s inherit=%s createrole=%s createdb=%s login=%s replication=%s bypassrls=%s'
                                 ' limit=%s valid=%s password=%s' % (row[1:-1] + (digest(row[-1]),)))
        members = dict(('%s in %s' % (member, group), 'admin=%s grantor=%s' % (admin, grantor))
                       for group, member, grantor, admin in self.rows(PG_MEMBERS)
                       if not (group == TENANT_GROUP and member.startswith('cust_') and not admin))
        databases, owners = {}, {}
        for name, owner, acl, template, allow, limit, comment in self.rows(PG_DATABASES):
            owners[name] = owner
            if name not in mine and owner != stage.user:
                databases[name] = 'owner=%s acl=%s template=%s allowconn=%s limit=%s comment=%r' % (
                    owner, acl, template, allow, limit, comment)
        settings = dict(('%s/%s' % (db_name, role), config) for db_name, role, config in self.rows(PG_SETTINGS)
                        if db_name not in mine and role != stage.user)
        server = dict(('tablespace %s' % name, 'owner=%s acl=%s' % (owner, acl)) for name, owner, acl in self.rows(
            'SELECT spcname, pg_get_userbyid(spcowner), spcacl::text FROM pg_tablespace'))
        server.update(('parameter %s' % name, acl) for name, acl in self.rows(
            'SELECT parname, paracl::text FROM pg_parameter_acl'))
        with open(os.path.join(self.rows('SHOW data_directory')[0][0], 'postgresql.auto.conf'), 'rb') as handle:
            server['postgresql.auto.conf'] = digest(handle.read())
        others = set(row[0] for row in self.rows('SELECT rolname FROM pg_roles WHERE NOT rolsuper'))
        server.update(('pg_hba %s' % line, 'present') for line in hba_admissions(hba_path, owners, mine, others))
        prints = dict(roles=roles, memberships=members, databases=databases, settings=settings, server=server,
                      files=dict((path, 'present') for path in marker_files(self.marker)))
        for db_name in ('postgres', 'template1', self.victim):
            if db_name in owners:
                prints['in %s' % db_name] = self._shared(db_name)
        return prints

    def _shared(self, db_name):
        found = dict(('%s %s' % (kind, name), 'owner=%s acl=%s' % (owner, acl))
                     for kind, name, owner, acl in self.rows(PG_SHARED_OBJECTS, dbname=db_name))
        if db_name == self.victim:
            found.update(('row of accounts %r' % owner, balance) for owner, balance in self.rows(
                'SELECT owner, balance FROM public.accounts', dbname=db_name))
        return found

    def tenant_rights(self, stage):
        """What the tenant's role holds beyond a customer's rights (it may be gone: deleted)."""
        wrong = ['tenant %s is %s' % (stage.user, flags) for (flags,) in self.rows(PG_FLAGS, (stage.user,)) if flags]
        wrong += ['tenant %s is a member of %s' % (stage.user, group)
                  for (group,) in self.rows(PG_GROUPS, (stage.user,)) if group != TENANT_GROUP]
        wrong += ['%s, which every tenant is a member of, is %s' % (TENANT_GROUP, flags)
                  for (flags,) in self.rows(PG_FLAGS, (TENANT_GROUP,)) if flags]
        wrong += ['%s, which every tenant is a member of, is a member of %s' % (TENANT_GROUP, group)
                  for (group,) in self.rows(PG_GROUPS, (TENANT_GROUP,))]
        wrong += ['%s, which every tenant is a member of, can log in' % TENANT_GROUP
                  for (login,) in self.rows('SELECT rolcanlogin FROM pg_roles WHERE rolname = %s', (TENANT_GROUP,))
                  if login]
        return wrong

    def repair(self, users):
        """Undo what payloads are known to gain (the tenants' ``users`` escalated too), so that the next operation
        starts clean."""
        statements = [('DROP ROLE %s' % quote_pg(role), None) for (role,) in self.rows(
            'SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)', (EVIL_PREFIX,))]
        for user in users:
            if self.user_exists(user):
                statements.append(('ALTER ROLE %s NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS'
                                   % quote_pg(user), None))
                statements += [('REVOKE %s FROM %s' % (quote_pg(group), quote_pg(user)), None)
                               for (group,) in self.rows(PG_GROUPS, (user,))]
        if self.exists(self.victim):
            statements.append(('COMMENT ON DATABASE %s IS %%s' % quote_pg(self.victim), (self.victim_comment,)))
        for statement, params in statements:
            self.rows(statement, params, fetch=False)
        for path in marker_files(self.marker):
            remove_marker(path)


# ---------------------------------------------------------------- MariaDB
MDB_GLOBALS = ('init_connect', 'general_log', 'general_log_file', 'slow_query_log', 'slow_query_log_file',
               'local_infile', 'secure_file_priv', 'sql_mode', 'read_only', 'log_bin_trust_function_creators',
               'event_scheduler', 'automatic_sp_privileges', 'plugin_dir', 'init_file')
# The privilege tables: their key columns; the first four also name a database (the tenant's own are its).
MDB_GRANTS = (('db', 'Host, Db, User'), ('tables_priv', 'Host, Db, User, Table_name'),
              ('columns_priv', 'Host, Db, User, Table_name, Column_name'),
              ('procs_priv', 'Host, Db, User, Routine_name, Routine_type'),
              ('proxies_priv', 'Host, User, Proxied_host, Proxied_user'), ('roles_mapping', 'Host, User, Role'))
MDB_OBJECTS = ' UNION ALL '.join([
    "SELECT 'view', TABLE_SCHEMA, TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN ({0})",
    'SELECT LOWER(ROUTINE_TYPE), ROUTINE_SCHEMA, ROUTINE_NAME, DEFINER FROM information_schema.ROUTINES'
    ' WHERE ROUTINE_SCHEMA IN ({0})',
    "SELECT 'trigger', TRIGGER_SCHEMA, TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS"
    ' WHERE TRIGGER_SCHEMA IN ({0})',
    "SELECT 'event', EVENT_SCHEMA, EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN ({0})",
    "SELECT 'table', TABLE_SCHEMA, TABLE_NAME, NULL FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({0})"
    " AND TABLE_TYPE <> 'VIEW'",
])


def quote_mdb(name):
    return '`%s`' % name.replace('`', '``')


def grant_db(name):
    """A database name as MariaDB's privilege tables spell it (wildcards escaped)."""
    return name.replace('\\', '\\\\').replace('_', '\\_').replace('%', '\\%')


class MariaDBSide:
    db_type = 'mariadb'

    def __init__(self, servers, marker, victim):
        self.socket = servers['WAYSCLOUD_MDB_SOCKET']
        self.port = int(servers['WAYSCLOUD_MDB_PORT'])
        self.marker = marker
        self.victim = victim
        self.scheduler = None
        self.init_connect = None
        self._admin = None
        self._columns = {}

    def admin(self):
        """One root session for the whole suite (a MariaDB login costs 50 ms); it has no default database, so the
        collection's ending of a database's sessions leaves it alone."""
        if self._admin is not None:
            try:
                self._admin.ping(False)
            except pymysql.Error:
                self._admin = None
        if self._admin is None:
            self._admin = pymysql.connect(unix_socket=self.socket, user='root', autocommit=True, charset='utf8mb4')
        return self._admin

    def rows(self, sql, params=None):
        with self.admin().cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def start(self):
        """The event scheduler runs during the suite (events are traps); the previous settings come back at the end."""
        self.scheduler, self.init_connect = self.rows('SELECT @@GLOBAL.event_scheduler, @@GLOBAL.init_connect')[0]
        self.rows('SET GLOBAL event_scheduler = ON')

    def stop(self):
        self.rows('SET GLOBAL event_scheduler = %s' % ('ON' if self.scheduler == 'ON' else 'OFF'))
        self._admin.close()

    def exists(self, db_name):
        return bool(self.rows('SELECT 1 FROM information_schema.SCHEMATA WHERE BINARY SCHEMA_NAME = %s', (db_name,)))

    def user_exists(self, user):
        return bool(self.rows('SELECT 1 FROM mysql.global_priv WHERE User = %s', (user,)))

    def tenant(self, db_name, user, password):
        return pymysql.connect(host='127.0.0.1', port=self.port, user=user, password=password, database=db_name,
                               autocommit=True, charset='utf8mb4', connect_timeout=10)

    def run_as_tenant(self, stage, db_name, statements, each=False):
        """As PostgreSQLSide.run_as_tenant; MariaDB's DDL commits by itself, so a refused trap may leave a part."""
        conn = self.tenant(db_name, stage.user, stage.password)
        errors = []
        try:
            with conn.cursor() as cursor:
                for statement in statements:
                    try:
                        cursor.execute(statement)
                        cursor.fetchall()
                        while cursor.nextset():
                            pass
                    except pymysql.Error as exc:
                        if not each:
                            return first_line(exc)
                        errors.append(first_line(exc))
        finally:
            conn.close()
        return errors if each else None

    def victim_setup(self, password):
        conn = self.tenant(self.victim, self.victim, password)
        try:
            with conn.cursor() as cursor:
                cursor.execute('CREATE TABLE accounts (owner VARCHAR(200) PRIMARY KEY, balance INT)')
                cursor.execute("INSERT INTO accounts VALUES ('alice', 100), ('bob', 250)")
        finally:
            conn.close()

    # -------------------------------------------------------- the tenant's databases
    def _objects(self, schemas):
        """(kind, schema, name, definer or None) of every object of ``schemas`` that runs code, and every table."""
        if not schemas:
            return []
        return self.rows(MDB_OBJECTS.format(', '.join(['%s'] * len(schemas))), tuple(schemas) * 5)

    def _present(self, stage):
        return [db_name for db_name in stage.databases() if self.exists(db_name)]

    def inventory(self, stage):
        return set('%s%s %r' % (_tag(stage, schema), kind, name)
                   for kind, schema, name, definer in self._objects(self._present(stage)))

    def foreign_owned(self, stage):
        """Views, routines, triggers and events of the tenant's databases whose DEFINER is not the tenant."""
        return ['%s%s %r with DEFINER %s' % (_tag(stage, schema), kind, name, definer)
                for kind, schema, name, definer in self._objects(self._present(stage))
                if definer is not None and definer.rsplit('@', 1)[0] != stage.user]

    def mark(self):
        return self.rows('SELECT NOW(6)')[0][0]

    def fired(self, stage, since):
        """As PostgreSQLSide.fired, from the tenant's own wc_fired table (read by the tenant)."""
        found = []
        for db_name in self._present(stage):
            conn = self.tenant(db_name, stage.user, stage.password)
            try:
                with conn.cursor() as cursor:
                    cursor.execute('SELECT trap, run_as, session_as FROM wc_fired WHERE at >= %s', (since,))
                    found += [tuple(row) for row in cursor.fetchall()]
            except pymysql.Error:
                continue
            finally:
                conn.close()
        return sorted(set(found))

    def poke(self, stage):
        for db_name in self._present(stage):
            if stage.pokes():
                self.run_as_tenant(stage, db_name, stage.pokes(), each=True)
        time.sleep(1.2)  # the events fire every second

    # -------------------------------------------------------- outside the tenant
    def _columns_of(self, table):
        """'name', `name`, ... of every column of a mysql table, for JSON_OBJECT (the whole row, digested)."""
        if table not in self._columns:
            names = [row[0] for row in self.rows(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = %s"
                ' ORDER BY ORDINAL_POSITION', (table,))]
            self._columns[table] = ', '.join("'%s', `%s`" % (name, name) for name in names)
        return self._columns[table]

    def outside(self, stage, hba_path=None):
        mine = set(grant_db(name) for name in stage.databases()) | set(stage.databases())
        accounts = dict(('%s@%s' % (user, host), digest(priv)) for user, host, priv in self.rows(
            'SELECT User, Host, Priv FROM mysql.global_priv') if user != stage.user)
        grants = {}
        for table, columns in MDB_GRANTS:
            rows = self.rows('SELECT %s, JSON_OBJECT(%s) FROM mysql.%s' % (columns, self._columns_of(table), table))
            for row in rows:
                if table not in ('proxies_priv', 'roles_mapping') and row[1] in mine:
                    continue  # grants on the tenant's own databases
                grants['%s %s' % (table, '/'.join(str(part) for part in row[:-1]))] = digest(row[-1])
        server = dict(('global %s' % name, value) for name, value in self.rows(
            'SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s)' % ', '.join(['%s'] * len(MDB_GLOBALS)), MDB_GLOBALS))
        server.update(('mysql.%s' % table, digest(self.rows('SELECT * FROM mysql.%s' % table)))
                      for table in ('servers', 'plugin', 'func'))
        # The collection's own schema (which catalog holds each user's network accounts) comes with the first rule.
        schemas = dict(('schema %s' % name, 'present') for (name,) in self.rows(
            'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA') if name not in mine and name != OWNERS_SCHEMA)
        victim = dict(('%s %s' % (kind, name), definer) for kind, schema, name, definer in self._objects([self.victim]))
        if self.exists(self.victim):
            victim.update(('row of accounts %r' % owner, balance) for owner, balance in self.rows(
                'SELECT owner, balance FROM %s.accounts' % quote_mdb(self.victim)))
        return dict(accounts=accounts, grants=grants, server=server, schemas=schemas, victim=victim,
                    files=dict((path, 'present') for path in marker_files(self.marker)))

    def tenant_rights(self, stage):
        """Global privileges of the tenant's accounts, and grants anywhere but on its own databases."""
        wrong = ['tenant account %s@%s holds global privileges (access=%s)' % (stage.user, host, access)
                 for host, access in ((host, json.loads(priv).get('access', 0)) for host, priv in self.rows(
                     'SELECT Host, Priv FROM mysql.global_priv WHERE User = %s', (stage.user,))) if access]
        own = set(grant_db(name) for name in stage.databases()) | set(stage.databases())
        for table in ('db', 'tables_priv', 'columns_priv', 'procs_priv'):
            wrong += ['tenant account %s@%s holds %s grants on %s' % (stage.user, host, table, db)
                      for host, db in self.rows('SELECT Host, Db FROM mysql.%s WHERE User = %%s' % table, (stage.user,))
                      if db not in own]
        for table in ('proxies_priv', 'roles_mapping'):
            wrong += ['tenant %s has %d rows in mysql.%s' % (stage.user, count, table) for (count,) in self.rows(
                'SELECT COUNT(*) FROM mysql.%s WHERE User = %%s' % table, (stage.user,)) if count]
        return wrong

    def repair(self, users):
        """As PostgreSQLSide.repair."""
        self.rows("DELETE FROM mysql.global_priv WHERE User LIKE 'wc\\_evil\\_%'")
        for user in users:
            self.rows("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 0) WHERE User = %s", (user,))
        self.rows('FLUSH PRIVILEGES')
        if self.rows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'accounts'",
                     (self.victim,)):
            self.rows("DELETE FROM %s.accounts WHERE owner NOT IN ('alice', 'bob')" % quote_mdb(self.victim))
        self.rows('SET GLOBAL init_connect = %s', (self.init_connect,))
        for path in marker_files(self.marker):
            remove_marker(path)
