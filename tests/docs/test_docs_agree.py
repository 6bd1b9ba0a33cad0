# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hand-written guide agrees with ``ansible-doc``, so the two cannot drift apart.

- Every task of an example (the guide's pages, README.md, the modules' EXAMPLES) gives a module only options it
  has (suboptions too, in the items of ``databases`` or ``rules``), with a value of the option's type and among
  its choices; an included role of the collection gets only variables its argument spec lists.
- What a page's text names in code - an option with a value (``state: restarted``), or a word with an underscore
  (``return_password``) - is an option (at any depth), a choice or a return value of the page's module (any of
  the collection's on general pages), a role variable on a role's page, an Ansible keyword or one of the
  collection's plugins; a few words of the servers' and the API's own are listed below.
- A default the text states (``backend: api``, the default) is the default ``ansible-doc`` shows, in every
  module that has the option.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import subprocess

import pytest
import yaml
from ansible.playbook.block import Block
from ansible.playbook.play import Play
from ansible.playbook.role_include import IncludeRole
from ansible.playbook.task import Task

from plugin_docs import BIN, MODULES, PREFIX, ROOT, ansible_doc, documented_paths, tasks_of

BLOCK = re.compile(r'^```yaml\n(.*?)^```', re.S | re.M)
ROLES = sorted(os.listdir(os.path.join(ROOT, 'roles')))
GENERAL_PAGES = [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))
PAGES = sorted(glob.glob(os.path.join(ROOT, 'docs', 'modules', '*.md')) + glob.glob(os.path.join(ROOT, 'docs', 'roles', '*.md')))
# Words in code on the pages that are the servers', the API's or the role's own, not options or return values.
NOT_OPTIONS = frozenset((
    'pg_authid',        # PostgreSQL's catalog of roles (credentials page)
    'snapshot_limits',  # the API server's configuration (snapshot page)
    'backup_summary',   # the fact the backup role sets
    'host_files',       # the diff's key for files on the host
))
KEYWORDS = frozenset(Task.fattributes) | frozenset(Block.fattributes) | frozenset(Play.fattributes) | frozenset(
    IncludeRole.fattributes) | frozenset(('module_defaults', 'no_log', 'register', 'loop_control', 'check_mode'))
TYPES = dict(bool=(bool,), int=(int,), float=(int, float), list=(list, str), dict=(dict,))


def role_options():
    """{role: {variable: spec}} of every role's entry points."""
    answer = subprocess.run([os.path.join(BIN, 'ansible-doc'), '--json', '-t', 'role'] + [PREFIX + role for role in ROLES],
                            capture_output=True, text=True, check=True)
    options = {}
    for name, role in json.loads(answer.stdout).items():
        merged = {}
        for entry in role['entry_points'].values():
            merged.update(entry.get('options') or {})
        options[name[len(PREFIX):]] = merged
    return options


ROLE_OPTIONS = role_options()


def templated(value):
    return isinstance(value, str) and '{{' in value


def wrong_value(where, spec, value):
    """What is wrong with a literal ``value`` for an option ``spec`` (None: nothing, or a template)."""
    if templated(value) or value is None:
        return None
    kind = spec.get('type', 'str')
    if kind in TYPES and (not isinstance(value, TYPES[kind]) or (kind in ('int', 'float') and isinstance(value, bool))):
        return '%s: %r is not of type %s' % (where, value, kind)
    values = value if isinstance(value, list) else [value]
    if spec.get('choices') and any(item not in spec['choices'] and not templated(item) for item in values):
        return '%s: %r is not among the choices %s' % (where, value, spec['choices'])
    if spec.get('suboptions') and kind == 'list':
        return next((problem for item in values if isinstance(item, dict)
                     for problem in wrong_options(where + '[]', spec['suboptions'], item)), None)
    if spec.get('suboptions') and isinstance(value, dict):
        return next(iter(wrong_options(where, spec['suboptions'], value)), None)
    return None


def wrong_options(where, options, args):
    """Problems of ``args`` against the ``options`` of a module (or the suboptions of one of its options)."""
    names = dict((alias, spec) for spec_name, spec in options.items()
                 for alias in [spec_name] + list(spec.get('aliases') or []))
    problems = []
    for key, value in args.items():
        if key not in names:
            problems.append('%s: no option %s' % (where, key))
            continue
        problem = wrong_value('%s.%s' % (where, key), names[key], value)
        if problem:
            problems.append(problem)
    return problems


def example_problems(document):
    problems = []
    for task, dummy, dummy_default in tasks_of(document):
        where = task.get('name', 'a task')
        for key, args in task.items():
            if key.startswith(PREFIX) and key[len(PREFIX):] in MODULES and isinstance(args, dict):
                problems += wrong_options('%s (%s)' % (where, key), ansible_doc()[key[len(PREFIX):]]['doc']['options'], args)
            elif key in ('ansible.builtin.include_role', 'ansible.builtin.import_role') and isinstance(args, dict):
                role = args.get('name', '')
                if role.startswith(PREFIX):
                    problems += wrong_options('%s (role %s)' % (where, role), ROLE_OPTIONS[role[len(PREFIX):]],
                                              task.get('vars') or {})
    return problems


