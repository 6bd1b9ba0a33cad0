# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backend contract: what every backend offers a module, with one meaning on both.

``api/`` (through the WaysCloud API) and ``host/`` (straight on the database host) implement each class
below; tests/unit/plugins/module_utils/test_backend.py checks that both have exactly these methods with
these signatures (a host's own extras, which its engine uses inside, are listed there). Results are the
shapes of resources.py. Reads never change anything; a method that writes is never called in check mode
(module.py decides that, in one place).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import abc
import contextlib

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import database_missing


class Databases(abc.ABC):
    """The databases of one engine (``db_type``), and the way to everything else about them."""

    db_type = None

    @property
    @abc.abstractmethod
    def queries(self):
        """What this backend ran so far: SQL with placeholders (host), or method and path (API)."""

    @property
    @abc.abstractmethod
    def warnings(self):
        """Things the task should say without failing."""

    @abc.abstractmethod
    def close(self):
        """Release connections (the object is not used again)."""

    @abc.abstractmethod
    def sibling(self, db_type):
        """This backend for another engine (itself for its own); the caller closes a new one."""

    def batch(self):
        """A context in which a task's ``databases`` list runs: a backend may gather the list's writes there and make
        them at its end (the host writes each firewall layer once). Through the API each request stands alone."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def credentials(self):
        """The Credentials of this engine's databases."""

    @abc.abstractmethod
    def firewall(self):
        """The Firewall of this engine's databases."""

    @abc.abstractmethod
    def snapshots(self):
        """The Snapshots of this engine's databases."""

    @abc.abstractmethod
    def backup_policy(self):
        """The BackupPolicy of this engine's databases."""

    @abc.abstractmethod
    def overview(self):
        """The Overview: engines, quota and history."""

    @abc.abstractmethod
    def list(self, customer_id=None):
        """Every database of one customer (or of every customer the caller may see)."""

    @abc.abstractmethod
    def get(self, db_name):
        """The database, or None when it does not exist."""

    def existing(self, db_name):
        """The database; NotFound when it does not exist."""
        database = self.get(db_name)
        if database is None:
            raise database_missing(self.db_type, db_name)
        return database

    @abc.abstractmethod
    def find(self, requested_name):
        """The database with this requested name of the customer the backend implies, or None."""

    @abc.abstractmethod
    def info(self, db_name):
        """The API's info fields (size, sessions, limit, owner, creation), or None."""

    @abc.abstractmethod
    def metrics(self, db_name):
        """The API's metrics fields."""

    @abc.abstractmethod
    def preview(self, db_name, connection_limit=None, description=None):
        """What ``create`` would return, as far as it is known without creating (check mode)."""

    @abc.abstractmethod
    def create(self, customer_id, requested_name, connection_limit=None, description=None):
        """Create the database and its user: (database, password, created); an existing database is left as it
        is: (database, None, False)."""

    @abc.abstractmethod
    def drift(self, database, wanted):
        """What the servers hold beyond ``database`` (as ``get`` returned it) that differs from ``wanted``
        (connection_limit, description; None: not managed), {field: {place: as found}}: a setting kept in more places
        than the one the database shows, an owner changed by hand. ``update`` repairs it; empty when nothing."""

    @abc.abstractmethod
    def update(self, db_name, changes):
        """Apply ``changes`` (connection_limit, description) and repair the drift; returns the database afterwards."""

    @abc.abstractmethod
    def count_sessions(self, db_name):
        """How many client sessions the database has."""

    @abc.abstractmethod
    def restart(self, db_name):
        """End every session of the database; returns how many."""

    @abc.abstractmethod
    def drops_user(self, db_name):
        """Whether deleting the database with its user would drop a user: one that exists and that no other database
        (a copy restored from the database's snapshots) still uses."""

    @abc.abstractmethod
    def delete(self, db_name, drop_user=True):
        """Drop the database (and its user, unless a copy restored from its snapshots still uses it: then the user
        stays, with a warning, and goes with the last such copy); copies stay. True if anything went."""


class Credentials(abc.ABC):
    @abc.abstractmethod
    def get(self, db_name, settle=True):
        """How to connect, never a password; ``settle``: finish an interrupted rotation first (a write)."""

    @abc.abstractmethod
    def rotate(self, db_name):
        """A new password: (credentials with created_at, password)."""


class Firewall(abc.ABC):
    @abc.abstractmethod
    def list(self, db_name):
        """The database's rules, oldest first."""

    @abc.abstractmethod
    def owner_of(self, rule_id):
        """The database a rule belongs to, or None."""

    @abc.abstractmethod
    def add(self, db_name, ip_address, description=None):
        """Allow a normalised CIDR block: (rule, changed)."""

    @abc.abstractmethod
    def describe(self, db_name, rule, description):
        """Change a rule's description; returns the rule."""

    @abc.abstractmethod
    def remove(self, db_name, rule_id):
        """Remove one rule of the database; returns it."""

    @abc.abstractmethod
    def drift(self, db_name, changing=()):
        """How the servers' access layers differ from the database's rules, one message each (reads only), leaving out
        what concerns the networks in ``changing``."""

    @abc.abstractmethod
    def repair(self, db_name):
        """Make the layers say what the rules say; returns what was wrong."""


class Snapshots(abc.ABC):
    @abc.abstractmethod
    def list(self, db_name):
        """The database's snapshots, newest first."""

    @abc.abstractmethod
    def get(self, db_name, snapshot_id):
        """One of the database's snapshots; NotFound for another database's or none."""

    @abc.abstractmethod
    def create(self, db_name, description=None, jobs=None):
        """Take a snapshot; returns it."""

    @abc.abstractmethod
    def delete(self, db_name, snapshot_id):
        """Delete a snapshot; False when there was none."""

    @abc.abstractmethod
    def plan_restore(self, db_name, snapshot_id, target_db_name=None):
        """What a restore would do (checked, nothing touched): dict(target, new_database, changed, ...)."""

    @abc.abstractmethod
    def restore(self, db_name, snapshot_id, target_db_name=None, jobs=None):
        """Restore in place or into a new database: (the database restored into, changed)."""


class BackupPolicy(abc.ABC):
    @abc.abstractmethod
    def get(self, db_name):
        """The policy's fields with last_backup and next_backup (a database without one: the default, disabled)."""

    @abc.abstractmethod
    def plan(self, db_name, policy):
        """What ``set`` would return, and what it would change: (result, changes), ``changes`` empty when nothing:
        {field: new value} of the policy's fields, and on a host ``files``: {path: (as found, as it would be)} of
        the schedule's and the runner's files it would write or remove."""

    @abc.abstractmethod
    def set(self, db_name, policy):
        """Store the policy (and on a host make its schedule match); returns the result."""


class Overview(abc.ABC):
    @abc.abstractmethod
    def engines(self):
        """Each engine with its version and capabilities."""

    @abc.abstractmethod
    def quota(self, customer_id=None):
        """A customer's databases and storage against its limits."""

    @abc.abstractmethod
    def history(self, customer_id=None):
        """Every database a customer ever had, one entry per life."""
