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
import traceback
from contextlib import closing

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import MissingLibrary, WaysCloudError, database_missing
from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

BACKEND_ARGUMENT_SPEC = dict(
    backend=dict(type='str', default='api', choices=['api', 'host']),
)

# Mirrors doc_fragments/api.py.
API_ARGUMENT_SPEC = dict(
    api_url=dict(type='str', default='https://api.wayscloud.services', fallback=(env_fallback, ['WAYSCLOUD_API_URL'])),
    api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['WAYSCLOUD_API_KEY'])),
    validate_certs=dict(type='bool', default=True),
    api_timeout=dict(type='int', default=30),
    api_retries=dict(type='int', default=5),
    api_retry_max_delay=dict(type='int', default=30),
)

# Mirrors doc_fragments/vault.py.
VAULT_ARGUMENT_SPEC = dict(
    vault_url=dict(type='str', fallback=(env_fallback, ['VAULT_ADDR'])),
    vault_token=dict(type='str', no_log=True, fallback=(env_fallback, ['VAULT_TOKEN'])),
    vault_mount=dict(type='str', default='secret'),
    vault_path_prefix=dict(type='str', default='wayscloud/databases'),
    vault_validate_certs=dict(type='bool', default=True),
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
)


# (option, least, most): past these a socket refuses the timeout (a traceback) or a failing task never ends.
API_BOUNDS = (('api_timeout', 1, 3600), ('api_retries', 0, 100), ('api_retry_max_delay', 1, 3600))


