# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP client for the WaysCloud API on Ansible's own ``open_url`` (no extra dependency).

Retry policy: 429 is always retried (the server refused before doing anything); 502, 503, 504,
timeouts and broken connections only for requests that are safe to repeat (reads, PUT, PATCH,
DELETE, and writes the caller marks idempotent), because such a write may already have happened.
A refused connection never reached the server and is retried for every request. Waits grow
exponentially with full jitter, honour ``Retry-After``, and stop at the configured bounds.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.utils
import json
import random
import re
import socket
import ssl
import time

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, SSLValidationError, open_url

from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import check_service_url
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError, NotFound
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

DEFAULT_API_URL = 'https://api.wayscloud.services'
RETRY_ALWAYS = (429,)
RETRY_IF_IDEMPOTENT = (502, 503, 504)
IDEMPOTENT_METHODS = ('GET', 'HEAD', 'PUT', 'PATCH', 'DELETE')
USER_AGENT = 'wayscloud.databases-ansible'
# What a failure says of a request that may have been carried out; follow_up says instead what it read.
NOT_RETRIED = ' (not retried: the request may have reached the server)'
MAYBE_DONE = '; the server may have carried out the request'
# A key travels in a header: anything else would break the request or smuggle in another header.
_KEY = re.compile(r'[\x21-\x7e]+')


class Failure:
    """A failed attempt: the error to raise if it is the last, and what decides a retry."""

    def __init__(self, error, retryable, maybe_done, retry_after):
        self.error = error
        self.retryable = retryable
        self.maybe_done = maybe_done
        self.retry_after = retry_after


class ApiError(BackendError):
    """The API answered with an error status; ``status`` is the HTTP status."""

    def __init__(self, message, status):
        self.status = status
        super(ApiError, self).__init__(message, code=status)


class ApiNotFound(ApiError, NotFound):
    pass


def retry_delay(attempt, retry_after=None, base=1.0, cap=30.0, rand=random.random):
    """Seconds to wait before retry number ``attempt`` (0-based), or None when waiting exceeds ``cap``.

    Full jitter (uniform in 0..base*2**attempt, at most ``cap``); a server's Retry-After is a floor.
    """
    delay = rand() * min(cap, base * (2 ** attempt))
    if retry_after is not None:
        if retry_after > cap:
            return None
        delay = max(delay, retry_after)
    return delay


