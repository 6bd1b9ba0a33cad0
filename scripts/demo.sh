#!/usr/bin/env bash
# `make demo`: provision one PostgreSQL and one MariaDB database for a demo customer, prove the
# connection strings by connecting as the new users, and run the playbook again to show changed=0.
#
# Servers: throwaway ones in .demo/servers (kept running until `make demo-clean`), or existing
# local ones given by WAYSCLOUD_PG_SOCKET_DIR + WAYSCLOUD_PG_PORT and WAYSCLOUD_MDB_SOCKET + WAYSCLOUD_MDB_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=$(pwd)/.demo
VENV=$(pwd)/.venv

scripts/bootstrap.sh

if [ -z "${WAYSCLOUD_PG_SOCKET_DIR:-}" ]; then
  if [ -f "$DEMO/servers/servers.env" ] && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl \
      -D "$DEMO/servers/postgresql/data" status >/dev/null 2>&1; then
    echo "demo: reusing the servers in $DEMO/servers"
  else
    scripts/servers.sh stop "$DEMO/servers"
    scripts/servers.sh start "$DEMO/servers" --fsync
  fi
  set -a
  # shellcheck disable=SC1091
  source "$DEMO/servers/servers.env"
  set +a
fi

echo "demo: building and installing the collection into $DEMO/collections"
rm -rf "$DEMO/build" "$DEMO/collections"
mkdir -p "$DEMO"
"$VENV/bin/ansible-galaxy" collection build --force --output-path "$DEMO/build" >/dev/null
"$VENV/bin/ansible-galaxy" collection install --offline --force -p "$DEMO/collections" "$DEMO"/build/wayscloud-databases-*.tar.gz >/dev/null

cat >"$DEMO/servers.yml" <<VARS
---
wayscloud_state_dir: $DEMO/state
wayscloud_credentials_dir: $DEMO/credentials
wayscloud_host_login:
  postgresql:
    login_unix_socket: $WAYSCLOUD_PG_SOCKET_DIR
    login_port: $WAYSCLOUD_PG_PORT
    public_host: ${WAYSCLOUD_PUBLIC_HOST:-127.0.0.1}
  mariadb:
    login_unix_socket: $WAYSCLOUD_MDB_SOCKET
    login_port: $WAYSCLOUD_MDB_PORT
    public_host: ${WAYSCLOUD_PUBLIC_HOST:-127.0.0.1}
VARS

export ANSIBLE_COLLECTIONS_PATH=$DEMO/collections ANSIBLE_PYTHON_INTERPRETER=$VENV/bin/python \
  ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
provision() {
  "$VENV/bin/ansible-playbook" -i localhost, -c local playbooks/provision.yml \
    -e @playbooks/vars/demo.yml -e @"$DEMO/servers.yml"
}

echo; echo "demo: first run of playbooks/provision.yml"
provision

echo; echo "demo: connecting as each new user with its connection string and stored password"
"$VENV/bin/python" scripts/demo_connect.py "$DEMO/credentials"

echo; echo "demo: second run (must change nothing)"
provision | tee "$DEMO/second-run.log"
if ! grep -Eq 'changed=0 .*failed=0' "$DEMO/second-run.log"; then
  echo "demo: the second run changed something" >&2
  exit 1
fi
echo; echo "demo: done. Passwords are in $DEMO/credentials (0600). 'make demo-clean' removes it all."
