# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the root-run scheduled jobs (host/runner.py) trust: only files that nobody but root can change.

A path is trusted when the file and every directory the kernel passes through to reach it, symlinks
followed, are owned by root (or by the user checking, when that is not root: the jobs then run as it)
and writable by neither group nor others. A directory writable by others passes only with the sticky
bit (/tmp, /var/tmp): there nobody can rename or remove what root put in it, and what follows it is
checked in turn.

``check_path`` vets the interpreter and the driver folders when the runner is installed; run as a
script (``python -I -S -``, as the runner's install does), this module lists the files an entry script
loads before its guard (the interpreter's encodings, this module) so that they are vetted before
they ever run. ``guard`` is the first thing an entry script calls: it puts a finder first in
``sys.meta_path`` that vets every module's files (source, bytecode, extension, package ``__init__``)
before the module is executed, and checks again what was loaded before it. Standard library only:
it runs before anything else is imported.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import sys

RULE = 'owned by root and writable by neither group nor others'


class Untrusted(BaseException):
    """Code someone other than root could change. A BaseException, like SystemExit: the jobs catch
    ``Exception`` to go on with the next database, and a refusal must stop the whole job instead."""


def _check(path, info):
    if info.st_uid not in (0, os.geteuid()):
        raise Untrusted('%s belongs to uid %d (it must be %s)' % (path, info.st_uid, RULE))
    sticky_folder = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if info.st_mode & 0o022 and not sticky_folder:
        raise Untrusted('%s is writable by group or others, mode %04o (it must be %s)'
                        % (path, stat.S_IMODE(info.st_mode), RULE))


def check_path(path, checked=None):
    """The real path of ``path``, after checking everything on the way to it as the kernel walks it;
    raises Untrusted. ``checked``: a set of folders already found trusted (a cache for one process)."""
    checked = set() if checked is None else checked
    current, todo, hops = '/', [part for part in reversed(os.path.abspath(path).split('/')) if part], 0
    try:
        if current not in checked:
            _check(current, os.lstat(current))
            checked.add(current)
        while todo:
            part = todo.pop()
            if part == '.':
                continue
            if part == '..':
                current = os.path.dirname(current)  # an ancestor: checked on the way down
                continue
            candidate = os.path.join(current, part)
            if candidate in checked:
                current = candidate
                continue
            info = os.lstat(candidate)
            if stat.S_ISLNK(info.st_mode):
                hops += 1
                if hops > 40:
                    raise Untrusted('%s: too many symlinks' % path)
                target = os.readlink(candidate)
                current = '/' if target.startswith('/') else current
                todo.extend(part for part in reversed(target.split('/')) if part)
                continue
            _check(candidate, info)
            if todo and stat.S_ISDIR(info.st_mode):
                checked.add(candidate)
            current = candidate
    except OSError as exc:
        raise Untrusted('%s cannot be checked: %s' % (path, exc.strerror))
    return current


def spec_files(spec):
    """The files importing a module reads: its origin (source, extension or bytecode) and its cached
    bytecode, or else the folder that bytecode would go to. None for built-in, frozen and namespace
    modules (nothing of theirs is on disk)."""
    if not spec.has_location:
        return []
    cached = [spec.cached, os.path.dirname(spec.cached)] if spec.cached else []
    return [spec.origin] + [path for path in cached if os.path.lexists(path)][:1]


def loaded_files():
    """[(module name, file)] behind every module loaded so far, a script's own file among them."""
    found = []
    for name, module in sorted(sys.modules.items()):
        spec = getattr(module, '__spec__', None)
        paths = spec_files(spec) if spec is not None else [getattr(module, '__file__', None)]
        found.extend((name, path) for path in paths if path)
    return found


class TrustedFinder:
    """First in sys.meta_path: asks the finders after it, and refuses a module whose files are not trusted."""

    def __init__(self):
        self.checked = set()

    def find_spec(self, name, path=None, target=None):
        for finder in sys.meta_path[sys.meta_path.index(self) + 1:]:
            find = getattr(finder, 'find_spec', None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                for origin in spec_files(spec):
                    self.check_file(name, origin)
                return spec
        return None

    def check_file(self, name, path):
        try:
            check_path(path, self.checked)
        except Untrusted as exc:
            raise Untrusted('refused to load %s: %s' % (name, exc))


def report(kind, value, trace):
    """sys.excepthook: a refusal nobody caught is one clear line on stderr (cron mails it, the journal
    keeps it) and exit status 1; anything else as Python reports it."""
    if issubclass(kind, Untrusted):
        sys.stderr.write('wayscloud: %s\n' % value)
    else:
        sys.__excepthook__(kind, value, trace)


def guard(folders):
    """Put the finder first, check what is already loaded, then add ``folders`` (the driver folders
    found at install) to the end of ``sys.path``. Anything untrusted stops the process."""
    sys.excepthook = report
    finder = TrustedFinder()
    sys.meta_path.insert(0, finder)
    for name, path in loaded_files():
        finder.check_file(name, path)
    sys.path.extend(folder for folder in folders if folder not in sys.path)
    return finder


if __name__ == '__main__':  # the install's probe (host/runner.py, source on stdin): what Python loads first
    sys.stdout.write(''.join('%s\n' % path for name, path in loaded_files() if name != '__main__'))
