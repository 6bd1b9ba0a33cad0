# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""PostgreSQL: databases and their owner roles, in SQL with quoted identifiers and bound values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import hashlib
import ipaddress
import json
import os
import re
import tempfile

from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import LOOPBACK_NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, MissingLibrary
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Owner
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import (
    SCRATCH_PREFIX, Access, Driver, first_line, remembered)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.secrets import scram_matches, scram_sha_256_verifier

DEFAULT_SOCKET_DIR = '/var/run/postgresql'
# Every administrator session resolves names in pg_catalog only, never in a schema a tenant can write to
# (the CVE-2018-1058 class: a tenant's public.=(name, text) or public.starts_with would otherwise be called).
# Given at connection time they outrank what a database's owner set with ALTER DATABASE ... SET, which
# would otherwise reach a session into that database (a read-only default would stop a restore's clean-up).
SESSION_OPTIONS = '-c search_path=pg_catalog,pg_temp -c default_transaction_read_only=off'
# Every customer database's owner is a member; the block's last line rejects its members over TCP, so a
# database is closed from the moment it exists, before its own lines are written.
TENANT_GROUP = 'wayscloud_tenants'
_DUPLICATE_OBJECT = '42710'
# The advisory lock every catalog's writers of the pg_hba block take (any number the collection alone uses).
ACCESS_LOCK = 0x7761797363010001


def import_psycopg2():
    """Imported on first use, so that modules not talking to PostgreSQL never need it."""
    try:
        import psycopg2
        import psycopg2.sql
    except ImportError as exc:
        raise MissingLibrary('psycopg2', 'install psycopg2-binary (or psycopg2) for the Python that runs'
                             ' the module (%s)' % exc)
    return psycopg2


BLOCK_BEGIN = '# BEGIN wayscloud.databases: firewall rules, written by the collection; edits here are lost'
BLOCK_END = '# END wayscloud.databases'
# Before each database's lines: the catalog that wrote them, ``# wayscloud <catalog id> <db_name> <state_dir as JSON>``.
MARK = '# wayscloud '
# The block's first line: a digest of every other byte of the file and of the server's version and ssl setting, written
# after PostgreSQL checked the file, or by a write that added only lines of the collection's own making to a file so
# stamped. A write that finds it true needs no check of the file's thousands of lines; any other edit makes it untrue.
ACCEPTED = '# accepted by PostgreSQL '
# A line continued on the next (a backslash at its end): one line's edit then changes the next.
_CONTINUED = re.compile(r'\\[ \t\r]*$', re.M)


def connection_limit(value):
    """A limit as the server keeps it (-1: none) as the collection shows it (None: none)."""
    return None if value < 0 else value


def network_order(network):
    network = ipaddress.ip_network(network)
    return network.version, network


def quote_hba(name):
    """A database or role name as a pg_hba.conf field (quoted, so no keyword or list syntax applies). A double quote
    or a line break cannot be written in one (every name the collection makes is letters, digits and underscores;
    the administrator's is the task's login_user)."""
    if '"' in name or any(ord(character) < 32 or ord(character) == 127 for character in name):
        raise BackendError('pg_hba.conf cannot name the role or database %s: it holds a double quote or a control'
                           ' character' % json.dumps(name))
    return '"%s"' % name


def line_network(line):
    """The CIDR block a host line of the block is for, or None."""
    fields = line.split()
    return fields[3] if len(fields) > 3 and fields[0] == 'host' else None


def mark_line(owner, db_name):
    """The line that marks a database's lines as ``owner``'s."""
    return '%s%s %s %s' % (MARK, owner.catalog_id, db_name, json.dumps(owner.state_dir))


def parse_mark(line):
    """The Owner a mark line names (None for no line, or one that is not a mark)."""
    fields = (line or '')[len(MARK):].split(' ', 2)
    if not (line or '').startswith(MARK) or len(fields) < 3:
        return None
    try:
        state_dir = json.loads(fields[2])
    except ValueError:
        state_dir = None
    return Owner(fields[0], state_dir if isinstance(state_dir, str) else None)


