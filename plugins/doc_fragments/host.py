# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  backend:
    description:
      - Where the task acts.
      - V(api) goes through the WaysCloud Databases HTTP API.
      - V(host) works directly on the database host the task runs on (or is delegated to), with
        C(psycopg2) for PostgreSQL and C(PyMySQL) for MariaDB.
      - Both give the same result shape, so a playbook runs unchanged on either.
      - V(api) is the default of every module that works through both, since a task then needs nothing on the host it
        runs on. The host-only modules (M(wayscloud.databases.wayscloud_database_quota),
        M(wayscloud.databases.wayscloud_database_collector)) default to V(host) and refuse V(api). The role
        C(wayscloud.databases.database) (C(database_backend)) and the playbooks (C(wayscloud_backend)) default to
        V(host), since they run on the database hosts the role C(wayscloud.databases.db_server) sets up; set it to
        V(api) to go through the API.
    type: str
    choices: [api, host]
    default: api
  login_host:
    description:
      - With O(backend=host), the host name or address of the database server to administer.
      - When neither this nor O(login_unix_socket) is set, the engine's default local socket is used
        (C(/var/run/postgresql) for PostgreSQL, C(/run/mysqld/mysqld.sock) for MariaDB).
    type: str
  login_port:
    description:
      - With O(backend=host), the server's port. Defaults to C(5432) for PostgreSQL and C(3306) for MariaDB.
      - It is also the port put in connection strings.
    type: int
  login_user:
    description:
      - With O(backend=host), the administrative account. Defaults to C(postgres) for PostgreSQL
        and C(root) for MariaDB (unix socket authentication when running as root).
    type: str
  login_password:
    description:
      - With O(backend=host), the administrative account's password; not needed with socket
        (peer, trust or unix_socket) authentication.
    type: str
  login_unix_socket:
    description:
      - With O(backend=host), the local socket to connect through.
      - For PostgreSQL the folder that holds the socket (a path to the C(.s.PGSQL.<port>) file works too);
        for MariaDB the socket file.
      - MariaDB connections through a socket do not use TLS, so an administrative account created
        C(REQUIRE SSL) logs in over TCP instead (O(login_host)).
    type: str
  state_dir:
    description:
      - With O(backend=host), the folder for the collection's catalog (owner customer, descriptions,
        history) and locks. Created with mode C(0700).
    type: path
    default: /var/lib/wayscloud
  public_host:
    description:
      - With O(backend=host), the host name clients use, put in connection strings.
      - Defaults to O(login_host), or C(localhost) when connecting through a socket.
    type: str
  firewall_driver:
    description:
      - With O(backend=host), the packet filter that enforces firewall rules at the network
        (see M(wayscloud.databases.wayscloud_database_firewall)).
      - V(ufw) adds one C(allow) rule per address and port, commented C(wayscloud <catalog id> <rule_id>).
      - V(nftables) keeps the table C(inet wayscloud) (and nothing else) guarding the database ports.
      - V(none) for hosts without a packet filter; the database layer alone then decides.
      - Default - the packet filter the host's rules were made with (recorded in O(state_dir)), else V(ufw).
    type: str
    choices: [ufw, nftables, none]
  logins:
    description:
      - With O(backend=host), login settings per engine, so that one C(module_defaults) block of the group
        C(wayscloud.databases.all) serves PostgreSQL and MariaDB tasks alike. Keyed by engine
        (V(postgresql), V(mariadb)); each value may hold C(login_host), C(login_port), C(login_user),
        C(login_unix_socket) and C(public_host), with the meaning and the rules of the options of the same name.
      - A task uses the entry of its O(db_type); each of its own login options that is set (O(login_host),
        O(login_port), O(login_user), O(login_unix_socket), O(public_host)) overrides that entry's setting.
      - Another engine's entry is used where a task looks at that engine too (M(wayscloud.databases.wayscloud_database_info)
        listing both engines' databases, engines, quota).
      - Passwords do not go here but in O(login_passwords); a C(login_password) in an entry is refused.
    type: dict
  login_passwords:
    description:
      - With O(backend=host), the administrative account's password per engine, keyed like O(logins)
        (V(postgresql), V(mariadb)); a task's own O(login_password) overrides its engine's.
      - Its values are hidden from the task's output, as O(login_password) is.
    type: dict
notes:
  - With O(backend=host) the module runs on the database host and needs C(psycopg2) (PostgreSQL)
    or C(PyMySQL) (MariaDB) there; it imports only the library of the engine it manages.
  - Every module takes every option of this page and of the API and Vault pages, also those its backend or its
    work does not use (it ignores them), so that one C(module_defaults) block of the group
    C(wayscloud.databases.all) can hold them all for both backends and both engines.
'''

    # The backend of a module that acts on a database host alone (module.py HOST_ONLY_OPTIONS). Listed before the
    # DOCUMENTATION above, whose backend option it replaces (a fragment merged later never overrides an option).
    HOST_ONLY = r'''
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
