# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials through the WaysCloud API: the same methods and shapes as host/credentials.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import database_request
from ansible_collections.wayscloud.databases.plugins.module_utils.backend import Credentials
from ansible_collections.wayscloud.databases.plugins.module_utils.resources import CREDENTIALS_FIELDS


class ApiCredentials(Credentials):
    def __init__(self, backend):
        self.client = backend.client
        self.db_type = backend.db_type

    def _request(self, method, db_name, *parts, **kwargs):
        return database_request(self.client, method, self.db_type, db_name, 'credentials', *parts, **kwargs)

    def get(self, db_name, settle=True):
        """``settle`` is the server's business through the API."""
        answer = self._request('GET', db_name)
        return dict((field, answer.get(field)) for field in CREDENTIALS_FIELDS)

    def rotate(self, db_name):
        """Never repeated on an unclear failure: a second rotation would lose the first one's password."""
        answer = self._request('POST', db_name, 'rotate', idempotent=False)
        credentials = dict((field, answer.get(field)) for field in CREDENTIALS_FIELDS)
        credentials['database'] = answer.get('db_name', db_name)
        return credentials, answer['password']
