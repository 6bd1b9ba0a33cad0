#!/usr/bin/env bash
# Snapshot and restore benchmark (bench/snapshots.py) on throwaway servers with fsync on.
#   bench/snapshots.sh [--scale 70] [--repeat 3] [--engines postgresql,mariadb] [--jobs 1,2]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
WORK=${WAYSCLOUD_BENCH_WORK:-$SRC/.work/bench}
scripts/bootstrap.sh
mkdir -p "$WORK/collections/ansible_collections/wayscloud"
ln -sfn "$SRC" "$WORK/collections/ansible_collections/wayscloud/databases"
scripts/servers.sh stop "$WORK/servers" >/dev/null 2>&1 || true
scripts/servers.sh start "$WORK/servers" --fsync >/dev/null
trap 'scripts/servers.sh stop "$WORK/servers" >/dev/null 2>&1 || true' EXIT
set -a
# shellcheck disable=SC1091
source "$WORK/servers/servers.env"
set +a
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; PostgreSQL $(psql --version | awk '{print $3}'), $(mariadb --version | grep -o '[0-9.]*-MariaDB' || true)"
PYTHONPATH=$WORK/collections "$SRC/.venv/bin/python" bench/snapshots.py --work "$WORK" "$@"