def block_groups(lines):
    """The block as ({db_name: (its mark line or None, its lines)} in the block's order, the lines for ``all``: the
    closing ones). Any other comment goes: the block is the collection's."""
    groups, closing = collections.OrderedDict(), []
    prefix, found = None, None  # the start of the last database's host lines, and its lines: a host has thousands
    for line in lines:
        if prefix is not None and line.startswith(prefix):
            found.append(line)
            continue
        if line.startswith(MARK):
            db_name = line[len(MARK):].split(' ', 2)[1:2]
            if db_name:
                groups.setdefault(db_name[0], [None, []])[0] = line
            continue
        fields = line.split(None, 2)
        if not fields or fields[0].startswith('#'):
            continue
        db_name = fields[1].strip('"') if len(fields) > 1 else None
        if db_name == 'all':
            closing.append(line)
        else:
            found = groups.setdefault(db_name, [None, []])[1]
            found.append(line)
            prefix = None if db_name is None else 'host "%s" ' % db_name
    return collections.OrderedDict((name, tuple(group)) for name, group in groups.items()), closing


def block_lines(text):
    """The lines of a pg_hba.conf text between the markers (none when there is no block)."""
    current = text.splitlines()
    if BLOCK_BEGIN in current and BLOCK_END in current:
        return current[current.index(BLOCK_BEGIN) + 1:current.index(BLOCK_END)]
    return []


def accepted_line(text, server):
    """The line that says PostgreSQL ``server`` (its version and settings) accepts a file of ``text`` (without this
    line)."""
    return '%s%s, sha256 %s' % (ACCEPTED, server, digest_of((text + server).encode()))


def _stamp_at(text):
    """Where the accepted line after the block's first begins and ends in a file's ``text``, or None."""
    begin = '%s\n%s' % (BLOCK_BEGIN, ACCEPTED)
    start = text.find(begin)
    if start < 0 or (start and text[start - 1] != '\n'):
        return None
    start += len(BLOCK_BEGIN) + 1
    end = text.find('\n', start)
    return (start, end + 1) if end >= 0 else None


def open_ended(text):
    """Whether a file's ``text`` means more than its bytes: it includes other files (``include...`` as a line's first
    word) or names an @file (a token starting with @, outside quotes and comments), which can change without it, or
    it continues a line. Found with substring searches: a regular expression anchored at each line took 20 ms over a
    host's 5000 lines."""
    if _CONTINUED.search(text):
        return True
    for word in ('include', '@'):
        at = text.find(word)
        while at >= 0:
            before = text[text.rfind('\n', 0, at) + 1:at]
            if not before.strip() if word == 'include' else _starts_a_token(before):
                return True
            at = text.find(word, at + 1)
    return False


def _starts_a_token(before):
    """Whether what follows ``before`` (a line's start) begins a token: outside quotes and comments, after a blank or
    a comma (a list's next item)."""
    quoted = False
    for character in before:
        if character == '"':
            quoted = not quoted
        elif character == '#' and not quoted:
            return False
    return not quoted and (not before or before[-1] in ' \t,')


def is_accepted(text, server):
    """Whether a file's ``text`` has a true accepted line for ``server`` and means nothing beyond its own bytes."""
    at = _stamp_at(text)
    if at is None:
        return False
    rest = text[:at[0]] + text[at[1]:]
    return text[at[0]:at[1] - 1] == accepted_line(rest, server) and not open_ended(rest)


def stamped(text, server):
    """A file's ``text`` (with a block) with the accepted line for ``server`` after the block's first."""
    at = text.index('%s\n' % BLOCK_BEGIN) + len(BLOCK_BEGIN) + 1
    return '%s%s\n%s' % (text[:at], accepted_line(text, server), text[at:])


def write_block(path, lines, server, parsed):
    """Put ``lines`` between the markers at the top of ``path`` (atomically, same owner and mode). A file that was
    accepted (is_accepted for PostgreSQL ``server``) and is still the one whose digest is ``parsed`` (the block was
    parsed from it) stays accepted: the collection's own lines are all that changed, and it says so.

    Returns (the file's previous text, or None when it already says exactly that; whether it was accepted; the text
    now in the file). A file that was not is written without the accepted line, for stamp_accepted once PostgreSQL
    accepts it: one killed before that stays unaccepted.
    """
    with open(path, newline='', encoding='utf-8') as handle:
        current = handle.read()
    found = current.splitlines()
    if BLOCK_BEGIN in found and BLOCK_END in found:
        found = found[:found.index(BLOCK_BEGIN)] + found[found.index(BLOCK_END) + 1:]
    text = '\n'.join(([BLOCK_BEGIN] + lines + [BLOCK_END] if lines else []) + found) + '\n'
    accepted = bool(lines) and digest_of(current.encode()) == parsed and is_accepted(current, server)
    if accepted:
        text = stamped(text, server)
    if text == current:
        return None, accepted, current
    replace_file(path, text)
    return current, accepted, text


