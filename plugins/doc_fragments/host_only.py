# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The backend of a module that acts on a database host alone (module.py HOST_ONLY_OPTIONS). Listed before the
    # host fragment, whose backend option it replaces (a fragment merged later never overrides an option).
    DOCUMENTATION = r'''
options:
  backend:
    description:
      - Where the task acts - V(host) only, the database host the task runs on (or is delegated to).
      - V(api) is refused with a message that says why; it is a choice only so that a C(module_defaults) block of the
        group C(wayscloud.databases.all) naming it gets that message.
    type: str
    choices: [api, host]
    default: host
'''
