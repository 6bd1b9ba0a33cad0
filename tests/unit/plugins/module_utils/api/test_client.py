# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.utils

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import (
    ApiClient, error_detail, parse_retry_after, path, retry_delay)
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError


@pytest.mark.parametrize('attempt, ceiling', [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (10, 30.0)])
def test_backoff_grows_exponentially_up_to_the_cap(attempt, ceiling):
    assert retry_delay(attempt, rand=lambda: 1.0) == ceiling
    assert retry_delay(attempt, rand=lambda: 0.0) == 0.0


def test_jitter_spreads_waits():
    waits = set(round(retry_delay(3), 3) for dummy in range(50))
    assert len(waits) > 10 and all(0 <= wait <= 8 for wait in waits)


def test_retry_after_is_a_floor_and_past_the_cap_gives_up():
    assert retry_delay(0, retry_after=5, rand=lambda: 1.0) == 5
    assert retry_delay(4, retry_after=2, rand=lambda: 1.0) == 16
    assert retry_delay(0, retry_after=31, cap=30) is None


def test_retry_after_forms():
    assert parse_retry_after('7') == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after('soon') is None
    date = email.utils.formatdate(1000000060, usegmt=True)
    assert parse_retry_after(date, now=1000000000) == 60
    assert parse_retry_after(date, now=1000000100) == 0


@pytest.mark.parametrize('payload, expected', [
    ({'detail': 'quota exceeded'}, 'quota exceeded'),
    ({'detail': [{'loc': ['body', 'connection_limit'], 'msg': 'Input should be less than or equal to 1000'}]},
     'connection_limit: Input should be less than or equal to 1000'),
    ({'detail': [{'loc': ['query', 'username'], 'msg': 'bad'}, {'msg': 'worse'}]}, 'query.username: bad; worse'),
    (None, 'Bad Gateway'),
    ('<html>', 'Bad Gateway'),
])
def test_error_detail_reads_strings_and_fastapi_lists(payload, expected):
    assert error_detail(payload, 'Bad Gateway') == expected


def test_paths_quote_every_part():
    assert path('v1', 'databases', 'postgresql', '../x y') == '/v1/databases/postgresql/..%2Fx%20y'


def test_a_key_is_required():
    with pytest.raises(BackendError, match='api_key is required'):
        ApiClient(key=None)
