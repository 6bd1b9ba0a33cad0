# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test suites' one reader of the settings scripts/test.sh exports (servers.env, api.env)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest


def setting(name):
    """The value of environment variable ``name``; a missing one fails the test, naming it and the way to set it."""
    value = os.environ.get(name)
    if not value:
        pytest.fail('%s is not set: run these tests through scripts/test.sh (it starts the servers)' % name)
    return value
