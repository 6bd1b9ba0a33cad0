# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies through the WaysCloud API: the same methods and shapes as host/backup_policy.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils import backup_rules
from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import database_request
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import BackupPolicy

RESULT_FIELDS = backup_rules.POLICY_FIELDS + ('db_name', 'db_type', 'last_backup', 'next_backup')


class ApiBackupPolicy(BackupPolicy):
    def __init__(self, backend):
        self.client = backend.client
        self.db_type = backend.db_type

    def _request(self, method, db_name, **kwargs):
        answer = database_request(self.client, method, self.db_type, db_name, 'backup-policy', **kwargs)
        return dict((field, answer.get(field)) for field in RESULT_FIELDS)

    def get(self, db_name):
        return self._request('GET', db_name)

    def plan(self, db_name, policy):
        policy = backup_rules.check_policy(policy)
        current = self.get(db_name)
        return dict(current, **policy), dict((field, value) for field, value in policy.items() if current[field] != value)

    def set(self, db_name, policy):
        """PUT is safe to repeat (it sets a state), so it is retried like a read."""
        return self._request('PUT', db_name, body=backup_rules.check_policy(policy), idempotent=True)
