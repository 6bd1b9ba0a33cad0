# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/api_server/README.md says what the server serves: its endpoint table lists every route of app.py, and
every endpoint the README names (in the table or its text) is a route. Nothing is called pending there."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os
import re

from plugin_docs import ROOT

SERVER = os.path.join(ROOT, 'tests', 'api_server')
METHODS = ('get', 'post', 'put', 'patch', 'delete')
ENDPOINT = re.compile(r'`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`')


def routes():
    """{(METHOD, path)} of the ``@app.<method>(path, ...)`` decorators of app.py."""
    with open(os.path.join(SERVER, 'app.py')) as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        for decorator in getattr(node, 'decorator_list', []):
            if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                    and isinstance(decorator.func.value, ast.Name) and decorator.func.value.id == 'app'
                    and decorator.func.attr in METHODS):
                found.add((decorator.func.attr.upper(), decorator.args[0].value))
    return found


def readme():
    with open(os.path.join(SERVER, 'README.md')) as handle:
        return handle.read()


def endpoint_table(text):
    """The rows of the table under "What it implements": [(first cell, line)]."""
    section = text.split('## What it implements', 1)[1].split('\n## ', 1)[0]
    lines = section.split('\n')
    start = next(number for number, line in enumerate(lines) if line.startswith('| endpoint'))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        rows.append((line.split('|')[1], line))
    return rows


def test_the_app_has_routes():
    assert len(routes()) >= 20, routes()


def test_every_route_is_in_the_endpoint_table():
    listed = set()
    for cell, line in endpoint_table(readme()):
        endpoints = set(ENDPOINT.findall(cell))
        assert endpoints, 'a row of the endpoint table names no endpoint: %s' % line
        listed |= endpoints
    assert sorted(routes() - listed) == [], 'routes of app.py missing from the README endpoint table'


def test_every_endpoint_the_readme_names_is_a_route():
    named = set(ENDPOINT.findall(readme()))
    assert sorted(named - routes()) == [], 'endpoints in the README that app.py does not serve'


def test_nothing_is_called_pending():
    words = re.findall(r'\b(pending|not (?:yet )?implemented|not yet|planned|to do|todo|coming soon)\b', readme(), re.I)
    assert words == []
