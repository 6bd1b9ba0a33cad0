# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Ansible side every module shares: common options, choosing a backend, and the one way a module runs.

Every module reads the same way (docs/dev.md): its options, ``check(params)`` (every option against its
rule, before anything connects), ``plan(backend, params, checked)`` (reads only: what the task finds and
what it would change, as a Plan) and the Plan's ``apply`` (the writes). ``run`` does the rest, once for
all modules: a ``databases`` list item by item, check mode (a plan's ``apply`` is never called in it),
the result, and errors turned into fail_json. It is the one place that exits.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import os
import traceback
from contextlib import closing

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import MissingLibrary, WaysCloudError, database_missing
from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import ENVIRONMENT as VAULT_ENVIRONMENT

BACKEND_ARGUMENT_SPEC = dict(
    backend=dict(type='str', default='api', choices=['api', 'host']),
)

# Mirrors doc_fragments/api.py.
API_ARGUMENT_SPEC = dict(
    api_url=dict(type='str', default='https://api.wayscloud.services', fallback=(env_fallback, ['WAYSCLOUD_API_URL'])),
    api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['WAYSCLOUD_API_KEY'])),
    validate_certs=dict(type='bool', default=True),
    api_timeout=dict(type='int', default=30),
    operation_timeout=dict(type='int', default=3600),
    api_retries=dict(type='int', default=5),
    api_retry_max_delay=dict(type='int', default=30),
)

# Mirrors doc_fragments/vault.py; the environment variables are community.hashi_vault's (vault.ENVIRONMENT).
VAULT_ARGUMENT_SPEC = dict(
    vault_url=dict(type='str', fallback=(env_fallback, VAULT_ENVIRONMENT['vault_url'])),
    vault_auth_method=dict(type='str', choices=['token', 'approle'],
                           fallback=(env_fallback, VAULT_ENVIRONMENT['vault_auth_method'])),
    vault_token=dict(type='str', no_log=True, fallback=(env_fallback, VAULT_ENVIRONMENT['vault_token'])),
    vault_role_id=dict(type='str', no_log=False, fallback=(env_fallback, VAULT_ENVIRONMENT['vault_role_id'])),
    vault_secret_id=dict(type='str', no_log=True, fallback=(env_fallback, VAULT_ENVIRONMENT['vault_secret_id'])),
    vault_auth_mount=dict(type='str', default='approle'),
    vault_namespace=dict(type='str', fallback=(env_fallback, VAULT_ENVIRONMENT['vault_namespace'])),
    vault_mount=dict(type='str', default='secret'),
    vault_path_prefix=dict(type='str', default='wayscloud/databases'),
    vault_ca_cert=dict(type='path', fallback=(env_fallback, VAULT_ENVIRONMENT['vault_ca_cert'])),
    vault_validate_certs=dict(type='bool'),
    return_password=dict(type='bool', default=True, no_log=False),
)

# Mirrors doc_fragments/host.py.
HOST_ARGUMENT_SPEC = dict(
    login_host=dict(type='str'),
    login_port=dict(type='int'),
    login_user=dict(type='str'),
    login_password=dict(type='str', no_log=True),
    login_unix_socket=dict(type='str'),
    state_dir=dict(type='path', default='/var/lib/wayscloud'),
    public_host=dict(type='str'),
    firewall_driver=dict(type='str', choices=['ufw', 'nftables', 'none']),
    # Per engine, so that one module_defaults block serves both. Checked by engine_logins, not by ansible-core:
    # given a value that is not a dict, its check of sub-options fails before it knows the no_log values, and
    # its error shows them. The passwords have an option of their own, so that no_log hides them and only them.
    logins=dict(type='dict'),
    login_passwords=dict(type='dict', no_log=True),
)
# The settings an entry of ``logins`` may hold, checked as the options of the same name are.
LOGIN_SETTINGS = ('login_host', 'login_port', 'login_user', 'login_unix_socket', 'public_host')


# (option, least, most): past these a socket refuses the timeout (a traceback) or a failing task never ends.
API_BOUNDS = (('api_timeout', 1, 3600), ('operation_timeout', 1, 86400), ('api_retries', 0, 100),
              ('api_retry_max_delay', 1, 3600))