def parse_retry_after(value, now=None):
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def error_detail(payload, fallback):
    """The server's ``detail``: a string, or FastAPI's list of validation errors made readable."""
    detail = payload.get('detail') if isinstance(payload, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = '.'.join(str(part) for part in item.get('loc', ()) if part != 'body')
                parts.append('%s: %s' % (where, item.get('msg')) if where else str(item.get('msg')))
            else:
                parts.append(str(item))
        return '; '.join(parts)
    return fallback


class ApiClient:
    """``timeout``: seconds to wait for an answer; ``operation_timeout``: the same for the long operations (snapshot,
    restore), which also bounds how long ``follow_up`` reads after one whose answer was lost."""

    def __init__(self, url=DEFAULT_API_URL, key=None, timeout=30, validate_certs=True, retries=5,
                 retry_max_delay=30.0, sleep=time.sleep, operation_timeout=3600, clock=time.time):
        if not key:
            raise BackendError('api_key is required with backend=api (or set WAYSCLOUD_API_KEY)')
        if not _KEY.fullmatch(key):
            raise ValidationError('api_key must be printable ASCII without spaces or line breaks (the value is not shown)')
        self.url = check_service_url('api_url', url).rstrip('/')
        self._headers = {'X-API-Key': key, 'Accept': 'application/json'}
        self.timeout = timeout
        self.operation_timeout = operation_timeout
        self.clock = clock
        self.validate_certs = validate_certs
        self.retries = retries
        self.retry_max_delay = retry_max_delay
        self.sleep = sleep
        self.requests = []
        self.last_request_unclear = False

    def request(self, method, path, body=None, query=None, idempotent=None, timeout=None):
        """Send one request (with retries); return the decoded JSON body (None when empty). ``timeout``: seconds to
        wait for its answer, when not the client's. When it fails, ``last_request_unclear`` says whether an attempt
        may have been carried out unanswered (then the caller reads what happened: follow_up)."""
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = self.url + path
        if query:
            url += '?' + urlencode(dict((k, v) for k, v in query.items() if v is not None))
        headers = dict(self._headers)
        data = None
        if body is not None:
            data = json.dumps(body)
            headers['Content-Type'] = 'application/json'
        label = '%s %s' % (method, path)
        self.requests.append(label)
        self.last_request_unclear = False  # True once an attempt may have been carried out unanswered
        attempt = 0
        while True:
            outcome = self._attempt(url, method, data, headers, label, idempotent, timeout or self.timeout)
            if not isinstance(outcome, Failure):
                return outcome
            self.last_request_unclear = self.last_request_unclear or outcome.maybe_done
            delay = retry_delay(attempt, outcome.retry_after, cap=self.retry_max_delay) if outcome.retryable else None
            if delay is None or attempt >= self.retries:
                raise outcome.error
            self.sleep(delay)
            attempt += 1

    def _attempt(self, url, method, data, headers, label, idempotent, timeout):
        """One try: the decoded answer, or a Failure saying whether and how it may be retried."""
        try:
            # No redirects: they would carry the API key to wherever they point.
            response = open_url(url, method=method, data=data, headers=headers, timeout=timeout,
                                validate_certs=self.validate_certs, http_agent=USER_AGENT, follow_redirects='none')
            try:
                return self._decode(label, response.getcode(), response.read())
            except BackendError:
                self.last_request_unclear = True  # answered, but the answer is lost
                raise
            finally:
                response.close()
        except HTTPError as exc:
            status = exc.code
            failure = ApiNotFound if status == 404 else ApiError
            detail = error_detail(self._read_error(exc), exc.reason)
            error = failure('WaysCloud API %s: HTTP %d: %s' % (label, status, detail), status)
            return Failure(error, retryable=status in RETRY_ALWAYS or (idempotent and status in RETRY_IF_IDEMPOTENT),
                           maybe_done=status in RETRY_IF_IDEMPOTENT,
                           retry_after=parse_retry_after(exc.headers.get('Retry-After') if exc.headers else None))
        except (URLError, socket.timeout, OSError, http_client.HTTPException, UrlsConnectionError) as exc:
            reason = self._fatal_or_reason(label, exc)
            never_sent = isinstance(reason, (ConnectionRefusedError, socket.gaierror))
            retryable = idempotent or never_sent
            error = BackendError('WaysCloud API %s: %s: %s%s' % (
                label, 'no connection' if never_sent else 'request failed', reason,
                '' if retryable else NOT_RETRIED))
            return Failure(error, retryable=retryable, maybe_done=not never_sent, retry_after=None)

    def _fatal_or_reason(self, label, exc):
        """The cause of a failed connection; a TLS trust failure is raised at once (retrying cannot help)."""
        reason = getattr(exc, 'reason', exc)
        if isinstance(exc, SSLValidationError) or isinstance(reason, ssl.SSLCertVerificationError):
            raise BackendError('WaysCloud API %s: the TLS certificate of %s is not trusted (%s)'
                               % (label, self.url, reason))
        return reason

    @staticmethod
    def _read_error(exc):
        try:
            return json.loads(exc.read() or b'null')
        except (ValueError, OSError, AttributeError):
            return None
        finally:
            exc.close()

    @staticmethod
    def _decode(label, status, raw):
        if not raw:
            return None
        try:
            answer = json.loads(raw)
        except ValueError:
            # A success status with a broken body: the server acted (a rotation, a restore) but its answer is lost.
            raise BackendError('WaysCloud API %s: HTTP %d with a body that is not valid JSON (%d bytes)%s'
                               % (label, status, len(raw), MAYBE_DONE))
        if not isinstance(answer, dict):
            raise BackendError('WaysCloud API %s: HTTP %d with JSON that is not an object' % (label, status))
        return answer


def follow_up(client, what, failure, done):
    """After ``failure``, the error of a request whose answer was lost (client.last_request_unclear), what really
    happened: ``done()`` reads the resource and returns the result when it shows the request carried out, else None.
    It is read at once and then at growing intervals (1, 2, 4, at most 10 s) for up to the client's
    operation_timeout, since a server that took too long to answer may still be at work. Returns done()'s result
    (and ``what`` for the warning that the answer was lost), or raises an error that says it was not carried out in
    that time, or that reading failed too."""
    failure = str(failure).replace(NOT_RETRIED, '').replace(MAYBE_DONE, '')
    deadline = client.clock() + client.operation_timeout
    delay = 1
    while True:
        try:
            found = done()
        except BackendError as exc:
            raise BackendError('%s; reading afterwards whether it was done failed too: %s' % (failure, exc))
        if found is not None:
            return found, 'the answer to %s was lost (%s); reading afterwards showed it done' % (what, failure)
        left = deadline - client.clock()
        if left <= 0:
            raise BackendError('%s; read for %d s afterwards (operation_timeout), the server shows that %s was not done'
                               ' in that time: run the task again' % (failure, client.operation_timeout, what))
        client.sleep(min(delay, left))
        delay = min(delay * 2, 10)


def database_request(client, method, db_type, db_name, *parts, **kwargs):
    """A request under /v1/databases/{db_type}/{db_name}/...; a 404 becomes NotFound naming the database."""
    try:
        return client.request(method, path('v1', 'databases', db_type, db_name, *parts), **kwargs)
    except ApiNotFound as exc:
        raise NotFound('%s database %s: %s' % (db_type, db_name, str(exc).split(': ', 1)[-1]))


def path(*parts):
    """A URL path from parts, each quoted (names are validated already; this is defence in depth)."""
    return '/' + '/'.join(quote(str(part), safe='') for part in parts)
