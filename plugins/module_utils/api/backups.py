# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies through the WaysCloud API: the same methods and shapes as host/backups.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils import backups as rules
from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import database_request

RESULT_FIELDS = rules.POLICY_FIELDS + ('db_name', 'db_type', 'last_backup', 'next_backup')


class ApiBackups:
    def __init__(self, databases):
        self.client = databases.client
        self.db_type = databases.db_type

    def _request(self, method, db_name, **kwargs):
        answer = database_request(self.client, method, self.db_type, db_name, 'backup-policy', **kwargs)
        return dict((field, answer.get(field)) for field in RESULT_FIELDS)

    def get(self, db_name):
        return self._request('GET', db_name)

    def set(self, db_name, policy, check_mode=False):
        """PUT is safe to repeat (it sets a state), so it is retried like a read."""
        policy = rules.check_policy(policy)
        current = self.get(db_name)
        changed = dict((field, current[field]) for field in rules.POLICY_FIELDS) != policy
        if not changed:
            return current, False
        if check_mode:
            return dict(current, **policy), True
        return self._request('PUT', db_name, body=policy, idempotent=True), True
