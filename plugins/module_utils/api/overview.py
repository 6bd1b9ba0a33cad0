# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Engines, quota and history through the WaysCloud API: the same methods and shapes as host/overview.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import path
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Overview


class ApiOverview(Overview):
    def __init__(self, backend):
        self.client = backend.client
        self.customer_id = backend.customer_id

    def _query(self, customer_id):
        customer_id = customer_id or self.customer_id
        return {'customer_id': customer_id} if customer_id else None

    def engines(self):
        """Needs a service (internal) API key, as the contract says."""
        return (self.client.request('GET', path('v1', 'databases', 'engines')) or {}).get('engines', [])

    def quota(self, customer_id=None):
        answer = self.client.request('GET', path('v1', 'quota'), query=self._query(customer_id)) or {}
        return dict(answer, customer_id=customer_id or self.customer_id, engines_not_counted=[])

    def history(self, customer_id=None):
        answer = self.client.request('GET', path('v1', 'databases', 'history'), query=self._query(customer_id))
        return (answer or {}).get('history', [])
