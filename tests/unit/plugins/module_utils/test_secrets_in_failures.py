# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A secret put where no_log does not reach (in ``logins``, or under a key an item of ``databases`` does not take)
stays out of the failure's output, also when another option fails first. No server is needed: the modules fail
before they connect."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

SECRET = 'S3cret-put-in-logins'


def test_a_password_misplaced_in_logins_stays_hidden_when_another_option_fails_first(tmp_path):
    path = tmp_path / 'args.json'
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(
        backend='host', db_type='postgresql', name='not a database name',
        logins={'postgresql': {'login_password': SECRET}})}))
    done = subprocess.run([sys.executable, '-m', 'ansible_collections.wayscloud.databases.plugins.modules.'
                           'wayscloud_database_info', str(path)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ), check=False)
    result = json.loads(done.stdout)
    assert result.get('failed') and 'Traceback' not in done.stderr, result
    assert SECRET not in done.stdout + done.stderr


def test_a_secret_misplaced_in_an_item_of_databases_stays_hidden(tmp_path):
    """The same for an item of ``databases``: the message names the unknown option, the invocation showed its value."""
    path = tmp_path / 'args.json'
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(
        backend='host', db_type='postgresql', customer_id='abc',
        databases=[dict(requested_name='a', login_password=SECRET)])}))
    done = subprocess.run([sys.executable, '-m', 'ansible_collections.wayscloud.databases.plugins.modules.'
                           'wayscloud_database', str(path)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ), check=False)
    result = json.loads(done.stdout)
    assert result.get('failed') and 'an item has no option login_password' in result['msg'], result
    assert SECRET not in done.stdout + done.stderr
