#!/usr/bin/env bash
# Firewall tests across a real network, in network namespaces this script makes and removes:
# wcsrv (198.18.0.1 on a bridge; PostgreSQL, MariaDB, ufw or nftables) and wccli1/wccli2
# (198.18.0.2 / .3). The machine's own network namespace and /etc/ufw are never changed: ufw in
# wcsrv works on a copy (/etc/netns/wcsrv/ufw, which `ip netns exec` mounts over /etc/ufw).
#
#   scripts/netns_test.sh PYTHON WORKDIR       PYTHON has pytest, psycopg2, PyMySQL; PYTHONPATH has the collection
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
PY=$1
WORK=$2
SRV=wcsrv

cleanup() {
  ip netns exec "$SRV" scripts/servers.sh stop "$WORK/netns-servers" >/dev/null 2>&1 || true
  for ns in "$SRV" wccli1 wccli2; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "/etc/netns/$SRV"
}
trap cleanup EXIT
cleanup

ufw_before=$(cd /etc/ufw && find . -type f -exec sha256sum {} + | sort | sha256sum)
ip netns add "$SRV"
ip -n "$SRV" link set lo up
ip -n "$SRV" link add wcbr0 type bridge
ip -n "$SRV" addr add 198.18.0.1/24 dev wcbr0
ip -n "$SRV" link set wcbr0 up
for i in 1 2; do
  ip netns add "wccli$i"
  ip -n "wccli$i" link set lo up
  ip link add "wc-s$i" type veth peer name "wc-c$i"
  ip link set "wc-s$i" netns "$SRV"
  ip link set "wc-c$i" netns "wccli$i"
  ip -n "$SRV" link set "wc-s$i" master wcbr0 up
  ip -n "wccli$i" addr add "198.18.0.$((i + 1))/24" dev "wc-c$i"
  ip -n "wccli$i" link set "wc-c$i" up
done
mkdir -p "/etc/netns/$SRV"
cp -a /etc/ufw "/etc/netns/$SRV/ufw"

BAO=/nonexistent WAYSCLOUD_LISTEN_ALL=1 ip netns exec "$SRV" scripts/servers.sh start "$WORK/netns-servers"
set -a
# shellcheck disable=SC1091
source "$WORK/netns-servers/servers.env"
set +a
# Like many hosts, let every address try a password for any database below the collection's block:
# then only the block itself stands between a tenant and a database it was not given.
echo 'host all all 0.0.0.0/0 scram-sha-256' >>"$WAYSCLOUD_PG_DATA/pg_hba.conf"
ip netns exec "$SRV" runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$WAYSCLOUD_PG_DATA" reload >/dev/null
status=0
ip netns exec "$SRV" "$PY" -m pytest -q -p no:cacheprovider tests/network || status=$?

cleanup
trap - EXIT
ufw_after=$(cd /etc/ufw && find . -type f -exec sha256sum {} + | sort | sha256sum)
if [ "$ufw_before" != "$ufw_after" ]; then
  echo "netns_test.sh: /etc/ufw changed" >&2
  status=1
fi
if nft list table inet wayscloud >/dev/null 2>&1; then
  echo "netns_test.sh: the machine's own namespace has a wayscloud nftables table" >&2
  status=1
fi
if ip netns list | grep -q '^wc'; then
  echo "netns_test.sh: namespaces were left behind" >&2
  status=1
fi
exit $status
