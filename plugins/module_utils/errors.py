# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The few errors that cross from module_utils to a module; the module turns each into fail_json."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class WaysCloudError(Exception):
    """Base class: its message is safe to show (it never holds a secret).

    ``result``: what the task had done when it failed and the caller must not lose (the passwords of databases
    it created before the failure, a new password that could not be taken back), under keys the module's RETURN
    documents; module.run returns them with the failure. None when there is nothing to report.
    """

    def __init__(self, message, result=None):
        self.result = result
        super(WaysCloudError, self).__init__(message)


class MissingLibrary(WaysCloudError):
    """A Python library this backend needs is not installed where the module runs."""

    def __init__(self, library, reason):
        self.library = library
        self.reason = reason
        super(MissingLibrary, self).__init__('%s is required: %s' % (library, reason))


class BackendError(WaysCloudError):
    """The server (database or API) refused or failed an operation; ``code`` is the server's own."""

    def __init__(self, message, code=None, result=None):
        self.code = code
        super(BackendError, self).__init__(message, result=result)


class NotFound(BackendError):
    """The database (or another addressed object) does not exist."""


def database_missing(db_type, db_name):
    """The error every backend and module raises for a database that is not there."""
    return NotFound('%s database %s does not exist' % (db_type, db_name))


class Conflict(BackendError):
    """What the task asks for clashes with the state of what exists (a restore target taken, a copy that shares its
    user, a user gone): the caller can act on it (the message says how), retrying as it is does not help. The API
    answers it with 400, never as a server failure."""


class LimitReached(BackendError):
    """A limit of the customer's account (a quota, a per-database snapshot cap) refuses the operation; making room
    (deleting something) lets it through, retrying as it is does not."""
