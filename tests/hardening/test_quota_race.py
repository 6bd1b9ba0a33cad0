# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent creations against the API server's quota: the last free slot goes to one request only.

Found by the 8-fork benchmark (bench/ansible_runs.py): before the quota check and the creation became one
step under a per-customer lock, eight simultaneous requests left a customer with 21 of 20 databases.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import threading

from conftest import api_options, http_json, run_module


def _post(servers, requested_name, answers):
    status, answer = http_json(servers['WAYSCLOUD_API_URL'] + '/v1/databases', 'POST',
                               {'db_type': 'postgresql', 'requested_name': requested_name},
                               {'X-API-Key': servers['WAYSCLOUD_TEST_KEY_QUOTA']}, timeout=120)
    answers.append((status, answer['db_name'] if status == 200 else answer.get('detail')))


def test_eight_requests_for_the_last_slot(servers, figures):
    """Customer quota1 may have one database (scripts/api_server.sh): eight at once make exactly one."""
    servers = dict(servers, WAYSCLOUD_TEST_KEY_QUOTA=os.environ['WAYSCLOUD_TEST_KEY_QUOTA'])
    answers = []
    threads = [threading.Thread(target=_post, args=(servers, 'race%d' % number, answers)) for number in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        made = [name for status, name in answers if status == 200]
        refused = [detail for status, detail in answers if status == 403]
        figures('quota_race', {'requests': len(answers), 'created': len(made), 'refused_by_quota': len(refused)})
        assert len(made) == 1, answers
        assert len(refused) == 7 and all('quota exceeded' in detail for detail in refused), answers
    finally:
        for status, name in answers:
            if status == 200:
                result = run_module('wayscloud_database', dict(api_options(servers, 'postgresql', key='WAYSCLOUD_TEST_KEY_QUOTA'),
                                                               name=name, state='absent'))
                assert not result.get('failed'), result.get('msg')
