# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Times as every result, catalog row and log line of the collection writes them: ISO 8601, UTC, whole
seconds, with a Z (``2026-11-27T02:00:00Z``). Text in this form sorts as time does."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

UTC = datetime.timezone.utc
ISO_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def utc_now():
    return format_time(datetime.datetime.now(UTC))


def format_time(moment):
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


def parse_time(text):
    return datetime.datetime.strptime(text, ISO_FORMAT).replace(tzinfo=UTC)