def examples():
    found = [('%s EXAMPLES' % name, ansible_doc()[name]['examples']) for name in MODULES]
    for page in GENERAL_PAGES + PAGES:
        with open(page) as handle:
            for number, block in enumerate(BLOCK.findall(handle.read()), start=1):
                found.append(('%s example %d' % (os.path.relpath(page, ROOT), number), block))
    return found


@pytest.mark.parametrize('where, block', examples(), ids=[where for where, block in examples()])
def test_examples_give_modules_and_roles_only_what_they_take(where, block):
    assert example_problems(yaml.safe_load(block)) == []


def module_words(name):
    """Every option and suboption, choice and return value (each part of its path) of a module."""
    doc = ansible_doc()[name]
    words = set()
    for path, spec in documented_paths(doc['doc']['options']).items():
        words.add(path)
        words.update(str(choice) for choice in spec.get('choices') or [])
    for spec in doc['doc']['options'].values():
        for sub_path, sub in documented_paths(spec.get('suboptions') or {}).items():
            words.add(sub_path)
            words.update(str(choice) for choice in sub.get('choices') or [])
    for path in documented_paths(doc.get('return') or {}):
        words.update(re.split(r'\[\]\.|\.', path))
    return words


def page_subject(page):
    """(module, role) a page of docs/modules or docs/roles is about; (None, None) for a general page."""
    base = os.path.basename(page)[:-3]
    folder = os.path.basename(os.path.dirname(page))
    return (base if folder == 'modules' else None), (base if folder == 'roles' else None)


def prose(page):
    """The page without its examples."""
    with open(page) as handle:
        return BLOCK.sub('', handle.read())


def option_specs(option, module, role):
    """The specs of an option the text names: the page's module's; else any module's or role's of that name
    (a page may speak of another's option)."""
    if module and option in ansible_doc()[module]['doc']['options']:
        return [ansible_doc()[module]['doc']['options'][option]]
    specs = [ansible_doc()[name]['doc']['options'][option] for name in MODULES if option in ansible_doc()[name]['doc']['options']]
    return specs + [ROLE_OPTIONS[name][option] for name in ([role] if role else ROLES) if option in ROLE_OPTIONS[name]]


def playbook_variables():
    """The variables playbooks/*.yml take, as their header comments list them (``#   wayscloud_x  what``)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')):
        with open(path) as handle:
            names.update(re.findall(r'^#\s+(wayscloud_[a-z_]+)', handle.read(), re.M))
    return names


def text_problems(page):
    module, role = page_subject(page)
    problems = []
    text = prose(page)
    for option, value in re.findall(r'`([a-z_]+): ([^`]+)`', text):
        specs = option_specs(option, module, role)
        if not specs:
            if option not in KEYWORDS and option not in playbook_variables() and not option.startswith('ansible_'):
                problems.append('`%s: %s`: no option %s' % (option, value, option))
            continue
        if '...' in value:
            continue
        wrong = [wrong_value('`%s: %s`' % (option, value), spec, yaml.safe_load(value)) for spec in specs]
        if all(wrong):
            problems.append(wrong[0])
    if module or role or os.path.basename(page) == 'index.md':
        known = set(KEYWORDS) | NOT_OPTIONS | set(MODULES) | set(ROLES)
        for name in MODULES:
            known |= module_words(name)
        for options in ROLE_OPTIONS.values():
            known |= set(options)
        for word in re.findall(r'`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`', text):
            if word not in known and not word.startswith(('cust_', 'wayscloud_')):
                problems.append('`%s` is no option, choice or return value' % word)
    return problems


@pytest.mark.parametrize('page', PAGES + GENERAL_PAGES, ids=[os.path.relpath(page, ROOT) for page in PAGES + GENERAL_PAGES])
def test_what_the_text_names_is_an_option_choice_or_return_value(page):
    assert text_problems(page) == []


def default_claims(text):
    """(option, value) of every ``option: value`` the text calls the default."""
    return re.findall(r'`([a-z_]+): ([^`]+)`,? \(?(?:the|by)? ?default\b', text)


@pytest.mark.parametrize('page', PAGES + GENERAL_PAGES, ids=[os.path.relpath(page, ROOT) for page in PAGES + GENERAL_PAGES])
def test_a_default_the_text_states_is_the_modules_default(page):
    module, dummy = page_subject(page)
    wrong = []
    for option, value in default_claims(prose(page)):
        for name in [module] if module else MODULES:
            spec = ansible_doc()[name]['doc']['options'].get(option)
            if spec is not None and spec.get('default') != yaml.safe_load(value):
                wrong.append('%s: the default of %s is %r, not %s' % (name, option, spec.get('default'), value))
    assert wrong == []


def test_the_checks_find_what_they_look_for():
    module = 'Wrong (wayscloud.databases.wayscloud_database)'
    found = example_problems(yaml.safe_load('''
- name: Wrong
  wayscloud.databases.wayscloud_database:
    db_type: oracle
    customer: c1
    connection_limit: many
    databases: [{requested_name: a, colour: red}]
'''))
    assert found == [module + ".db_type: 'oracle' is not among the choices ['postgresql', 'mariadb']",
                     module + ': no option customer',
                     module + ".connection_limit: 'many' is not of type int",
                     module + '.databases[]: no option colour']
    assert default_claims('Through the API (`backend: api`, the default) or (`backend: host`)') == [('backend', 'api')]
