#!/usr/bin/env bash
# `make bench`: every benchmark in one table, on throwaway servers with fsync on (docs/benchmarks.md).
#   bench/run.sh [--only provision,api,concurrency,memory,scale,snapshots] [--repeat 3] [--count 20] [--scale 70]
#                [--sizes 50,200,1000] [--baseline COLLECTIONS_PATH]
#                [--engines postgresql,mariadb]
# The other side of each comparison comes from the PyPI package `ansible` (community.postgresql,
# community.mysql), installed into the work folder, never into the collection's own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
WORK=${WAYSCLOUD_BENCH_WORK:-$SRC/.work/bench}
COMMUNITY_VERSION=${WAYSCLOUD_BENCH_ANSIBLE:-12.3.0}  # the release of the PyPI package built on our ansible-core 2.19

ONLY=provision,api,concurrency,memory,scale,snapshots REPEAT=3 COUNT=20 SCALE=70 SIZES=50,200,1000 BASELINE="" ENGINES=postgresql,mariadb
while [ $# -gt 0 ]; do
  case $1 in
    --only) ONLY=$2 ;; --repeat) REPEAT=$2 ;; --count) COUNT=$2 ;; --scale) SCALE=$2 ;;
    --sizes) SIZES=$2 ;; --baseline) BASELINE=$2 ;; --engines) ENGINES=$2 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

scripts/bootstrap.sh >/dev/null
mkdir -p "$WORK/collections/ansible_collections/wayscloud"
ln -sfn "$SRC" "$WORK/collections/ansible_collections/wayscloud/databases"
if [ ! -f "$WORK/community/ansible-$COMMUNITY_VERSION.installed" ]; then
  rm -rf "$WORK/community"
  "$SRC/.venv/bin/pip" install -q --no-deps --target "$WORK/community" "ansible==$COMMUNITY_VERSION"
  touch "$WORK/community/ansible-$COMMUNITY_VERSION.installed"
fi

scripts/api_server.sh stop "$WORK/api" >/dev/null 2>&1 || true
scripts/servers.sh stop "$WORK/servers" >/dev/null 2>&1 || true
scripts/servers.sh start "$WORK/servers" --fsync >/dev/null
trap 'scripts/api_server.sh stop "$WORK/api" >/dev/null 2>&1 || true; scripts/servers.sh stop "$WORK/servers" >/dev/null 2>&1 || true' EXIT
scripts/api_server.sh start "$WORK/api" "$WORK/servers/servers.env" >/dev/null
set -a
# shellcheck disable=SC1091
source "$WORK/servers/servers.env"
# shellcheck disable=SC1091
source "$WORK/api/api.env"
set +a
export PYTHONPATH=$WORK/collections WAYSCLOUD_BENCH_API_STATE=$WORK/api/state

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; PostgreSQL $(psql --version | awk '{print $3}'), $(mariadb --version | grep -o '[0-9.]*-MariaDB' || true); ansible-core $("$SRC/.venv/bin/python" -c 'import ansible.release as r; print(r.__version__)'), ansible $COMMUNITY_VERSION (community.postgresql $(grep -m1 '"version"' "$WORK/community/ansible_collections/community/postgresql/MANIFEST.json" | grep -o '[0-9.]*'), community.mysql $(grep -m1 '"version"' "$WORK/community/ansible_collections/community/mysql/MANIFEST.json" | grep -o '[0-9.]*')); --repeat $REPEAT --count $COUNT --scale $SCALE"
"$SRC/.venv/bin/python" -c 'import sys; sys.path.insert(0, "bench"); import table; print(table.HEADER)'
ANSIBLE_PARTS=$(echo "$ONLY" | tr , '\n' | grep -v '^snapshots$' | paste -sd, || true)
if [ -n "$ANSIBLE_PARTS" ]; then
  "$SRC/.venv/bin/python" bench/ansible_runs.py --only "$ANSIBLE_PARTS" --repeat "$REPEAT" --count "$COUNT" --work "$WORK" \
    --sizes "$SIZES" ${BASELINE:+--baseline "$BASELINE"} --ours "$WORK/collections" --community "$WORK/community"
fi
if echo ",$ONLY," | grep -q ',snapshots,'; then
  "$SRC/.venv/bin/python" bench/snapshots.py --scale "$SCALE" --repeat "$REPEAT" --engines "$ENGINES" --work "$WORK" \
    --ours "$WORK/collections" --community "$WORK/community"
fi
