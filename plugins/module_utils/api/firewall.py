# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Firewall rules through the WaysCloud API: the same methods and shapes as host/firewall.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import database_request
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Firewall
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import RULE_FIELDS


class ApiFirewall(Firewall):
    def __init__(self, backend):
        self.client = backend.client
        self.db_type = backend.db_type

    def _request(self, method, db_name, *parts, **kwargs):
        return database_request(self.client, method, self.db_type, db_name, 'firewall', *parts, **kwargs)

    @staticmethod
    def _result(item):
        """A rule as the collection shapes it; the address in CIDR form whatever form the API used."""
        rule = dict((field, item.get(field)) for field in RULE_FIELDS)
        try:
            rule['ip_address'] = str(ipaddress.ip_network(rule['ip_address'], strict=False))
        except (TypeError, ValueError):
            pass
        return rule

    def owner_of(self, rule_id):
        """Unknown through the API: a key sees only the rules of the database it names."""
        return None

    def drift(self, db_name, changing=()):
        """Nothing to see through the API: the service compares its own servers with its rules."""
        return []

    def repair(self, db_name):
        """Nothing to ask of the API: see drift."""
        return []

    def list(self, db_name):
        return [self._result(item) for item in self._request('GET', db_name).get('rules', [])]

    def add(self, db_name, ip_address, description=None):
        """POST is not repeated after an unclear failure: a lost answer could leave a second rule."""
        body = {'ip_address': ip_address, 'description': description}
        return self._result(self._request('POST', db_name, body=body, idempotent=False)), True

    def describe(self, db_name, rule, description):
        """The API cannot change a rule: the new description comes with a new rule (and rule_id)."""
        self.remove(db_name, rule['rule_id'])
        return self.add(db_name, rule['ip_address'], description)[0]

    def remove(self, db_name, rule_id):
        """A retry answered 404 after an unclear attempt (answer lost) means that attempt removed the rule."""
        try:
            self._request('DELETE', db_name, rule_id)
        except NotFound:
            if not self.client.last_request_unclear:
                raise
        return rule_id
