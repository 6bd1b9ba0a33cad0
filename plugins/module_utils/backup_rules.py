# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policy rules both backends share: validation and the schedule's arithmetic, all in UTC.

Slots: ``hourly`` runs at minute MM of every hour (the hour of time_of_day is ignored), ``daily``
at HH:MM, ``weekly`` on Sundays at HH:MM. A backup is due when none was taken for the latest
slot yet, counting only slots since the policy was enabled. The catalog records the slot each
backup was taken for, so a slot is taken once even when a dump outlasts it or clocks disagree.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError
from ansible_collections.wayscloud.databases.plugins.module_utils.timestamps import UTC, format_time

FREQUENCIES = ('hourly', 'daily', 'weekly')
WEEKDAY = 6  # Sunday, as datetime.weekday() counts
RETENTION_MAX_DAYS = 3650
_TIME_OF_DAY = re.compile(r'([01][0-9]|2[0-3]):([0-5][0-9])')
POLICY_FIELDS = ('enabled', 'frequency', 'retention_days', 'time_of_day')
DEFAULT_POLICY = dict(enabled=False, frequency='daily', retention_days=7, time_of_day='02:00')


def check_policy(policy):
    """The policy (the four fields) validated; a message names the field and its rule."""
    if not isinstance(policy.get('enabled'), bool):
        raise ValidationError('enabled must be true or false')
    if policy.get('frequency') not in FREQUENCIES:
        raise ValidationError('frequency must be one of %s (got %r)' % (', '.join(FREQUENCIES), policy.get('frequency')))
    days = policy.get('retention_days')
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= RETENTION_MAX_DAYS:
        raise ValidationError('retention_days must be a whole number of days from 1 to %d (got %r)'
                              % (RETENTION_MAX_DAYS, days))
    time_of_day = policy.get('time_of_day')
    if not isinstance(time_of_day, str) or not _TIME_OF_DAY.fullmatch(time_of_day):
        raise ValidationError('time_of_day must be HH:MM in UTC, 00:00 to 23:59 (got %r)' % (time_of_day,))
    return dict((field, policy[field]) for field in POLICY_FIELDS)


def _hour_minute(policy):
    hour, minute = _TIME_OF_DAY.fullmatch(policy['time_of_day']).groups()
    return int(hour), int(minute)


def latest_slot(policy, now):
    """The latest scheduled time at or before ``now`` (an aware UTC datetime)."""
    hour, minute = _hour_minute(policy)
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    if policy['frequency'] == 'hourly':
        slot = now.replace(minute=minute)
        return slot if slot <= now else slot - datetime.timedelta(hours=1)
    slot = now.replace(hour=hour, minute=minute)
    if slot > now:
        slot -= datetime.timedelta(days=1)
    if policy['frequency'] == 'weekly':
        slot -= datetime.timedelta(days=(slot.weekday() - WEEKDAY) % 7)
    return slot


def next_slot(policy, now):
    """The first scheduled time strictly after ``now``."""
    step = dict(hourly=datetime.timedelta(hours=1), daily=datetime.timedelta(days=1),
                weekly=datetime.timedelta(days=7))[policy['frequency']]
    return latest_slot(policy, now) + step


def policy_result(policy, db_type, db_name, last_backup=None):
    """A policy as the contract returns it: the four fields, the database, when the newest automated snapshot was
    taken (``last_backup``) and the next slot (None while disabled)."""
    next_backup = next_slot(policy, datetime.datetime.now(UTC)) if policy['enabled'] else None
    return dict(dict((field, policy[field]) for field in POLICY_FIELDS), db_name=db_name, db_type=db_type,
                last_backup=last_backup, next_backup=format_time(next_backup) if next_backup else None)


def is_due(policy, enabled_at, last_slot, now):
    """Whether the runner should take a backup now: the latest slot is newer than the last slot
    backed up, and not older than the policy (a new policy does not catch up on the past)."""
    if not policy['enabled']:
        return False
    slot = latest_slot(policy, now)
    return slot >= enabled_at and (last_slot is None or last_slot < slot)


def on_calendar(policy):
    """The systemd OnCalendar expression of the policy's slots."""
    hour, minute = _hour_minute(policy)
    if policy['frequency'] == 'hourly':
        return '*-*-* *:%02d:00 UTC' % minute
    prefix = 'Sun ' if policy['frequency'] == 'weekly' else ''
    return '%s*-*-* %02d:%02d:00 UTC' % (prefix, hour, minute)


def cron_fields(policy):
    """The cron time fields: minute MM of every hour, whatever the host's time zone; the runner then
    acts only on the policy's UTC slots (cron has no portable way to say UTC)."""
    return '%d * * * *' % _hour_minute(policy)[1]
