#!/usr/bin/env bash
# Install everything the demo and the tests need on a fresh Debian 12 machine; quick when done already.
#   apt: PostgreSQL 15, MariaDB 10.11 and their clients, zstd, rsync, git, shellcheck, ufw, nftables, iproute2,
#        and what the db_server role installs on a database host (cron, the modules' Python libraries)
#   .venv: Python 3.11 with ansible-core 2.19, the modules' libraries, pytest, ansible-lint, molecule,
#          ansible-runner, ansible-builder, antsibull-changelog
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql-15 postgresql-client-15 mariadb-server mariadb-client zstd rsync git shellcheck
  ufw nftables iptables iproute2 cron python3-psycopg2 python3-pymysql python3-hvac)
PYTHON=${WAYSCLOUD_PYTHON:-python3.11}
VENV=.venv

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's maintainer scripts try to start the servers; there is no init system here, and the
  # tests start their own throwaway servers, so a refused start is expected and harmless.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=$VENV/.requirements.sha256
wanted=$(cat tests/requirements-dev.txt requirements.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "bootstrap: preparing $VENV ($($PYTHON --version))"
  "$PYTHON" -m venv "$(realpath "$VENV")"  # a worktree's .venv may be a link to a shared one
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2> >(grep -v 'is ignored: it is neither' >&2)
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/requirements-dev.txt 2> >(grep -v 'is ignored: it is neither' >&2)
  echo "$wanted" >"$stamp"
fi
