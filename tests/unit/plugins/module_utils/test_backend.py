# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both backends keep the contract of module_utils/backend.py: the same methods with the same signatures.

A method a backend has beyond the contract is either private (a leading underscore) or one its own engine
calls inside and no module does; those are listed here, so a new public method is a decision, not a drift.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import inspect

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils import backend
from ansible_collections.wayscloud.databases.plugins.module_utils.api.backup_policy import ApiBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.api.credentials import ApiCredentials
from ansible_collections.wayscloud.databases.plugins.module_utils.api.databases import ApiDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.api.firewall import ApiFirewall
from ansible_collections.wayscloud.databases.plugins.module_utils.api.overview import ApiOverview
from ansible_collections.wayscloud.databases.plugins.module_utils.api.snapshots import ApiSnapshots
from ansible_collections.wayscloud.databases.plugins.module_utils.host.backup_policy import HostBackupPolicy
from ansible_collections.wayscloud.databases.plugins.module_utils.host.credentials import HostCredentials
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.host.firewall import HostFirewall
from ansible_collections.wayscloud.databases.plugins.module_utils.host.overview import HostOverview
from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import HostSnapshots

PAIRS = [
    (backend.Databases, ApiDatabases, HostDatabases),
    (backend.Credentials, ApiCredentials, HostCredentials),
    (backend.Firewall, ApiFirewall, HostFirewall),
    (backend.Snapshots, ApiSnapshots, HostSnapshots),
    (backend.BackupPolicy, ApiBackupPolicy, HostBackupPolicy),
    (backend.Overview, ApiOverview, HostOverview),
]
# What the host engine itself uses beyond the contract (the backup job, deletion, restores, the quota module).
HOST_EXTRAS = {
    HostDatabases: {'catalog_record', 'change_access', 'databases_of'},
    HostFirewall: {'batch', 'forget_database', 'hand_over'},
    HostSnapshots: {'create_automated', 'last_automated', 'prune', 'settle', 'verify'},
    HostBackupPolicy: {'files', 'schedule_files', 'forget'},
    HostOverview: {'limits', 'set_quota'},
}


def public(cls):
    return dict((name, member) for name, member in inspect.getmembers(cls)
                if not name.startswith('_') and (inspect.isfunction(member) or isinstance(member, property)))


def signature(member):
    return None if isinstance(member, property) else inspect.signature(member)


@pytest.mark.parametrize('contract, api, host', PAIRS, ids=[pair[0].__name__ for pair in PAIRS])
def test_both_backends_offer_exactly_the_contract(contract, api, host):
    wanted = public(contract)
    for implementation in (api, host):
        assert issubclass(implementation, contract)
        found = public(implementation)
        extras = HOST_EXTRAS.get(implementation, set())
        assert sorted(set(found) - extras) == sorted(wanted), implementation.__name__
        for name, member in wanted.items():
            assert signature(found[name]) == signature(member), '%s.%s' % (implementation.__name__, name)
        assert not getattr(implementation, '__abstractmethods__', None), implementation.__abstractmethods__
