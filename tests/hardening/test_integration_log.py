# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration gate's own log holds no key. scripts/test.sh runs this file at the end of gate ``integration``
(not in gate ``hardening``): the log, ansible-test's output and the keys searched for are that gate's, on its servers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from conftest import COLLECTION, KEYS, files_under


def test_integration_log_has_no_keys(servers, figures):
    """The integration gate runs every target at -vvvv (scripts/test.sh); its log and ansible-test's output
    must hold none of the API keys and the Vault token the targets used. Their passwords are unknown here:
    test_secrets.py covers passwords."""
    log = os.environ.get('WAYSCLOUD_INTEGRATION_LOG')
    if not log:
        pytest.skip('no integration log: gate integration runs this test after its targets')
    outputs = [log] + [path for path in files_under(os.path.join(COLLECTION, 'tests', 'output'))
                       if not path.endswith('integration_config.yml')]
    texts = {}
    for path in outputs:
        with open(path, 'rb') as handle:
            texts[path] = handle.read().decode('utf-8', 'replace')
    assert 'ESTABLISH LOCAL CONNECTION' in texts[log], 'the integration gate did not run at -vvvv'
    values = dict((name, os.environ[name]) for name in KEYS + ('WAYSCLOUD_VAULT_TOKEN',))
    leaks = sorted('%s in %s' % (name, path) for path, text in texts.items() for name, value in values.items() if value in text)
    figures('secrets_integration_log', dict(occurrences=len(leaks), secrets=len(values), files=len(texts),
                                            log_megabytes=round(os.path.getsize(log) / 1048576.0, 1)))
    assert leaks == []
