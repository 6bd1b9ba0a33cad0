# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands for the host engine outside Ansible (this server, the network tests): subprocess, no shell.

Modules hand the engine AnsibleModule.run_command instead; both report failures the same way.
"""

import os
import subprocess

from ansible_collections.wayscloud.databases.plugins.module_utils.errors import BackendError
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import command_failed


def run(argv, stdin=None, env=None):
    """Secrets go in ``env`` (added to this process's environment), never in argv."""
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=6 * 3600, check=False,
                              env=dict(os.environ, **(env or {})))
    except OSError as exc:
        raise BackendError('cannot run %s: %s (is it installed?)' % (argv[0], exc.strerror))
    if done.returncode != 0:
        raise command_failed(argv, done.returncode, done.stdout, done.stderr)
    return done.stdout
