# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands for the host engine outside Ansible (this server, the network tests): subprocess, no shell,
the runner the host's scheduled jobs use (host/runner.py).

Modules hand the engine AnsibleModule.run_command instead; both report failures the same way.
"""

import subprocess

from ansible_collections.wayscloud.databases.plugins.module_utils.host.runner import command_runner

run = command_runner(subprocess.run)
