# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # What the root-run scheduled jobs trust (plugins/module_utils/host/runner.py, host/trust.py).
    DOCUMENTATION = r'''
options: {}
notes:
  - With O(backend=host), the scheduled job runs as root, so it runs only code nobody but root can
    change. Its interpreter is the real path of the Python the module ran with (a venv's link is
    followed to the file it leads to); that file, every folder above it and the files it loads before
    any script must be owned by root and writable by neither group nor others (a sticky folder such as
    C(/tmp) may be on the way), else the module fails naming the path and the rule. The folders
    psycopg2 and pymysql were found in are checked the same way; a driver installed where another user
    can write must move first.
  - The job runs its interpreter with C(-I -S) - no C(PYTHON*) variable, current folder, user site,
    site-packages or C(.pth) file adds code - and with only the standard library, the runner's copy of
    the collection and those driver folders on its path. Every file it then loads (source, bytecode,
    extension module, package) is checked before it runs; one that fails stops the job, exit status 1,
    with the file and the rule on stderr and, once the runner itself is loaded, in the job's log. The
    tools it starts (pg_dump, mariadb-dump) get a fixed system C(PATH) and no C(LD_*) variable.
'''
