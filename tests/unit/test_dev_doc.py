# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/dev.md shows the smallest module as it is."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_example_is_the_module():
    with open(os.path.join(ROOT, 'docs', 'dev.md')) as handle:
        shown = re.search(r'^```python\n(.*?)^```', handle.read(), re.S | re.M).group(1)
    with open(os.path.join(ROOT, 'plugins', 'modules', 'wayscloud_database_credentials.py')) as handle:
        module = handle.read()
    assert shown == module[module.index('from ansible.module_utils.basic import AnsibleModule'):]
