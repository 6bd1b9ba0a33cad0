# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  db_type:
    description: The database engine.
    type: str
    required: true
    choices: [postgresql, mariadb]
  requested_name:
    description:
      - The name part chosen by the customer, up to 30 ASCII letters, digits and underscores.
      - With O(customer_id) it gives the technical name; one of O(requested_name) and O(name) is required.
    type: str
  customer_id:
    description:
      - The customer owning the database, ASCII letters and digits.
      - Required with O(requested_name) when O(backend=host).
      - With O(backend=api) a customer key implies its customer and this is ignored by the API;
        an internal key acts for the customer named here.
    type: str
  name:
    description:
      - The technical name (C(cust_{customer_id}_{pg|mdb}_{requested_name})), another way to address a database.
    type: str
'''