def argument_spec(vault=True, **module_options):
    """Common options (backend, API, host, and Vault unless ``vault=False``) plus the module's own."""
    spec = dict(BACKEND_ARGUMENT_SPEC)
    spec.update(API_ARGUMENT_SPEC)
    spec.update(HOST_ARGUMENT_SPEC)
    if vault:
        spec.update(VAULT_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


def open_backend(module):
    """The backend (module_utils/backend.py) for the task's ``db_type`` and ``backend``; imports only what that
    backend needs."""
    params = module.params
    if params['backend'] == 'api':
        from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import ApiClient
        from ansible_collections.wayscloud.databases.plugins.module_utils.api.databases import ApiDatabases
        for option, least, most in API_BOUNDS:
            if not least <= params[option] <= most:
                raise ValidationError('%s must be from %d to %d (got %d)' % (option, least, most, params[option]))
        client = ApiClient(url=params['api_url'], key=params['api_key'], timeout=params['api_timeout'],
                           validate_certs=params['validate_certs'], retries=params['api_retries'],
                           retry_max_delay=params['api_retry_max_delay'])
        return ApiDatabases(params['db_type'], client, customer_id=params.get('customer_id'))
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS, command_failed
    if params['login_port'] is not None and not 1 <= params['login_port'] <= 65535:
        raise ValidationError('login_port must be a TCP port, 1 to 65535 (got %d)' % params['login_port'])
    login = ServerLogin(host=params['login_host'], port=params['login_port'], user=params['login_user'],
                        password=params['login_password'], unix_socket=params['login_unix_socket'],
                        public_host=params['public_host'])
    vault = None
    if params.get('vault_url'):
        from ansible_collections.wayscloud.databases.plugins.module_utils.host.vault import VaultStore
        vault = VaultStore(params['vault_url'], params['vault_token'], mount=params['vault_mount'],
                           prefix=params['vault_path_prefix'], validate_certs=params['vault_validate_certs'])

    def run(argv, stdin=None, env=None):
        """Packet-filter and dump commands through Ansible's own runner (secrets only in ``env``, never argv)."""
        rc, out, err = module.run_command(argv, data=stdin, binary_data=True, environ_update=env or {})
        if rc != 0:
            raise command_failed(argv, rc, out, err)
        return out
    backend = HostDatabases(params['db_type'], login, params['state_dir'], vault=vault, run=run,
                            schedule=schedule_of(params, run) if 'schedule_driver' in params else None)
    driver = params['firewall_driver'] or backend.catalog.setting('firewall_driver') or 'ufw'
    backend.network = NETWORKS[driver](run)
    return backend


# The options of modules that install a schedule on the host (backup policies, the metrics collector).
SCHEDULE_OPTIONS = dict(
    schedule_driver=dict(type='str', default='auto', choices=['auto', 'systemd', 'cron']),
    systemd_unit_dir=dict(type='path', default='/etc/systemd/system'),
    cron_dir=dict(type='path', default='/etc/cron.d'),
)


def host_only(params, message):
    """A module that acts on a database host alone refuses another backend, before anything connects."""
    if params['backend'] != 'host':
        raise ValidationError(message)


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


def checked_items(items, item_options):
    """Each item of ``databases`` validated and converted like sub-options, with every option (None if absent)."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    spec = dict((key, value) for key, value in ADDRESS_OPTIONS.items() if key != 'db_type')
    spec.update(item_options)
    validator = ArgumentSpecValidator(spec, **ADDRESS_RULES)
    checked = []
    for index, item in enumerate(items):
        outcome = validator.validate(item)
        unknown = sorted(found if isinstance(found, str) else found[0] for found in outcome.unsupported_parameters)
        if unknown:
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
    not spend (reading a whole snapshot back, say)."""

    def __init__(self, result, apply=None):
        self.result = result
        self.apply = apply

    def carry_out(self, check_mode):
        if self.apply is not None and not check_mode:
            return self.apply()
        return self.result() if callable(self.result) else self.result


def _each_database(module, check, plan, item_options, with_queries):
    """The task's one database, or each item of ``databases`` over one connection.

    A list exists to spare a module run per database (Ansible's own cost per run dwarfs the SQL). An item's
    options fall back to the task's, so settings common to all are written once. Every item is checked
    (its ``item_options`` as sub-options, then ``check(params)``) before anything is touched; then each is
    planned and carried out in turn. A list's result has them under ``databases``, ``changed`` when any
    changed, and one diff keyed by database. An item that fails ends the list with an error that carries the
    results of the items before it (unfinished_list).
    """
    items = module.params.get('databases')
    every = [module.params] if items is None else [
        dict(module.params, **dict((key, value) for key, value in item.items() if value is not None))
        for item in checked_items(items, item_options or {})]
    checked = []
    for index, params in enumerate(every):
        try:
            checked.append(check(params))
        except ValidationError as exc:
            if items is None:
                raise
            raise ValidationError('databases[%d]: %s' % (index, exc))
    results = []
    with closing(open_backend(module)) as backend:
        try:
            for params, found in zip(every, checked):
                results.append(plan(backend, params, found).carry_out(module.check_mode))
        except WaysCloudError as exc:
            if items is None or isinstance(exc, MissingLibrary):
                raise
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
        done = ('; created before it: %s (each password is in the result under databases[i].password)'
                % ', '.join(created))
    elif results:
        done = '; the items before it were done (their results are in the result under databases)'
    return WaysCloudError('%s: %s%s' % (item_label(failed, every[failed]), exc, done),
                          result=dict(listed(results), **extra))


def listed(results):
    """A list's ``changed`` and ``databases`` from its items' results (their diffs go into the task's one diff)."""
    return dict(changed=any(result['changed'] for result in results),
                databases=[dict((key, value) for key, value in result.items() if key != 'diff') for result in results])


def run(module, check, plan, item_options=None, with_queries=False):
    """Run a module (module docstring) and exit with its result; any WaysCloudError becomes a clean failure, with
    what the error's ``result`` carries (see errors.WaysCloudError). ``item_options``: what an item of a
    ``databases`` list may set; ``with_queries``: return what the backend ran."""
    try:
        result = _each_database(module, check, plan, item_options, with_queries)
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason=exc.reason), exception=traceback.format_exc())
    except WaysCloudError as exc:
        module.fail_json(msg=str(exc), **(exc.result or {}))
    module.exit_json(**result)
