# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - With O(backend=api), the base URL of the WaysCloud API.
      - Falls back to the E(WAYSCLOUD_API_URL) environment variable.
    type: str
    default: https://api.wayscloud.services
  api_key:
    description:
      - With O(backend=api), the API key, sent as the C(X-API-Key) header. Required with O(backend=api).
      - A customer key acts for its own customer; an internal key may act for any customer through the module's C(customer_id) option, where it has one.
      - Falls back to the E(WAYSCLOUD_API_KEY) environment variable.
    type: str
  validate_certs:
    description: With O(backend=api), whether to verify the API's TLS certificate.
    type: bool
    default: true
  api_timeout:
    description:
      - With O(backend=api), seconds to wait for each response, but those of a snapshot and a restore (see
        O(operation_timeout)).
      - From 1 to 3600.
    type: int
    default: 30
  operation_timeout:
    description:
      - With O(backend=api), seconds to wait for the answer to a snapshot or a restore, which take as long as the
        database is large (a dump of 1 GB takes tens of seconds, a MariaDB restore of it minutes). From 1 to 86400.
      - Such a request is never sent twice. When its answer does not come in time or is lost (a dropped connection,
        a gateway error, a broken body), the task reads what the server did - the database's snapshots for a new
        snapshot (one it did not list before, with the task's description), the snapshot's last restore for a
        restore (C(last_restore_id) in the list of snapshots of the reference server) - at once and then every few
        seconds for up to this long again, since the server may still be at work. It then reports the snapshot or
        the restore (a change, with a warning that the answer was lost), or fails saying it was not done in that time.
      - On an API whose list of snapshots does not show the last restore, a restore whose answer was lost fails at
        once, saying it may have been carried out (check the database before running the task again).
    type: int
    default: 3600
  api_retries:
    description:
      - With O(backend=api), how many times a request is retried after HTTP 429, 502, 503, 504, a timeout
        or a broken connection. Waits grow exponentially (1, 2, 4... seconds, with full jitter) and honour C(Retry-After).
      - Requests that are not safe to repeat (for example a restart) are retried only after a 429 or a
        refused connection, which both mean the server did nothing.
    type: int
    default: 5
  api_retry_max_delay:
    description:
      - With O(backend=api), the longest wait before one retry, in seconds. A C(Retry-After) longer than this fails the task.
    type: int
    default: 30
'''
