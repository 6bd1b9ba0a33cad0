#!/usr/bin/env bash
# The reference API server (tests/api_server) with its own throwaway database servers.
#
#   scripts/api_server.sh run                     foreground, for developing playbooks offline (make api-server)
#   scripts/api_server.sh start DIR SERVERS_ENV   background, for the tests; writes DIR/api.env
#   scripts/api_server.sh stop DIR
#
# It writes DIR/config.json with fresh random API keys: an internal key, a customer key (customer
# itest1), a read-only key of the same customer, and a key of customer quota1 limited to one
# database. A fault-injecting proxy (tests/api_server/faults.py) listens in front of it too.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
VENV=$SRC/.venv

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

configure() {  # configure DIR SERVERS_ENV
  local dir=$1
  # shellcheck disable=SC1090
  source "$2"
  mkdir -p "$dir/collections/ansible_collections/wayscloud"
  # The server imports the collection's engine: point an ansible_collections tree at this checkout
  # unless the caller's PYTHONPATH already has one.
  ln -sfn "$SRC" "$dir/collections/ansible_collections/wayscloud/databases"
  DIR=$dir PG_SOCKET=$WAYSCLOUD_PG_SOCKET_DIR PG_PORT=$WAYSCLOUD_PG_PORT MDB_SOCKET=$WAYSCLOUD_MDB_SOCKET \
    MDB_PORT=$WAYSCLOUD_MDB_PORT VAULT_ADDR=${WAYSCLOUD_VAULT_ADDR:-} VAULT_TOKEN=${WAYSCLOUD_VAULT_TOKEN:-} python3 - <<'PY'
import json, os, secrets
d = os.environ
keys = {name: 'wc_test_' + secrets.token_urlsafe(24) for name in ('internal', 'customer', 'readonly', 'quota')}
everything = ['database:create', 'database:read', 'database:update', 'database:delete']
config = {
    'state_dir': os.path.join(d['DIR'], 'state'),
    'engines': {
        'postgresql': {'unix_socket': d['PG_SOCKET'], 'port': int(d['PG_PORT']), 'public_host': '127.0.0.1'},
        'mariadb': {'unix_socket': d['MDB_SOCKET'], 'port': int(d['MDB_PORT']), 'public_host': '127.0.0.1'},
    },
    'keys': [
        {'key': keys['internal'], 'customer_id': 'ops', 'permissions': everything, 'internal': True},
        {'key': keys['customer'], 'customer_id': 'itest1', 'permissions': everything},
        {'key': keys['readonly'], 'customer_id': 'itest1', 'permissions': ['database:read']},
        {'key': keys['quota'], 'customer_id': 'quota1', 'permissions': everything},
    ],
    'quota': {'default': {'databases': 20, 'storage_gb': 10}, 'customers': {'quota1': {'databases': 1}}},
    # Backup schedules as cron files in a folder of its own, never the machine's /etc/cron.d.
    'schedule': {'driver': 'cron', 'cron_dir': os.path.join(d['DIR'], 'cron.d')},
}
if d.get('VAULT_ADDR'):
    # The API server's own credentials store: its secrets live under their own prefix.
    config['vault'] = {'url': d['VAULT_ADDR'], 'token': d['VAULT_TOKEN'], 'prefix': 'wayscloud-api/databases'}
old = os.umask(0o077)
with open(os.path.join(d['DIR'], 'config.json'), 'w') as handle:
    json.dump(config, handle, indent=2)
with open(os.path.join(d['DIR'], 'keys.env'), 'w') as handle:
    for name, key in keys.items():
        handle.write('WAYSCLOUD_TEST_KEY_%s=%s\n' % (name.upper(), key))
os.umask(old)
PY
}

wait_http() {
  local url=$1 deadline=$((SECONDS + 30))
  until python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

start() {  # start DIR SERVERS_ENV
  local dir=$1 api_port proxy_port
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  configure "$dir" "$2"
  api_port=$(free_port)
  proxy_port=$(free_port)
  PYTHONPATH=${PYTHONPATH:-$dir/collections} WAYSCLOUD_API_SERVER_CONFIG=$dir/config.json \
    nohup "$VENV/bin/python" -m uvicorn app:app --app-dir "$SRC/tests/api_server" --host 127.0.0.1 \
    --port "$api_port" --log-level warning >"$dir/api.log" 2>&1 &
  echo $! >"$dir/api.pid"
  nohup "$VENV/bin/python" "$SRC/tests/api_server/faults.py" --listen "127.0.0.1:$proxy_port" \
    --upstream "http://127.0.0.1:$api_port" >"$dir/faults.log" 2>&1 &
  echo $! >"$dir/faults.pid"
  if ! wait_http "http://127.0.0.1:$api_port/openapi.json" || ! wait_http "http://127.0.0.1:$proxy_port/__faults__"; then
    echo "api_server.sh: the API server did not start; see $dir/api.log" >&2
    tail -20 "$dir/api.log" >&2
    return 1
  fi
  umask 077
  {
    echo "WAYSCLOUD_API_URL=http://127.0.0.1:$api_port"
    echo "WAYSCLOUD_FAULTS_URL=http://127.0.0.1:$proxy_port"
    cat "$dir/keys.env"
  } >"$dir/api.env"
  echo "api_server.sh: API on http://127.0.0.1:$api_port, fault proxy on http://127.0.0.1:$proxy_port; keys in $dir/api.env"
}

stop() {
  local dir=$1 name
  for name in api faults; do
    if [ -f "$dir/$name.pid" ]; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

run() {
  local dir=$SRC/.work/api-server
  scripts/bootstrap.sh
  scripts/servers.sh stop "$dir/servers"
  scripts/servers.sh start "$dir/servers"
  trap 'stop "$dir"; scripts/servers.sh stop "$dir/servers"' EXIT
  start "$dir" "$dir/servers/servers.env"
  echo
  echo "Keys (X-API-Key) for this run:"
  sed 's/^/  /' "$dir/keys.env"
  echo "OpenAPI: $(grep WAYSCLOUD_API_URL "$dir/api.env" | cut -d= -f2)/openapi.json   (Ctrl-C stops everything)"
  wait "$(cat "$dir/api.pid")"
}

case "${1:-}" in
  run) run ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 run | start DIR SERVERS_ENV | stop DIR" >&2; exit 2 ;;
esac