def stamp_accepted(path, text, server):
    """Say in the file at ``path`` that PostgreSQL ``server`` accepts it, if it still holds ``text`` (which PostgreSQL
    has just checked whole), and return its new text; a file changed since stays unaccepted (None)."""
    if open_ended(text):
        return text  # never taken as accepted: a stamp would be one more write for nothing
    with open(path, newline='', encoding='utf-8') as handle:
        if handle.read() != text:
            return None
    text = stamped(text, server)
    replace_file(path, text)
    return text


def digest_of(content):
    return hashlib.sha256(content).hexdigest()


def replace_file(path, text):
    """Atomically replace a file's text, keeping its owner and mode (a fresh temporary file, never a
    predictable name the folder's owner could have prepared)."""
    info = os.stat(path)
    fd, temporary = tempfile.mkstemp(prefix='.wayscloud-', dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'w', newline='', encoding='utf-8') as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), info.st_mode & 0o7777)
            os.fchown(handle.fileno(), info.st_uid, info.st_gid)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class PostgreSQLDriver(Driver):
    db_type = 'postgresql'
    label = 'PostgreSQL'
    default_port = 5432
    default_user = 'postgres'
    url_scheme = 'postgresql'
    new_database_needs_access_lines = True  # its pg_hba lines (local addresses, reject the rest) come at creation
    access_label = 'pg_hba lines'
    access_follows_user = False
    _parsed = None  # (a digest of the file, its block as block_groups parses it) as this driver last read or wrote it

    def _connect(self, db_name=None):
        psycopg2 = import_psycopg2()
        params = dict(dbname=db_name or 'postgres', user=self.login.user or self.default_user, port=self.port,
                      connect_timeout=self.login.connect_timeout, application_name='wayscloud.databases',
                      options=SESSION_OPTIONS)
        host = self.login.unix_socket or self.login.host or DEFAULT_SOCKET_DIR
        if os.path.basename(host).startswith('.s.PGSQL.'):
            host = os.path.dirname(host)
        params['host'] = host
        if self.login.password:
            params['password'] = self.login.password
        try:
            conn = psycopg2.connect(**params)
        except psycopg2.Error as exc:
            raise BackendError('could not connect to PostgreSQL at %s as %s: %s'
                               % (self.where(), params['user'], first_line(exc)))
        conn.autocommit = True
        return conn

    def _errors(self):
        return import_psycopg2().Error

    def sql(self, template, *identifiers):
        """A statement with each {} replaced by a quoted identifier."""
        sql = import_psycopg2().sql
        return sql.SQL(template).format(*(sql.Identifier(name) for name in identifiers))

    # datconnlimit -2 marks a database whose DROP was interrupted: it is gone for every purpose but DROP.
    _DATABASES = ("SELECT d.datname, pg_get_userbyid(d.datdba), d.datconnlimit,"
                  " shobj_description(d.oid, 'pg_database') FROM pg_database d")

    @staticmethod
    def _database_row(row):
        name, owner, limit, comment = row
        return dict(db_name=name, owner=owner, connection_limit=connection_limit(limit), comment=comment)

    def _read_database(self, db_name):
        rows = self.execute(self._DATABASES + ' WHERE d.datname = %s AND d.datconnlimit <> -2', (db_name,))
        return self._database_row(rows[0]) if rows else None

    def list_databases(self, prefix):
        """Every database whose name starts with ``prefix`` (a plain string, not a pattern)."""
        rows = self.execute(self._DATABASES + ' WHERE starts_with(d.datname, %s) AND d.datconnlimit <> -2'
                            ' ORDER BY d.datname', (prefix,))
        return [self._database_row(row) for row in rows]

    def size_bytes(self, db_name):
        return self.execute('SELECT pg_database_size(%s)', (db_name,))[0][0]

    def metric_counters(self, db_name):
        """Per-database counters for metrics (host/metrics.py says what each means)."""
        rows = self.execute('SELECT xact_commit + xact_rollback, blks_hit, blks_read FROM pg_stat_database'
                            ' WHERE datname = %s', (db_name,))
        queries, hits, misses = rows[0] if rows else (None, None, None)
        return dict(storage_bytes=self.size_bytes(db_name), total_queries=queries, cache_hits=hits, cache_misses=misses)

    def server_counters(self):
        return dict(max_connections=int(self.execute('SHOW max_connections')[0][0]))

    def pid_file(self):
        return os.path.join(self.execute('SHOW data_directory')[0][0], 'postmaster.pid')

    def server_version(self):
        return self.execute('SHOW server_version')[0][0]

    def user_exists(self, username):
        return bool(self.rows_of('roles', username, lambda where='', args=None: dict(
            (row[0], True) for row in self.execute('SELECT rolname FROM pg_roles' + where, args)), ' WHERE rolname = %s'))

    def create_database(self, db_name, username, password, connection_limit, description):
        """Owner role (in the tenant group), then the database; if the database fails, a role this call made is dropped
        again, and one it adopted (kept for copies) gets back the password and limit it had."""
        limit = -1 if connection_limit is None else connection_limit
        verifier = scram_sha_256_verifier(password)
        self.tenant_group(())
        kept = self.user_state(username)
        if kept is None:
            self.execute(self.sql('CREATE ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
                                  ' NOREPLICATION CONNECTION LIMIT %s PASSWORD %s IN ROLE {}', username, TENANT_GROUP),
                         (limit, verifier))
        else:
            self.execute(self.sql('ALTER ROLE {} WITH LOGIN CONNECTION LIMIT %s PASSWORD %s', username),
                         (limit, verifier))
            self.tenant_group([username])
        created_database = False
        try:
            self.create_closed_database(db_name, username, 'CONNECTION LIMIT %s', (limit,))
            created_database = True
            if description is not None:
                self.set_description(db_name, description)
        except BackendError:
            if created_database:
                self.drop_database(db_name)
            if kept is None:
                self.drop_user(username)
            else:
                self.restore_user_state(username, kept)
            raise

    def create_closed_database(self, db_name, owner, options, params):
        """CREATE DATABASE whose PUBLIC connect right is gone before anyone may connect (``options``: more
        clauses, with ``params`` for their placeholders)."""
        self.execute(self.sql('CREATE DATABASE {} OWNER {} %s ALLOW_CONNECTIONS false' % options, db_name, owner), params)
        self.execute(self.sql('REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC', db_name))
        self.execute(self.sql('ALTER DATABASE {} WITH ALLOW_CONNECTIONS true', db_name))

    def tenant_group(self, owners):
        """Make the tenant group if it is missing, and put ``owners`` (roles) in it where they are not yet."""
        if not self.user_exists(TENANT_GROUP):
            try:
                self.execute(self.sql('CREATE ROLE {} NOLOGIN', TENANT_GROUP))
            except BackendError as exc:
                if exc.code != _DUPLICATE_OBJECT:  # made by a concurrent run meanwhile
                    raise
        outside = self.execute('SELECT r.rolname FROM pg_roles r WHERE r.rolname = ANY(%s) AND NOT r.rolsuper'
                               ' AND NOT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid'
                               ' WHERE m.member = r.oid AND g.rolname = %s) ORDER BY 1', (sorted(owners), TENANT_GROUP))
        for (owner,) in outside:
            self.execute(self.sql('GRANT {} TO {}', TENANT_GROUP, owner))

    def _settings(self, db_name):
        """(database's limit, role's limit, comment, owner) of a database, the role named like it, or None."""
        def read(where='', args=None):
            return dict((row[0], tuple(row[1:])) for row in self.execute(
                "SELECT d.datname, d.datconnlimit, r.rolconnlimit, shobj_description(d.oid, 'pg_database'),"
                ' pg_get_userbyid(d.datdba) FROM pg_database d LEFT JOIN pg_roles r ON r.rolname = d.datname' + where, args))
        return self.rows_of('settings', db_name, read, ' WHERE d.datname = %s')

    def kept_settings(self, db_name):
        """Where the server keeps a database's settings, {field: {place: value}}: its connection limit on the database
        and on the role named like it (as set_connection_limit sets them), its description as its comment."""
        settings = self._settings(db_name)
        if settings is None:
            return {}
        database, role, comment, dummy = settings
        limits = {'database %s' % db_name: connection_limit(database)}
        if role is not None:
            limits['role %s' % db_name] = connection_limit(role)
        return dict(connection_limit=limits, description={'comment on database %s' % db_name: comment})

    def owner_drift(self, db_name, username):
        """{place: as found} where ``username`` is not the database's owner; empty when it is."""
        settings = self._settings(db_name)
        owner = settings[3] if settings else None
        return {} if owner == username else {'owner of database %s' % db_name: owner}

    def set_owner(self, db_name, username):
        """Give the database back to ``username`` (a statement on the shared catalog: no tenant code runs)."""
        self.execute(self.sql('ALTER DATABASE {} OWNER TO {}', db_name, username))

    def set_connection_limit(self, db_name, username, connection_limit):
        limit = -1 if connection_limit is None else connection_limit
        self.execute(self.sql('ALTER DATABASE {} WITH CONNECTION LIMIT %s', db_name), (limit,))
        if self.user_exists(username):
            self.execute(self.sql('ALTER ROLE {} WITH CONNECTION LIMIT %s', username), (limit,))

    def set_description(self, db_name, description):
        self.execute(self.sql('COMMENT ON DATABASE {} IS %s', db_name), (description,))

    def _sessions_query(self, action):
        return ('SELECT %s FROM pg_stat_activity WHERE datname = %%s AND pid <> pg_backend_pid()'
                ' AND backend_type = %%s' % action)

    def count_sessions(self, db_name):
        return self.execute(self._sessions_query('count(*)'), (db_name, 'client backend'))[0][0]

    def terminate_sessions(self, db_name):
        rows = self.execute(self._sessions_query('pg_terminate_backend(pid)'), (db_name, 'client backend'))
        return sum(1 for row in rows if row[0])

    def set_password(self, username, password):
        self.execute(self.sql('ALTER ROLE {} WITH PASSWORD %s', username), (scram_sha_256_verifier(password),))

    def stored_password(self, username):
        """The role's password as the server keeps it (its SCRAM verifier, or None), read as superuser."""
        rows = self.execute('SELECT rolpassword FROM pg_authid WHERE rolname = %s', (username,))
        return rows[0][0] if rows else None

    def restore_password(self, username, stored):
        """Put back what ``stored_password`` read: PostgreSQL keeps a verifier it is given as it is."""
        self.execute(self.sql('ALTER ROLE {} WITH PASSWORD %s', username), (stored,))

    def user_state(self, username):
        """What adopting ``username`` for a new database changes of it, as the server keeps it (its password verifier
        and connection limit); None when there is no such role."""
        rows = self.execute('SELECT rolpassword, rolconnlimit FROM pg_authid WHERE rolname = %s', (username,))
        return tuple(rows[0]) if rows else None

    def restore_user_state(self, username, state):
        """Put back what ``user_state`` read."""
        self.execute(self.sql('ALTER ROLE {} WITH PASSWORD %s CONNECTION LIMIT %s', username), state)

    def password_accounts(self, username, password):
        """(how many of the user's accounts take ``password``, how many it has), from the stored SCRAM verifier
        (no login needed): a role is one account."""
        stored = self.stored_password(username)
        return int(scram_matches(stored, password)), int(stored is not None)

    def terminate_user_sessions(self, username):
        rows = self.execute('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s'
                            ' AND pid <> pg_backend_pid()', (username,))
        return sum(1 for row in rows if row[0])

    def check_access(self, db_name, user, networks):
        """The database's lines in the block against the lines ``user`` and ``networks`` call for (its allow lines,
        the administrator's with its local ones, and its reject), the block's closing line, and lines in it that are no customer
        or scratch database's (the next write takes them out): an Access, from one read of the file."""
        groups, closing = remembered(self.reads, 'block', self._block)
        mark, found = groups.get(db_name, (None, []))
        wanted = self._database_lines(db_name, user, networks)
        problems = [(line_network(line), 'pg_hba: %s missing' % line) for line in wanted if line not in found]
        problems += [(line_network(line), 'pg_hba: %s not declared' % line) for line in found if line not in wanted]
        if not problems and found != wanted:
            problems.append((None, 'pg_hba: the lines of %s are out of order' % db_name))
        problems += [(None, 'pg_hba: %s not declared' % line) for line in remembered(
            self.reads, 'strays', lambda: self._strays(groups))]
        if closing != self._closing_lines():
            problems.append((None, 'pg_hba: the closing line that rejects the members of %s over TCP is not as'
                                   ' written' % TENANT_GROUP))
        return Access(parse_mark(mark), problems)

    def set_accesses(self, accesses, owner):
        """Rewrite the lines of the databases in ``accesses`` ({db_name: (user, networks)}, or None for a database that
        is gone, whose lines would outlive it), each marked as ``owner``'s while it admits networks, and the closing
        line, in one write and one reload; every other database's lines stay as they are."""
        def change(groups):
            for db_name, access in accesses.items():
                if access is None:
                    groups.pop(db_name, None)
                else:
                    user, networks = access
                    groups[db_name] = (mark_line(owner, db_name) if networks else None,
                                       self._database_lines(db_name, user, networks))
        self._write(change)

    def change_access(self, add=None, remove=()):
        """Rewrite only the lines of the databases in ``add`` ({db_name: its user}) and ``remove``, and leave every
        other database's lines as they are: a new database, or a restore's scratch database (its user is its loader),
        gets its lines without rules (it has none, so no catalog's mark either) and without any other database's
        lines being recomputed from this task's catalog."""
        add = add or {}
        self.tenant_group(set(user for db_name, user in add.items() if not db_name.startswith(SCRATCH_PREFIX)))

        def change(groups):
            for db_name in remove:
                groups.pop(db_name, None)
            for db_name, user in sorted(add.items()):
                groups.pop(db_name, None)
                groups[db_name] = (None, self._database_lines(db_name, user, ()))
        self._write(change)

    def _database_lines(self, db_name, user, networks):
        """A database's lines: ``user`` from the local addresses and ``networks``, the administrator with it from the
        local addresses, everyone else rejected over TCP. A scratch database's user is its loader, admitted
        from where this task connects, over the socket too. As few lines as that takes: every connection to the
        server goes through the file's lines (here a new connection took 21 ms with 1000 databases of 7 lines, 15 ms
        at 4, 6 ms without the block), and PostgreSQL 15 takes one address a line."""
        name, admin, user = quote_hba(db_name), quote_hba(self.login.user or self.default_user), quote_hba(user)
        lines = []
        if db_name.startswith(SCRATCH_PREFIX):
            networks = self._own_networks()
            lines.append('local %s %s scram-sha-256' % (name, user))
        else:
            networks = sorted(set(LOOPBACK_NETWORKS) | set(networks), key=network_order)
        return (lines + ['host %s %s %s scram-sha-256' % (name, '%s,%s' % (user, admin) if network in LOOPBACK_NETWORKS
                                                          else user, network) for network in networks]
                + ['host %s all all reject' % name])

    @staticmethod
    def _closing_lines():
        """The block's last line: a database made since its own lines were written is closed to its tenant."""
        return ['host all +%s all reject' % TENANT_GROUP]

    def _kept(self, groups):
        """The names of the block's ``groups`` it keeps: the customer and scratch databases that exist on the server.
        Any other line in it (for ``sameuser``, ``replication``, a database dropped outside the collection) is drift."""
        # One read of the kind's names, not a comparison with each of a list of thousands.
        return set(groups) & set(row[0] for row in self.execute(
            'SELECT datname FROM pg_database WHERE datconnlimit <> -2 AND (starts_with(datname, %s) OR starts_with(datname, %s))',
            ('cust_', SCRATCH_PREFIX)))

    def _strays(self, groups):
        """The block's lines (with their marks) that are no database's it keeps."""
        kept = self._kept(groups)
        return [line for name, (mark, lines) in groups.items() if name not in kept
                for line in ([mark] if mark else []) + lines]

    def _block(self):
        """The block as block_groups parses it, parsed again only when the file's content changed: a task's checks,
        its write and its read back parse a host's thousands of lines once."""
        with open(self._hba_file(), 'rb') as handle:
            content = handle.read()
        digest = digest_of(content)
        if self._parsed is None or self._parsed[0] != digest:
            self._parsed = (digest, block_groups(block_lines(content.decode())))
        return self._parsed[1]

    def _hba_file(self):
        return remembered(self.reads, 'hba_file', lambda: self.execute('SHOW hba_file')[0][0])

    def _write(self, change):
        """Let ``change`` edit the block's groups ({db_name: (mark, lines)}, in order), then write them with the closing
        line after them, under the server's access lock. PostgreSQL checks the whole file unless it was accepted
        (ACCEPTED) and is as the block was read; a file it would not accept is put back as it was. Reloads always: an
        earlier run may have written the file and died before the reload."""
        with self.access_lock():
            path = self._hba_file()
            groups = self._block()[0]
            kept = self._kept(groups)  # what is not a database's goes
            groups = collections.OrderedDict((name, group) for name, group in groups.items() if name in kept)
            change(groups)
            lines = [line for mark, group in groups.values() for line in ([mark] if mark else []) + group]
            server = '%d ssl=%s' % (self.conn.server_version, self.execute('SHOW ssl')[0][0])
            previous, accepted, written = write_block(path, lines + self._closing_lines(), server, self._parsed[0])
            if not accepted:
                errors = self.execute('SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL')
                if errors:
                    if previous is not None:
                        replace_file(path, previous)
                    raise BackendError('PostgreSQL rejects %s line %s: %s' % (path, errors[0][0], errors[0][1]))
                written = stamp_accepted(path, written, server)
            # What this write put in the file, parsed; a file someone changed meanwhile is read again.
            self._parsed = (written and digest_of(written.encode()), (groups, self._closing_lines()))
            self.execute('SELECT pg_reload_conf()')
            self.forget_reads()

    def _lock_access(self):
        self.execute('SELECT pg_advisory_lock(%s)', (ACCESS_LOCK,))

    def _unlock_access(self):
        self.execute('SELECT pg_advisory_unlock(%s)', (ACCESS_LOCK,))

    def _own_networks(self):
        """Where this task's connections come from, as the server sees them: the local addresses, and the
        address of a TCP login from elsewhere."""
        address = self.execute('SELECT host(inet_client_addr())')[0][0]
        networks = set(LOOPBACK_NETWORKS)
        if address:
            networks.add(str(ipaddress.ip_network(address)))
        return sorted(networks, key=network_order)

    def access(self):
        """(database, user, CIDR) that pg_hba.conf lets in over TCP for customer databases, beyond local ones."""
        rows = self.execute("SELECT database, user_name, address, netmask FROM pg_hba_file_rules"
                            " WHERE type = 'host' AND error IS NULL AND auth_method <> 'reject'")
        found = set()
        for databases, users, address, netmask in rows:
            for db_name in databases or ():
                if db_name.startswith('cust_') and address:
                    prefix = bin(int(ipaddress.ip_address(netmask))).count('1')
                    network = str(ipaddress.ip_network('%s/%d' % (address, prefix), strict=False))
                    if network not in LOOPBACK_NETWORKS:
                        found.update((db_name, user, network) for user in users or ())
        return found

    def terminate_disallowed_sessions(self, db_name, username, removed, remaining):
        """After the rule for ``removed`` went: end the user's sessions on this database that come from it and
        from no network still allowed (``remaining``, and the local addresses)."""
        rows = self.execute('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s'
                            ' AND usename = %s AND client_addr <<= %s::inet AND NOT client_addr <<= ANY(%s::inet[])',
                            (db_name, username, removed, list(LOOPBACK_NETWORKS) + list(remaining)))
        return sum(1 for row in rows if row[0])

    def drop_database(self, db_name):
        self.execute(self.sql('DROP DATABASE IF EXISTS {} WITH (FORCE)', db_name))

    def drop_user(self, username):
        self.execute(self.sql('DROP ROLE IF EXISTS {}', username))
