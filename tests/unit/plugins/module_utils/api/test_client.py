# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.message
import email.utils
import io
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.api import client as client_module
from ansible_collections.wayscloud.databases.plugins.module_utils.api.client import (
    ApiClient, ApiError, ApiNotFound, error_detail, follow_up, parse_retry_after, path, retry_delay)
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


class FakeResponse:
    def __init__(self, status=200, body=b'{"ok": true}'):
        self.status, self.body = status, body

    def getcode(self):
        return self.status

    def read(self):
        return self.body

    def close(self):
        pass


def http_error(status, retry_after=None, body=b'{"detail": "nope"}'):
    headers = email.message.Message()
    if retry_after is not None:
        headers['Retry-After'] = str(retry_after)
    return HTTPError('http://api.test/x', status, 'status %d' % status, headers, io.BytesIO(body))


@pytest.fixture
def scripted(monkeypatch):
    """A client whose open_url plays back outcomes (an exception to raise, or a response) in order."""
    calls, waits, timeouts = [], [], []

    def make(outcomes, **options):
        def fake_open_url(url, **kwargs):
            calls.append((kwargs['method'], url))
            timeouts.append(kwargs['timeout'])
            outcome = outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        monkeypatch.setattr(client_module, 'open_url', fake_open_url)
        options.setdefault('retries', 5)
        return ApiClient(url='http://api.test', key='secret-key-123', sleep=waits.append, **options)
    make.calls, make.waits, make.timeouts = calls, waits, timeouts
    return make


def test_reads_are_retried_through_503_and_connection_resets(scripted):
    client = scripted([http_error(503), URLError(ConnectionResetError()), FakeResponse()])
    assert client.request('GET', '/v1/x') == {'ok': True}
    assert len(scripted.calls) == 3 and len(scripted.waits) == 2


def test_an_unsafe_write_is_not_repeated_after_a_503_or_a_reset(scripted):
    with pytest.raises(ApiError, match='HTTP 503'):
        scripted([http_error(503), FakeResponse()]).request('POST', '/v1/x/restart')
    with pytest.raises(BackendError, match='not retried: the request may have reached the server'):
        scripted([URLError(ConnectionResetError()), FakeResponse()]).request('POST', '/v1/x/restart')
    assert len(scripted.calls) == 2


def test_an_unsafe_write_is_repeated_when_the_server_certainly_did_nothing(scripted):
    client = scripted([http_error(429, retry_after=2), URLError(ConnectionRefusedError()), FakeResponse()])
    assert client.request('POST', '/v1/x/restart') == {'ok': True}
    assert scripted.waits[0] >= 2 and not client.last_request_unclear


def test_an_idempotent_write_retried_after_an_unclear_failure_says_so(scripted):
    client = scripted([URLError(ConnectionResetError()), FakeResponse()])
    client.request('POST', '/v1/databases', body={}, idempotent=True)
    assert client.last_request_unclear


def test_retries_stop_at_the_bound(scripted):
    with pytest.raises(ApiError, match='HTTP 503'):
        scripted([http_error(503)] * 10, retries=2).request('GET', '/v1/x')
    assert len(scripted.calls) == 3


def test_a_retry_after_beyond_the_longest_wait_fails_at_once(scripted):
    with pytest.raises(ApiError, match='HTTP 429'):
        scripted([http_error(429, retry_after=120), FakeResponse()], retry_max_delay=30).request('GET', '/v1/x')
    assert len(scripted.calls) == 1


def test_errors_name_status_and_detail_but_never_the_key(scripted):
    with pytest.raises(ApiNotFound) as caught:
        scripted([http_error(404)]).request('GET', '/v1/x')
    assert 'HTTP 404: nope' in str(caught.value) and 'secret-key-123' not in str(caught.value)


def test_a_body_that_is_not_a_json_object_is_an_error(scripted):
    with pytest.raises(BackendError, match='not valid JSON'):
        scripted([FakeResponse(body=b'{"trunc')]).request('GET', '/v1/x')
    with pytest.raises(BackendError, match='not an object'):
        scripted([FakeResponse(body=b'[1, 2]')]).request('GET', '/v1/x')


def test_a_long_operation_waits_its_own_time_and_an_answer_lost_leaves_the_request_unclear(scripted):
    client = scripted([FakeResponse(), URLError(ConnectionResetError())], timeout=30, operation_timeout=900)
    client.request('GET', '/v1/x')
    with pytest.raises(BackendError, match='may have reached the server'):
        client.request('POST', '/v1/x/snapshots', idempotent=False, timeout=client.operation_timeout)
    assert scripted.timeouts == [30, 900] and client.last_request_unclear
    for outcome, unclear in [(FakeResponse(body=b'{"half'), True), (http_error(504), True), (http_error(400), False)]:
        other = scripted([outcome])
        with pytest.raises(BackendError):
            other.request('POST', '/v1/x/restore', idempotent=False)
        assert other.last_request_unclear is unclear


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def unclear_client(operation_timeout):
    clock = Clock()
    return ApiClient(key='secret-key-123', sleep=clock.sleep, clock=clock, operation_timeout=operation_timeout), clock


def test_a_lost_answer_is_followed_by_reading_until_the_outcome_shows():
    client, clock = unclear_client(60)
    readings = [None, None, None, {'snapshot_id': 'snap_1'}]
    failure = BackendError('WaysCloud API POST /x: request failed: timed out (not retried: the request may have'
                           ' reached the server)')
    found, warning = follow_up(client, 'taking a snapshot of db', failure, lambda: readings.pop(0))
    assert found == {'snapshot_id': 'snap_1'} and clock.slept == [1, 2, 4]
    assert warning == ('the answer to taking a snapshot of db was lost (WaysCloud API POST /x: request failed: timed'
                       ' out); reading afterwards showed it done')


def test_an_outcome_that_never_shows_is_reported_as_not_done_not_as_maybe():
    client, clock = unclear_client(30)
    failure = BackendError('WaysCloud API POST /x: HTTP 200 with a body that is not valid JSON (3 bytes); the server'
                           ' may have carried out the request')
    with pytest.raises(BackendError) as refused:
        follow_up(client, 'restoring s of db into db', failure, lambda: None)
    assert clock.slept == [1, 2, 4, 8, 10, 5] and 'may have' not in str(refused.value)
    assert str(refused.value) == ('WaysCloud API POST /x: HTTP 200 with a body that is not valid JSON (3 bytes); read'
                                  ' for 30 s afterwards (operation_timeout), the server shows that restoring s of db'
                                  ' into db was not done in that time: run the task again')


def test_a_reading_that_fails_too_says_so():
    client, clock = unclear_client(30)

    def broken():
        raise BackendError('WaysCloud API GET /x: no connection: refused')
    with pytest.raises(BackendError, match='; reading afterwards whether it was done failed too: WaysCloud API GET'):
        follow_up(client, 'taking a snapshot of db', BackendError('lost'), broken)
