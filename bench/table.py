# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark script shares: a timer, and the one table they print rows into (bench/run.sh prints
the header once)."""

import statistics
import sys
import time

HEADER = ('| measurement | ours (median) | theirs (median) | ours / theirs | aim or note |\n'
          '|---|---|---|---|---|')


def timed(action, *args, **kwargs):
    """Seconds ``action(*args, **kwargs)`` took."""
    start = time.monotonic()
    action(*args, **kwargs)
    return time.monotonic() - start


def row(measurement, ours, theirs, unit='s', note='', theirs_name=''):
    """Print a row of medians; ``ours`` and ``theirs`` are lists of samples (``theirs`` may be empty)."""
    ours_m = statistics.median(ours)
    if theirs:
        theirs_m = statistics.median(theirs)
        theirs_cell = '%s %s%s' % (_number(theirs_m), unit, ' (%s)' % theirs_name if theirs_name else '')
        ratio = '%.2f' % (ours_m / theirs_m) if theirs_m else 'n/a'
    else:
        theirs_cell, ratio = '', ''
    print('| %s | %s %s | %s | %s | %s |' % (measurement, _number(ours_m), unit, theirs_cell, ratio, note))
    sys.stdout.flush()
    return ours_m / statistics.median(theirs) if theirs and statistics.median(theirs) else None


def _number(value):
    return '%.0f' % value if value >= 100 else '%.2f' % value if value < 10 else '%.1f' % value
