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

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import MissingLibrary, WaysCloudError
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

# Mirrors doc_fragments/host.py.
HOST_ARGUMENT_SPEC = dict(
    login_host=dict(type='str'),
    login_port=dict(type='int'),
    login_user=dict(type='str'),
    login_password=dict(type='str', no_log=True),
    login_unix_socket=dict(type='str'),
    state_dir=dict(type='path', default='/var/lib/wayscloud'),
    public_host=dict(type='str'),
)


def argument_spec(**module_options):
    spec = dict(BACKEND_ARGUMENT_SPEC)
    spec.update(API_ARGUMENT_SPEC)
    spec.update(HOST_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


def open_databases(params, db_type):
    """The backend object for ``db_type`` chosen by ``backend``; imports only what that backend needs."""
    if params['backend'] == 'api':
        from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import ApiClient
        from ansible_collections.wayscloud.databases.plugins.module_utils.api.databases import ApiDatabases
        for option, least in (('api_timeout', 1), ('api_retries', 0), ('api_retry_max_delay', 1)):
            if params[option] < least:
                raise ValidationError('%s must be at least %d (got %d)' % (option, least, params[option]))
        client = ApiClient(url=params['api_url'], key=params['api_key'], timeout=params['api_timeout'],
                           validate_certs=params['validate_certs'], retries=params['api_retries'],
                           retry_max_delay=params['api_retry_max_delay'])
        return ApiDatabases(db_type, client, customer_id=params.get('customer_id'))
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
    from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
    login = ServerLogin(host=params['login_host'], port=params['login_port'], user=params['login_user'],
                        password=params['login_password'], unix_socket=params['login_unix_socket'],
                        public_host=params['public_host'])
    return HostDatabases(db_type, login, params['state_dir'])


def run(module, task):
    """Call ``task()`` -> result dict, exit with it; any WaysCloudError becomes a clean failure."""
    try:
        result = task()
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason=exc.reason), exception=traceback.format_exc())
    except WaysCloudError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)
