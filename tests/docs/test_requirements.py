# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each plugin's ``requirements`` name the libraries its code imports on first use (``MissingLibrary`` in
module_utils): the database libraries in every module (all take ``backend: host``), hvac exactly where Vault is
used (the modules that run with ``vault=True``, and the lookup), and the api backend needing nothing beyond
ansible-core where a module takes it (test_returns.py runs it on a Python with nothing installed)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

import pytest

from plugin_docs import MODULES, ROOT, ansible_doc

DATABASE_LIBRARIES = ('psycopg2', 'pymysql')


def lazy_libraries():
    """The names module_utils give ``MissingLibrary`` (what a missing import is reported as)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, 'plugins', 'module_utils', '**', '*.py'), recursive=True):
        with open(path) as handle:
            names.update(re.findall(r"MissingLibrary\('([^']+)'", handle.read()))
    return names


def source(name):
    with open(os.path.join(ROOT, 'plugins', 'modules', name + '.py')) as handle:
        return handle.read()


def requirements(name, plugin_type='module'):
    return ' '.join(ansible_doc(plugin_type)[name]['doc'].get('requirements') or []).lower()


def test_the_lazy_imports_are_the_ones_documented():
    assert lazy_libraries() == set(DATABASE_LIBRARIES + ('hvac',))


@pytest.mark.parametrize('name', MODULES)
def test_requirements_name_what_the_module_imports(name):
    text = requirements(name)
    for library in DATABASE_LIBRARIES:
        assert library in text, '%s: requirements do not name %s' % (name, library)
    uses_vault = re.search(r'\brun\(module,[^)]*\bvault=True', source(name)) is not None
    assert ('hvac' in text) == uses_vault, '%s: hvac in requirements must match whether it keeps credentials in Vault' % name
    host_only = 'host_only(' in source(name)
    assert ('backend=api' in text) != host_only, '%s: requirements must say what backend=api needs, unless host only' % name


def test_the_lookup_needs_hvac_on_the_controller():
    assert 'hvac' in requirements('credentials', 'lookup')
    assert 'controller' in requirements('credentials', 'lookup')
