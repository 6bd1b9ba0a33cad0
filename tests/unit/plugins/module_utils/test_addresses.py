# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import covers_everyone, normalize_address
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError


@pytest.mark.parametrize('networks, everyone', [
    (['0.0.0.0/0'], True),
    (['::/0'], True),
    (['::ffff:0:0/96'], True),             # every IPv4 client as a dual-stack socket sees it
    (['::/64'], True),                     # holds ::ffff:0:0/96
    (['0.0.0.0/1', '128.0.0.0/1'], True),  # together
    (['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/2'], True),
    (['0.0.0.0/1'], False),
    (['0.0.0.0/1', '128.0.0.0/2'], False),
    (['::ffff:0:0/97'], False),
    (['2001:db8::/32', '0.0.0.0/1'], False),
    ([], False),
])
def test_every_address_alone_or_together(networks, everyone):
    assert covers_everyone(networks) is everyone


@pytest.mark.parametrize('value', ['0.0.0.0/0', '::/0', '::ffff:0:0/96'])
def test_every_address_needs_allow_any(value):
    with pytest.raises(ValidationError, match='every address; set allow_any'):
        normalize_address(value)
    assert normalize_address(value, allow_any=True) == value