def argument_spec(**module_options):
    """The common options (backend, API, host, Vault) plus the module's own. Every module takes every common
    option, those its backend does not use too, so that one module_defaults block of the action group serves
    them all."""
    spec = dict(BACKEND_ARGUMENT_SPEC)
    spec.update(API_ARGUMENT_SPEC)
    spec.update(HOST_ARGUMENT_SPEC)
    spec.update(VAULT_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


def engine_logins(module):
    """{db_type: {setting: value}} of ``logins`` (every setting of LOGIN_SETTINGS, None where not given) with
    ``login_passwords`` as each engine's ``login_password``; checked before anything connects. A message names
    the engine and the setting, never a value; a setting ``logins`` does not take (a password put there) is
    hidden from the task's output as no_log options are."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    params = module.params
    validator = ArgumentSpecValidator(dict((name, HOST_ARGUMENT_SPEC[name]) for name in LOGIN_SETTINGS))
    found = {}
    for db_type, entry in _by_engine(params['logins'], 'logins'):
        if not isinstance(entry, dict):
            raise ValidationError('logins.%s must be a dict of %s' % (db_type, ', '.join(LOGIN_SETTINGS)))
        unknown = sorted(key for key in entry if key not in LOGIN_SETTINGS)
        if unknown:
            module.no_log_values.update(str(entry[key]) for key in unknown if entry[key] not in (None, ''))
            raise ValidationError('logins.%s: no setting %s (it takes %s; passwords go in login_passwords)'
                                  % (db_type, ', '.join(str(key) for key in unknown), ', '.join(LOGIN_SETTINGS)))
        outcome = validator.validate(entry)
        if outcome.error_messages:
            raise ValidationError('logins.%s: %s' % (db_type, '; '.join(outcome.error_messages)))
        check_port('logins.%s.login_port' % db_type, outcome.validated_parameters['login_port'])
        found[db_type] = outcome.validated_parameters
    for db_type, password in _by_engine(params['login_passwords'], 'login_passwords'):
        if not isinstance(password, str):
            raise ValidationError('login_passwords.%s must be a string' % db_type)
        found.setdefault(db_type, dict((name, None) for name in LOGIN_SETTINGS))['login_password'] = password
    return found


def _by_engine(value, option):
    """The (db_type, value) pairs of a per-engine option, whose keys must be engines."""
    unknown = sorted(str(key) for key in (value or {}) if key not in naming.DB_TYPES)
    if unknown:
        raise ValidationError('%s is keyed by engine (%s), not %s'
                              % (option, ', '.join(naming.DB_TYPES), ', '.join(unknown)))
    return sorted((value or {}).items())


def check_port(option, port):
    if port is not None and not 1 <= port <= 65535:
        raise ValidationError('%s must be a TCP port, 1 to 65535 (got %d)' % (option, port))


def server_login(params, logins, db_type):
    """The ServerLogin of ``db_type``: each login option the task sets, else that engine's entry of ``logins``
    (engine_logins)."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
    entry = logins.get(db_type, {})
    own = db_type == params['db_type']
    value = dict((name, params[name] if own and params[name] is not None else entry.get(name))
                 for name in LOGIN_SETTINGS + ('login_password',))
    check_port('login_port', value['login_port'])
    return ServerLogin(host=value['login_host'], port=value['login_port'], user=value['login_user'],
                       password=value['login_password'], unix_socket=value['login_unix_socket'],
                       public_host=value['public_host'])


def vault_store(params):
    """The VaultStore the task's Vault options describe (VAULT_SKIP_VERIFY when vault_validate_certs is not given),
    or None without vault_url."""
    if not params['vault_url']:
        return None
    from ansible_collections.wayscloud.databases.plugins.module_utils.vault import store_from
    return store_from(params, os.environ)


def open_backend(module, logins, vault):
    """The backend (module_utils/backend.py) for the task's ``db_type`` and ``backend``; imports only what that
    backend needs. ``logins``: engine_logins (host); ``vault``: whether the module keeps credentials (in Vault,
    when vault_url is set: on a host, the engine's secrets; through the API, the passwords it answers)."""
    params = module.params
    if params['backend'] == 'api':
        from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import ApiClient
        from ansible_collections.wayscloud.databases.plugins.module_utils.api.databases import ApiDatabases
        for option, least, most in API_BOUNDS:
            if not least <= params[option] <= most:
                raise ValidationError('%s must be from %d to %d (got %d)' % (option, least, most, params[option]))
        client = ApiClient(url=params['api_url'], key=params['api_key'], timeout=params['api_timeout'],
                           validate_certs=params['validate_certs'], retries=params['api_retries'],
                           retry_max_delay=params['api_retry_max_delay'], operation_timeout=params['operation_timeout'])
        return ApiDatabases(params['db_type'], client, customer_id=params.get('customer_id'),
                            vault=vault_store(params) if vault else None)
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS, command_failed
    login = server_login(params, logins, params['db_type'])
    others = dict((db_type, server_login(params, logins, db_type)) for db_type in logins if db_type != params['db_type'])
    store = vault_store(params) if vault else None

    def run(argv, stdin=None, env=None):
        """Packet-filter and dump commands through Ansible's own runner (secrets only in ``env``, never argv)."""
        rc, out, err = module.run_command(argv, data=stdin, binary_data=True, environ_update=env or {})
        if rc != 0:
            raise command_failed(argv, rc, out, err)
        return out
    backend = HostDatabases(params['db_type'], login, params['state_dir'], vault=store, run=run,
                            schedule=schedule_of(params, run) if 'schedule_driver' in params else None, logins=others)
    driver = params['firewall_driver'] or backend.catalog.setting('firewall_driver') or 'ufw'
    backend.network = NETWORKS[driver](run)
    return backend


# The options of modules that install a schedule on the host (backup policies, the metrics collector).
SCHEDULE_OPTIONS = dict(
    schedule_driver=dict(type='str', default='auto', choices=['auto', 'systemd', 'cron']),
    systemd_unit_dir=dict(type='path', default='/etc/systemd/system'),
    cron_dir=dict(type='path', default='/etc/cron.d'),
)


# The ``backend`` option of a module that acts on a database host alone (HOST_ONLY_OPTIONS): it defaults to host,
# and still takes api, so that a group's module_defaults naming api reaches it and is refused by host_only with a
# message that says why, rather than by ansible-core's choices.
HOST_ONLY_OPTIONS = dict(backend=dict(type='str', default='host', choices=['api', 'host']))


def host_only(params, module_name, why):
    """A module that acts on a database host alone refuses backend api, before anything connects, saying ``why``."""
    if params['backend'] != 'host':
        raise ValidationError('backend api: %s acts on a database host only (%s); set backend: host (its default, which'
                              ' a module_defaults of the group wayscloud.databases.all with backend: api overrides)'
                              % (module_name, why))


def schedule_of(params, run):
    """The host Schedule the task's options describe."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule
    return Schedule(run, driver=None if params['schedule_driver'] == 'auto' else params['schedule_driver'],
                    unit_dir=params['systemd_unit_dir'], cron_dir=params['cron_dir'])


Name = collections.namedtuple('Name', 'customer_id requested_name db_name')


def identify(params):
    """The Name ``name`` or ``customer_id`` + ``requested_name`` give, validated.

    db_name is None when only the API key can tell the customer (backend=api without customer_id).
    """
    db_type = params['db_type']
    if params['name']:
        customer_id, requested_name = naming.parse_technical_name(db_type, params['name'])
        if params['customer_id'] and params['customer_id'] != customer_id:
            raise ValidationError('customer_id %s does not match name %s' % (params['customer_id'], params['name']))
        return Name(customer_id, requested_name, params['name'])
    requested_name = naming.check_requested_name(params['requested_name'])
    if not params['customer_id']:
        return Name(None, requested_name, None)
    return Name(params['customer_id'], requested_name,
                naming.technical_name(db_type, params['customer_id'], requested_name))


Located = collections.namedtuple('Located', 'customer_id requested_name db_name database')


def locate(backend, params, required=False):
    """The Located database of the task's addressing options (``database`` None when it does not exist); with
    ``required``, a database that is not there is an error."""
    customer_id, requested_name, db_name = identify(params)
    database = backend.get(db_name) if db_name else backend.find(requested_name)
    if required and database is None:
        raise database_missing(params['db_type'], db_name or requested_name)
    return Located(customer_id, requested_name, database['db_name'] if database else db_name, database)


# The options that address one database, shared by the modules that act on one.
ADDRESS_OPTIONS = dict(
    db_type=dict(type='str', required=True, choices=list(naming.DB_TYPES)),
    requested_name=dict(type='str'),
    customer_id=dict(type='str'),
    name=dict(type='str'),
)
ADDRESS_RULES = dict(required_one_of=[('name', 'requested_name')], mutually_exclusive=[('name', 'requested_name')])
# Modules that take several databases in one task (``databases``) address each item like this.
LIST_RULES = dict(required_one_of=[('name', 'requested_name', 'databases')],
                  mutually_exclusive=[('name', 'requested_name', 'databases')])


def databases_option():
    """The ``databases`` option. run checks its items, not ansible-core: when an element is not
    a dict, ansible-core's check of sub-options fails before it knows the no_log values, and its error shows them."""
    return dict(databases=dict(type='list', elements='dict'))


def checked_items(items, item_options, hide):
    """Each item of ``databases`` validated and converted like sub-options, with every option (None if absent).
    ``hide`` takes the values of options an item does not take (a password put there), as engine_logins does."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    spec = dict((key, value) for key, value in ADDRESS_OPTIONS.items() if key != 'db_type')
    spec.update(item_options)
    validator = ArgumentSpecValidator(spec, **ADDRESS_RULES)
    checked = []
    for index, item in enumerate(items):
        outcome = validator.validate(item)
        unknown = sorted(found if isinstance(found, str) else found[0] for found in outcome.unsupported_parameters)
        if unknown:
            hide(str(item[key]) for key in unknown if key in item and item[key] not in (None, ''))
            raise ValidationError('databases[%d]: an item has no option %s (it takes %s)'
                                  % (index, ', '.join(unknown), ', '.join(sorted(spec))))
        if outcome.error_messages:
            raise ValidationError('databases[%d]: %s' % (index, '; '.join(outcome.error_messages)))
        checked.append(outcome.validated_parameters)
    return checked


class Plan:
    """What a task found and would change. ``apply``: the writes, a function that makes them and returns the
    result (None: nothing to write). ``result``: what the task answers when nothing is applied (check mode, or
    nothing to change), a dict, or a function returning one when working it out costs what a real run need
    not spend (reading a whole snapshot back, say). ``warning``: what the task says, without failing, when it
    answers ``result``."""

    def __init__(self, result, apply=None, warning=None):
        self.result = result
        self.apply = apply
        self.warning = warning

    def carry_out(self, check_mode, warn):
        if self.apply is not None and not check_mode:
            return self.apply()
        if self.warning:
            warn(self.warning)
        return self.result() if callable(self.result) else self.result


def until_created(params, found, planned, what, real_run=None):
    """``planned`` for a Located database that exists. For one that does not (yet): check mode answers
    ``planned``'s result, what the task would do had an earlier task of the play created the database (a check
    run creates nothing), with a warning that says so and names ``what`` it predicts; a real run does
    ``real_run`` (a function returning the result), by default fail as for any database that is not there."""
    if found.database is not None:
        return planned
    name = found.db_name or found.requested_name

    def missing():
        raise database_missing(params['db_type'], name)
    return Plan(planned.result, real_run or missing,
                warning='%s database %s does not exist yet: check mode predicts %s as if an earlier task of the'
                        ' play created it' % (params['db_type'], name, what))


def _each_database(module, check, plan, item_options, with_queries, vault):
    """The task's one database, or each item of ``databases`` over one connection.

    A list exists to spare a module run per database (Ansible's own cost per run dwarfs the SQL). An item's
    options fall back to the task's, so settings common to all are written once. Every item is checked
    (its ``item_options`` as sub-options, then ``check(params)``) before anything is touched; then each is
    planned and carried out in turn. A list's result has them under ``databases``, ``changed`` when any
    changed, and one diff keyed by database. An item that fails ends the list with an error that carries the
    results of the items before it (unfinished_list).
    """
    logins = engine_logins(module)  # first: it hides a password misplaced in logins from any failure's output
    items = None if item_options is None else module.params['databases']  # the quota module's is a number
    every = [module.params] if items is None else [
        dict(module.params, **dict((key, value) for key, value in item.items() if value is not None))
        for item in checked_items(items, item_options, module.no_log_values.update)]
    checked = []
    for index, params in enumerate(every):
        try:
            checked.append(check(params))
        except ValidationError as exc:
            if items is None:
                raise
            raise ValidationError('databases[%d]: %s' % (index, exc))
    results = []
    with closing(open_backend(module, logins, vault)) as backend:
        try:
            with backend.batch():
                for params, found in zip(every, checked):
                    results.append(plan(backend, params, found).carry_out(module.check_mode, module.warn))
        except WaysCloudError as exc:
            if items is None or isinstance(exc, MissingLibrary):
                raise
            if len(results) == len(every):  # the batch's writes at the end failed: they concern every item
                raise WaysCloudError('the list\'s changes could not all be made: %s' % exc,
                                     result=dict(listed(results), **(dict(queries=list(backend.queries)) if with_queries else {})))
            raise unfinished_list(exc, every, results, dict(queries=list(backend.queries)) if with_queries else {})
        finally:
            for warning in backend.warnings:
                module.warn(warning)
        queries = list(backend.queries)
    extra = dict(queries=queries) if with_queries else {}
    if items is None:
        return dict(results[0], **extra)
    diff = dict(before={}, after={})
    for params, result in zip(every, results):
        for side in diff:
            diff[side][params['name'] or params['requested_name']] = result.get('diff', {}).get(side)
    return dict(listed(results), diff=diff, **extra)


def item_label(index, params):
    """How a message names an item of ``databases``."""
    return 'databases[%d] (%s)' % (index, params['name'] or params['requested_name'])


def unfinished_list(exc, every, results, extra):
    """The error of a ``databases`` list that failed at item len(results): it names that item and the items
    before it that created a database; its result lists the results of every item before it (passwords of new
    databases included), so a task registered under ``no_log`` loses none of them."""
    failed = len(results)
    created = [item_label(index, params) for index, (params, result) in enumerate(zip(every, results))
               if 'password' in result]
    done = ''
    if created:
        done = ('; created before it: %s (each password is %s)' % (', '.join(created), (
            'in the result under databases[i].password' if every[failed]['return_password'] else 'in Vault')))
    elif results:
        done = '; the items before it were done (their results are in the result under databases)'
    return WaysCloudError('%s: %s%s' % (item_label(failed, every[failed]), exc, done),
                          result=dict(listed(results), **extra))


def listed(results):
    """A list's ``changed`` and ``databases`` from its items' results (their diffs go into the task's one diff)."""
    return dict(changed=any(result['changed'] for result in results),
                databases=[dict((key, value) for key, value in result.items() if key != 'diff') for result in results])


def password_home(params):
    """A task that leaves a password it sets out of its result (``return_password`` false) has Vault keep it:
    checked before anything connects."""
    if not params['return_password'] and not params['vault_url']:
        raise ValidationError('return_password false needs vault_url: without Vault the result is the only place'
                              ' a new password is kept')


def without_passwords(params, result):
    """``result`` (of a task, or of a failed one) without the passwords it holds when the task leaves them to Vault
    (``return_password`` false, see password_home)."""
    if params['return_password'] or not result:
        return result
    result = dict((key, value) for key, value in result.items() if key != 'password')
    if isinstance(result.get('databases'), list):
        result['databases'] = [dict((key, value) for key, value in item.items() if key != 'password')
                               if isinstance(item, dict) else item for item in result['databases']]
    return result


def run(module, check, plan, item_options=None, with_queries=False, vault=False):
    """Run a module (module docstring) and exit with its result; any WaysCloudError becomes a clean failure, with
    what the error's ``result`` carries (see errors.WaysCloudError). ``item_options``: what an item of a
    ``databases`` list may set (None: the module takes no list); ``with_queries``: return what the backend ran; ``vault``: the module keeps
    credentials (the others take the Vault options and ignore them). A password goes into neither when the task
    leaves it to Vault (without_passwords)."""
    try:
        result = _each_database(module, check, plan, item_options, with_queries, vault)
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason=exc.reason), exception=traceback.format_exc())
    except WaysCloudError as exc:
        message = str(exc)
        if 'password' in (exc.result or {}):
            message += ('; it is returned with this error, under password' if module.params['return_password']
                        else '; return_password is false: it is not in this result')
        module.fail_json(msg=message, **without_passwords(module.params, exc.result or {}))
    module.exit_json(**without_passwords(module.params, result))
