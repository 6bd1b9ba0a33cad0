# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils import backups
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError


def at(text):
    return backups.parse_time(text)


def policy(frequency, time_of_day='02:00', enabled=True, retention_days=7):
    return dict(enabled=enabled, frequency=frequency, time_of_day=time_of_day, retention_days=retention_days)


@pytest.mark.parametrize('frequency, time_of_day, now, latest, following', [
    # daily, around midnight and month, year and leap-day ends
    ('daily', '02:00', '2026-11-27T01:59:59Z', '2026-11-26T02:00:00Z', '2026-11-27T02:00:00Z'),
    ('daily', '02:00', '2026-11-27T02:00:00Z', '2026-11-27T02:00:00Z', '2026-11-28T02:00:00Z'),
    ('daily', '00:00', '2026-11-30T23:59:00Z', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z'),
    ('daily', '23:59', '2026-12-31T23:59:30Z', '2026-12-31T23:59:00Z', '2027-01-01T23:59:00Z'),
    ('daily', '23:30', '2028-02-29T00:10:00Z', '2028-02-28T23:30:00Z', '2028-02-29T23:30:00Z'),
    ('daily', '00:30', '2027-03-01T00:10:00Z', '2027-02-28T00:30:00Z', '2027-03-01T00:30:00Z'),
    # hourly: the minutes of time_of_day, every hour, across midnight
    ('hourly', '17:45', '2026-11-30T23:50:00Z', '2026-11-30T23:45:00Z', '2026-12-01T00:45:00Z'),
    ('hourly', '00:00', '2026-11-30T23:59:59Z', '2026-11-30T23:00:00Z', '2026-12-01T00:00:00Z'),
    ('hourly', '09:15', '2026-11-27T10:15:00Z', '2026-11-27T10:15:00Z', '2026-11-27T11:15:00Z'),
    # weekly: Sundays (2026-11-29 is a Sunday), across a month end
    ('weekly', '03:00', '2026-11-29T02:59:00Z', '2026-11-22T03:00:00Z', '2026-11-29T03:00:00Z'),
    ('weekly', '03:00', '2026-11-29T03:00:00Z', '2026-11-29T03:00:00Z', '2026-12-06T03:00:00Z'),
    ('weekly', '23:00', '2026-11-30T00:00:00Z', '2026-11-29T23:00:00Z', '2026-12-06T23:00:00Z'),
    ('weekly', '00:00', '2026-12-31T12:00:00Z', '2026-12-27T00:00:00Z', '2027-01-03T00:00:00Z'),
])
def test_slots(frequency, time_of_day, now, latest, following):
    rules = policy(frequency, time_of_day)
    assert backups.format_time(backups.latest_slot(rules, at(now))) == latest
    assert backups.format_time(backups.next_slot(rules, at(now))) == following


def test_weekly_is_sunday():
    slot = backups.next_slot(policy('weekly'), at('2026-11-27T12:00:00Z'))
    assert slot.weekday() == 6 and slot.strftime('%A') == 'Sunday'


def test_due_only_after_a_slot_passed_since_the_last_backup_and_the_policy():
    rules = policy('daily')
    enabled = at('2026-11-26T10:00:00Z')
    assert not backups.is_due(rules, enabled, None, at('2026-11-27T01:00:00Z'))  # no slot since enabling
    assert backups.is_due(rules, enabled, None, at('2026-11-27T02:00:00Z'))
    assert not backups.is_due(rules, enabled, at('2026-11-27T02:00:05Z'), at('2026-11-27T03:00:00Z'))
    assert backups.is_due(rules, enabled, at('2026-11-27T02:00:05Z'), at('2026-11-28T02:01:00Z'))
    assert not backups.is_due(dict(rules, enabled=False), enabled, None, at('2026-11-28T02:00:00Z'))


@pytest.mark.parametrize('field, value, message', [
    ('time_of_day', '25:00', 'time_of_day must be HH:MM'), ('time_of_day', '2:00', 'HH:MM'),
    ('time_of_day', '02:60', 'HH:MM'), ('time_of_day', '02:00\n', 'HH:MM'), ('time_of_day', None, 'HH:MM'),
    ('frequency', 'monthly', 'frequency must be one of hourly, daily, weekly'),
    ('retention_days', 0, 'retention_days must be a whole number of days from 1 to 3650'),
    ('retention_days', 100000, 'from 1 to 3650'), ('retention_days', -1, 'from 1 to 3650'),
    ('retention_days', True, 'whole number'), ('enabled', 'yes', 'enabled must be true or false'),
])
def test_bad_policies_name_the_field_and_the_rule(field, value, message):
    with pytest.raises(ValidationError, match=message):
        backups.check_policy(dict(policy('daily'), **{field: value}))


def test_schedule_expressions():
    assert backups.on_calendar(policy('daily', '02:05')) == '*-*-* 02:05:00 UTC'
    assert backups.on_calendar(policy('weekly', '23:00')) == 'Sun *-*-* 23:00:00 UTC'
    assert backups.on_calendar(policy('hourly', '07:30')) == '*-*-* *:30:00 UTC'
    assert backups.cron_fields(policy('daily', '02:05')) == '5 * * * *'


def test_times_round_trip():
    moment = datetime.datetime(2026, 11, 27, 2, 0, tzinfo=backups.UTC)
    assert backups.parse_time(backups.format_time(moment)) == moment
