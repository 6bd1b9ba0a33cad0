# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path rule of the root-run jobs (host/trust.py), on folders made here: every folder the kernel
passes through, symlinks followed, and the file itself."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils.host.trust import Untrusted, check_path

NOBODY = 65534


@pytest.fixture
def tree(tmp_path):
    """tmp_path/safe/lib/mod.py, all root's and 0755/0644 (tmp_path sits under the sticky /tmp)."""
    lib = tmp_path / 'safe' / 'lib'
    lib.mkdir(parents=True)
    (lib / 'mod.py').write_text('')
    for path in (tmp_path, tmp_path / 'safe', lib):
        path.chmod(0o755)
    (lib / 'mod.py').chmod(0o644)
    return tmp_path


def test_a_root_owned_file_passes_under_a_sticky_folder(tree):
    assert check_path(str(tree / 'safe' / 'lib' / 'mod.py')) == str(tree / 'safe' / 'lib' / 'mod.py')
    assert os.stat('/tmp').st_mode & 0o1002 == 0o1002  # writable by all, but sticky


@pytest.mark.parametrize('where, mode, why', [
    ('safe/lib/mod.py', 0o646, 'safe/lib/mod.py is writable by group or others, mode 0646'),
    ('safe/lib/mod.py', 0o664, 'writable by group or others, mode 0664'),
    ('safe/lib', 0o777, 'safe/lib is writable by group or others, mode 0777'),
    ('safe', 0o775, 'safe is writable by group or others, mode 0775'),
])
def test_anything_writable_by_others_on_the_way_is_refused(tree, where, mode, why):
    (tree / where).chmod(mode)
    with pytest.raises(Untrusted, match=why):
        check_path(str(tree / 'safe' / 'lib' / 'mod.py'))


def test_a_sticky_folder_does_not_cover_a_file_writable_by_others(tree):
    (tree / 'safe' / 'lib').chmod(0o1777)
    assert check_path(str(tree / 'safe' / 'lib' / 'mod.py'))
    (tree / 'safe' / 'lib' / 'mod.py').chmod(0o666)
    with pytest.raises(Untrusted, match='mod.py is writable'):
        check_path(str(tree / 'safe' / 'lib' / 'mod.py'))


@pytest.mark.parametrize('where', ['safe', 'safe/lib/mod.py'])
def test_another_owner_is_refused(tree, where):
    os.chown(str(tree / where), NOBODY, -1)
    with pytest.raises(Untrusted, match='belongs to uid %d' % NOBODY):
        check_path(str(tree / 'safe' / 'lib' / 'mod.py'))


def test_symlinks_are_followed_and_every_folder_they_pass_is_checked(tree):
    """A link may point anywhere trusted; a link kept in a folder others can write to could be swapped,
    and so could one reached through such a folder, even when its target is safe."""
    real = str(tree / 'safe' / 'lib' / 'mod.py')
    (tree / 'link').symlink_to('safe/lib')
    assert check_path(str(tree / 'link' / 'mod.py')) == real
    shared = tree / 'shared'
    shared.mkdir()
    shared.chmod(0o777)
    (shared / 'hop').symlink_to(tree / 'safe')
    (tree / 'via').symlink_to(shared / 'hop')
    with pytest.raises(Untrusted, match='shared is writable'):
        check_path(str(tree / 'via' / 'lib' / 'mod.py'))
    shared.chmod(0o755)
    assert check_path(str(tree / 'via' / 'lib' / '..' / 'lib' / 'mod.py')) == real


def test_a_missing_path_and_a_symlink_loop_cannot_be_checked(tree):
    with pytest.raises(Untrusted, match='cannot be checked'):
        check_path(str(tree / 'safe' / 'nothing.py'))
    (tree / 'a').symlink_to('b')
    (tree / 'b').symlink_to('a')
    with pytest.raises(Untrusted, match='too many symlinks'):
        check_path(str(tree / 'a'))
