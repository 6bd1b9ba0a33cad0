# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Ansible side every module shares: common options, choosing a backend, turning errors into fail_json.

Modules stay thin: they declare their own options, decide what to change, and return a result;
``run`` is the one place that exits.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

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


def open_databases(module):
    """The backend object for the task's ``db_type`` and ``backend``; imports only what that backend needs.

    Both kinds hand out their credentials and firewall objects (``credentials()``, ``firewall()``).
    """
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
    databases = HostDatabases(params['db_type'], login, params['state_dir'], vault=vault, run=run)
    driver = params['firewall_driver'] or databases.catalog.setting('firewall_driver') or 'ufw'
    databases.network = NETWORKS[driver](run)
    return databases


# The options of modules that install a schedule on the host (backup policies, the metrics collector).
SCHEDULE_OPTIONS = dict(
    schedule_driver=dict(type='str', default='auto', choices=['auto', 'systemd', 'cron']),
    systemd_unit_dir=dict(type='path', default='/etc/systemd/system'),
    cron_dir=dict(type='path', default='/etc/cron.d'),
)


def schedule_of(module, databases):
    """The host Schedule the task's options describe."""
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule
    params = module.params
    return Schedule(databases.run, driver=None if params['schedule_driver'] == 'auto' else params['schedule_driver'],
                    unit_dir=params['systemd_unit_dir'], cron_dir=params['cron_dir'])


def identify(params):
    """(customer_id, requested_name, db_name) from ``name`` or ``customer_id`` + ``requested_name``, validated.

    db_name is None when only the API key can tell the customer (backend=api without customer_id).
    """
    db_type = params['db_type']
    if params['name']:
        customer_id, requested_name = naming.parse_technical_name(db_type, params['name'])
        if params['customer_id'] and params['customer_id'] != customer_id:
            raise ValidationError('customer_id %s does not match name %s' % (params['customer_id'], params['name']))
        return customer_id, requested_name, params['name']
    requested_name = naming.check_requested_name(params['requested_name'])
    if not params['customer_id']:
        return None, requested_name, None
    return params['customer_id'], requested_name, naming.technical_name(db_type, params['customer_id'], requested_name)


def locate(databases, params, required=False):
    """(customer_id, requested_name, db_name, the database or None) for the task's addressing options;
    with ``required``, a database that is not there is an error."""
    customer_id, requested_name, db_name = identify(params)
    database = databases.get(db_name) if db_name else databases.find(requested_name)
    if required and database is None:
        raise database_missing(params['db_type'], db_name or requested_name)
    return customer_id, requested_name, database['db_name'] if database else db_name, database


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
    """The ``databases`` option. for_each_database checks its items, not ansible-core: when an element is not
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


def for_each_database(module, check, manage, item_options=None, with_queries=False):
    """The task's one database, or each item of ``databases`` over one connection.

    A list exists to spare a module run per database (Ansible's own cost per run dwarfs the SQL). An item's
    options fall back to the task's, so settings common to all are written once. Every item is checked
    (its ``item_options`` as sub-options, then ``check(params)``) before anything is touched; then ``manage(databases, params, checked)`` returns each
    database's result. A list's result has them under ``databases``, ``changed`` when any changed, and one
    diff keyed by database. An item that fails ends the list with an error that carries the results of the
    items before it (unfinished_list).
    """
    items = module.params.get('databases')
    every = [module.params] if items is None else [
        dict(module.params, databases=None, **dict((key, value) for key, value in item.items() if value is not None))
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
    with closing(open_databases(module)) as databases:
        try:
            for params, found in zip(every, checked):
                results.append(manage(databases, params, found))
        except WaysCloudError as exc:
            if items is None or isinstance(exc, MissingLibrary):
                raise
            raise unfinished_list(exc, every, results, dict(queries=list(databases.queries)) if with_queries else {})
        finally:
            for warning in databases.warnings:
                module.warn(warning)
        queries = list(databases.queries)
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


def run(module, task):
    """Call ``task()`` -> result dict, exit with it; any WaysCloudError becomes a clean failure, with what the
    error's ``result`` carries (see errors.WaysCloudError)."""
    try:
        result = task()
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason=exc.reason), exception=traceback.format_exc())
    except WaysCloudError as exc:
        module.fail_json(msg=str(exc), **(exc.result or {}))
    module.exit_json(**result)
