# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``ansible-doc`` says about the collection's plugins (doc fragments merged), for the tests that hold the
hand-written docs, the examples and the results to it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py')))
PREFIX = 'wayscloud.databases.'
# Keys Ansible itself adds to every result.
COMMON_RESULT_KEYS = frozenset(('changed', 'failed', 'msg', 'warnings', 'deprecations', 'invocation', 'diff',
                                'skipped', 'skip_reason', 'exception', 'module_stdout', 'module_stderr', 'rc',
                                '_ansible_no_log', 'censored', 'item', 'ansible_loop_var'))

TASK_LISTS = ('block', 'rescue', 'always', 'tasks', 'pre_tasks', 'post_tasks', 'handlers')

_CACHE = {}


def ansible_doc(plugin_type='module'):
    """{short name: ansible-doc's JSON (doc, examples, return)} of every plugin of the type."""
    if plugin_type not in _CACHE:
        names = MODULES if plugin_type == 'module' else ['credentials']
        answer = subprocess.run([os.path.join(BIN, 'ansible-doc'), '--json', '-t', plugin_type]
                                + [PREFIX + name for name in names], capture_output=True, text=True, check=True)
        _CACHE[plugin_type] = dict((name[len(PREFIX):], value) for name, value in json.loads(answer.stdout).items())
    return _CACHE[plugin_type]


def documented_paths(spec, prefix=''):
    """{path: entry} of a RETURN (or an option's suboptions, with ``key='suboptions'``): ``a.b``, ``a[].b``."""
    paths = {}
    for name, entry in (spec or {}).items():
        path = prefix + name
        paths[path] = entry
        inner = entry.get('contains')
        if inner:
            paths.update(documented_paths(inner, path + ('[].' if entry.get('type') == 'list' else '.')))
    return paths


def returned_paths(value, prefix=''):
    """{path: value} of every key of a result, into dicts and the dict elements of lists (same path form)."""
    paths = {}
    if isinstance(value, dict):
        for name, inner in value.items():
            path = prefix + name
            paths[path] = inner
            paths.update(returned_paths(inner, path + '.'))
    elif isinstance(value, list):
        for element in value:
            paths.update(returned_paths(element, prefix[:-1] + '[].'))
    return paths


def tasks_of(document, no_log=False, defaults=None):
    """(task, no_log in force, return_password the play's module_defaults give) of every task in a task list, a
    play or a list of plays, blocks included."""
    for entry in document if isinstance(document, list) else [document]:
        if not isinstance(entry, dict):
            continue
        inherited = entry.get('no_log', no_log)
        given = defaults
        for group, values in (entry.get('module_defaults') or {}).items():
            if isinstance(values, dict) and 'return_password' in values and group.startswith(('group/', PREFIX)):
                given = values['return_password']
        nested = [key for key in TASK_LISTS if isinstance(entry.get(key), list)]
        for key in nested:
            yield from tasks_of(entry[key], inherited, given)
        if not nested:
            yield entry, inherited, given
