# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records how long each task of a playbook took (until the next task starts), for bench/ansible_runs.py.

Enabled with ANSIBLE_CALLBACKS_ENABLED=bench_timer; writes [[task name, seconds], ...] to $BENCH_TIMER_FILE.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: bench_timer
type: aggregate
short_description: time each task for the benchmarks
description: Writes each task's duration to the file named by BENCH_TIMER_FILE.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.timings, self.current = [], None

    def _close(self):
        if self.current:
            self.timings.append([self.current[0], time.monotonic() - self.current[1]])
            self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.current = (task.get_name(), time.monotonic())

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ['BENCH_TIMER_FILE'], 'w') as handle:
            json.dump(self.timings, handle)
