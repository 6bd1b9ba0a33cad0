#!/usr/bin/env bash
# `make test`: every quality gate, on real servers, from a fresh machine.
#
# Installs what is missing (scripts/bootstrap.sh), starts throwaway PostgreSQL and MariaDB servers,
# copies the collection to an ansible_collections tree outside the work tree (ansible-test wants a
# real copy, and one that git does not see as ignored), runs each gate, stops the servers, and ends
# with one line "N passed, M failed" (one per gate). Exits non-zero when any gate fails.
#
#   GATES="unit integration" scripts/test.sh     run only some gates
#   WAYSCLOUD_TEST_WORK=/path                     where servers, the copy and logs go
#   WAYSCLOUD_TEST_LANES=1                        one gate after another (default 2 lanes, see run_lanes)
#   INTEGRATION_TARGETS="wayscloud_database_info" only these targets of gate integration
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SRC=$(pwd)
WORK=${WAYSCLOUD_TEST_WORK:-/var/tmp/wayscloud-databases-test}
GATES=${GATES:-sanity-oldest sanity-newest unit engine api-contract integration schemathesis network playbooks hardening tenant molecule docs lint galaxy}
COLLECTIONS=$WORK/collections
COPY=$COLLECTIONS/ansible_collections/wayscloud/databases
LANE=${WAYSCLOUD_TEST_LANE:-}
LOGS=${WAYSCLOUD_TEST_LOGS:-$WORK/logs}
SANITY_WORK=${WAYSCLOUD_SANITY_WORK:-$WORK/sanity}
PY=$SRC/.venv/bin/python

# The last line, "N passed, M failed"; a lane hands its counts to the run that started it instead.
summary() {
  if [ -n "$LANE" ]; then echo "$1 $2 ${3:-}" >"$WORK/result"; else echo "$1 passed, $2 failed"; fi
}

# Two lanes at once, each with servers and an API server of its own, the gates' lines as they end and one
# summary. Gates wait on servers, sleep through injected faults and start a Python per task: one after
# another they keep 2 cores about two thirds busy (61 minutes here; 37 in two lanes). The first lane
# ($WORK/lane-0) takes the longest gate (hardening), sanity (its two runs share $SANITY_WORK), playbooks and docs;
# the second ($WORK/lane-1) the rest, about as long (integration its longest).
run_lanes() {
  local first=" hardening sanity-oldest sanity-newest playbooks docs " lanes=("" "") gate k pids=() passed=0 failed=0 names=""
  for gate in $GATES; do
    case $first in *" $gate "*) lanes[0]+=" $gate" ;; *) lanes[1]+=" $gate" ;; esac
  done
  rm -rf "$LOGS" && mkdir -p "$LOGS"
  for k in 0 1; do
    [ -n "${lanes[$k]}" ] || continue
    rm -f "$WORK/lane-$k/result"
    WAYSCLOUD_TEST_LANE=$k WAYSCLOUD_TEST_WORK=$WORK/lane-$k WAYSCLOUD_TEST_LOGS=$LOGS WAYSCLOUD_SANITY_WORK=$SANITY_WORK \
      GATES="${lanes[$k]}" scripts/test.sh &
    pids+=($!)
  done
  trap 'kill "${pids[@]}" 2>/dev/null' INT TERM
  wait "${pids[@]}"
  for k in 0 1; do
    [ -n "${lanes[$k]}" ] || continue
    local counts=(0 1 "lane-$k")
    [ -f "$WORK/lane-$k/result" ] && read -r -a counts <"$WORK/lane-$k/result"
    passed=$((passed + counts[0])) failed=$((failed + counts[1])) names+=" ${counts[*]:2}"
  done
  [ $failed -eq 0 ] || echo "failed gates:$names"
  echo "$passed passed, $failed failed"
  [ $failed -eq 0 ]
}

scripts/bootstrap.sh || { summary 0 1 bootstrap; exit 1; }
if [ -z "$LANE" ] && [ "${WAYSCLOUD_TEST_LANES:-2}" -gt 1 ] && [ "$(wc -w <<<"$GATES")" -gt 1 ]; then
  mkdir -p "$WORK" && chmod 755 "$WORK"
  run_lanes
  exit
fi

scripts/servers.sh stop "$WORK/servers"
rm -rf "$COPY" "$WORK/state"
[ -n "$LANE" ] || rm -rf "$LOGS"
mkdir -p "$COLLECTIONS/ansible_collections/wayscloud" "$LOGS"
chmod 755 "$WORK"
trap 'scripts/api_server.sh stop "$WORK/api"; scripts/servers.sh stop "$WORK/servers"' EXIT
scripts/servers.sh start "$WORK/servers" || { summary 0 1 servers; exit 1; }
rsync -a --delete --exclude '.venv*' --exclude .work --exclude .demo --exclude .ansible --exclude .git \
  --exclude tests/output --exclude '*.tar.gz' --exclude __pycache__ ./ "$COPY/"
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS PYTHONPATH=$COLLECTIONS
rm -rf "$WORK/api"
scripts/api_server.sh start "$WORK/api" "$WORK/servers/servers.env" || { summary 0 1 api-server; exit 1; }
set -a
# shellcheck disable=SC1091
source "$WORK/servers/servers.env"
# shellcheck disable=SC1091
source "$WORK/api/api.env"
set +a
umask 077  # the file below holds test keys
cat >"$COPY/tests/integration/integration_config.yml" <<EOF
---
pg_socket_dir: $WAYSCLOUD_PG_SOCKET_DIR
pg_port: $WAYSCLOUD_PG_PORT
mdb_socket: $WAYSCLOUD_MDB_SOCKET
mdb_port: $WAYSCLOUD_MDB_PORT
state_dir: $WORK/state/integration
api_state_dir: $WORK/api/state
api_url: $WAYSCLOUD_API_URL
faults_url: $WAYSCLOUD_FAULTS_URL
api_key_internal: $WAYSCLOUD_TEST_KEY_INTERNAL
api_key_customer: $WAYSCLOUD_TEST_KEY_CUSTOMER
api_key_readonly: $WAYSCLOUD_TEST_KEY_READONLY
api_key_quota: $WAYSCLOUD_TEST_KEY_QUOTA
bare_python: $WORK/bare-venv/bin/python
vault_url: $WAYSCLOUD_VAULT_ADDR
vault_token: $WAYSCLOUD_VAULT_TOKEN
EOF
# A Python with nothing installed: proves each backend imports only the libraries it needs.
[ -x "$WORK/bare-venv/bin/python" ] || "$PY" -m venv --without-pip "$WORK/bare-venv"
umask 022

gate_sanity-oldest() { SANITY_ONLY=old scripts/sanity.sh "$SRC" "$SANITY_WORK"; }
gate_sanity-newest() { SANITY_ONLY=new scripts/sanity.sh "$SRC" "$SANITY_WORK"; }
gate_unit() { (cd "$COPY" && "$PY" -m pytest -q -p no:cacheprovider tests/unit); }
gate_engine() { (cd "$COPY" && "$PY" -m pytest -q -p no:cacheprovider tests/engine); }
gate_api-contract() {
  (cd "$COPY/tests/api_server" && WAYSCLOUD_SHARED_CONTRACT=$SRC/../shared/api/databases-api.md \
    PYTHONPATH=$COLLECTIONS:. "$PY" -m pytest -q -p no:cacheprovider -rxs test_contract.py test_limits.py)
}
gate_network() { (cd "$COPY" && scripts/netns_test.sh "$PY" "$WORK"); }
# The playbooks as users run them, through ansible-runner as AWX does, and the EE's build context.
gate_playbooks() { (cd "$COPY" && PATH=$SRC/.venv/bin:$PATH "$PY" -m pytest -q -p no:cacheprovider tests/playbooks); }
# The roles on this machine's own PostgreSQL and MariaDB (the db_server role installs and starts them).
# molecule installs the collection under $HOME/.ansible and keeps its scenarios' state there: a new
# home each run keeps the user's clean and no run inherits another's "already prepared".
gate_molecule() {
  rm -rf "$WORK/molecule-home" && mkdir -p "$WORK/molecule-home" &&
    (cd "$COPY" && HOME=$WORK/molecule-home PATH=$SRC/.venv/bin:$PATH ANSIBLE_FORCE_COLOR=0 molecule test --all)
}
# Secrets, hostile input, faults and concurrent runs (docs/reliability.md); figures go to the log's end.
gate_hardening() {
  local figures=$WORK/hardening-figures
  rm -rf "$figures" && mkdir -p "$figures" &&
    (cd "$COPY" && WAYSCLOUD_API_STATE_DIR=$WORK/api/state WAYSCLOUD_HARDENING_FIGURES=$figures PATH=$SRC/.venv/bin:$PATH \
      "$PY" -m pytest -q -p no:cacheprovider tests/hardening --deselect tests/hardening/test_integration_log.py) &&
    tail -n +1 "$figures"/*.json
}
# A hostile tenant's traps through every operation, both engines and backends (issue 16); the figure (traps x
# operations, privilege gained) goes to the log's end.
gate_tenant() {
  local figures=$WORK/tenant-figures
  rm -rf "$figures" && mkdir -p "$figures" &&
    (cd "$COPY" && WAYSCLOUD_API_STATE_DIR=$WORK/api/state WAYSCLOUD_TENANT_FIGURES=$figures PATH=$SRC/.venv/bin:$PATH \
      "$PY" -m pytest -q -p no:cacheprovider tests/tenant); local status=$?
  tail -n +1 "$figures"/*.json && echo
  return $status
}
# Every example of the user guide (docs/modules, docs/roles) runs against the servers.
gate_docs() { (cd "$COPY" && PATH=$SRC/.venv/bin:$PATH "$PY" -m pytest -q -p no:cacheprovider tests/docs); }
gate_schemathesis() {
  SCHEMATHESIS=$SRC/.venv/bin/schemathesis WAYSCLOUD_SCHEMATHESIS_KEY=$WAYSCLOUD_TEST_KEY_INTERNAL \
    scripts/schemathesis.sh "$WAYSCLOUD_API_URL"
}
# Then its own log (this gate's output so far) and ansible-test's files are searched for the keys its targets used.
# shellcheck disable=SC2086  # INTEGRATION_TARGETS: a space-separated list of targets, all when empty
gate_integration() {
  local figures=$WORK/integration-figures
  rm -rf "$figures" && mkdir -p "$figures" &&
    (cd "$COPY" && PATH=$SRC/.venv/bin:$PATH ansible-test integration --local --python 3.11 --color no -vvvv ${INTEGRATION_TARGETS:-}) &&
    (cd "$COPY" && WAYSCLOUD_API_STATE_DIR=$WORK/api/state WAYSCLOUD_HARDENING_FIGURES=$figures \
      WAYSCLOUD_INTEGRATION_LOG=$LOGS/integration.log "$PY" -m pytest -q -p no:cacheprovider tests/hardening/test_integration_log.py) &&
    tail -n +1 "$figures"/*.json
}
# ansible-lint, then the changelog: fragments and changelogs/changelog.yaml as antsibull-changelog wants them,
# and CHANGELOG.rst exactly what `antsibull-changelog generate` makes of changelog.yaml.
gate_lint() {
  local changelog=$WORK/changelog
  (cd "$SRC" && PATH=$SRC/.venv/bin:$PATH ansible-lint --offline --profile production --nocolor) &&
    (cd "$SRC" && "$SRC/.venv/bin/antsibull-changelog" lint -v &&
      "$SRC/.venv/bin/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml) &&
    rm -rf "$changelog" && mkdir -p "$changelog/changelogs" &&
    cp "$SRC/galaxy.yml" "$changelog/" && cp "$SRC"/changelogs/{config,changelog}.yaml "$changelog/changelogs/" &&
    (cd "$changelog" && "$SRC/.venv/bin/antsibull-changelog" generate) &&
    diff -u "$changelog/CHANGELOG.rst" "$SRC/CHANGELOG.rst" && echo "changelog: fragments, changelog.yaml and CHANGELOG.rst agree"
}
# The tarball as Galaxy would ship it: built, installed offline, every plugin's docs read from the installed copy,
# then tests/galaxy installs it as README.md says (the tarball, and from git: $SRC's last commit) and runs README.md's
# first playbooks with only the installed copy.
gate_galaxy() {
  local out=$WORK/galaxy
  # Only the installed copy: without this, the copy on PYTHONPATH/ANSIBLE_COLLECTIONS_PATH above counts as
  # installed already ("Nothing to do") and ansible-doc reads the copy instead of the tarball.
  local user=(env -u PYTHONPATH "ANSIBLE_COLLECTIONS_PATH=$out/installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False)
  rm -rf "$out" && mkdir -p "$out" &&
    (cd "$SRC" && "$SRC/.venv/bin/ansible-galaxy" collection build --force --output-path "$out") &&
    "${user[@]}" "$SRC/.venv/bin/ansible-galaxy" collection install --offline -p "$out/installed" "$out"/wayscloud-databases-*.tar.gz &&
    [ -f "$out/installed/ansible_collections/wayscloud/databases/MANIFEST.json" ] &&
    for module in "$SRC"/plugins/modules/*.py; do
      module=$(basename "$module" .py)
      "${user[@]}" "$SRC/.venv/bin/ansible-doc" "wayscloud.databases.$module" >/dev/null || return 1
    done &&
    "${user[@]}" "$SRC/.venv/bin/ansible-doc" -t lookup wayscloud.databases.credentials >/dev/null &&
    ! tar -tzf "$out"/wayscloud-databases-*.tar.gz | grep -E '(^|/)(\.venv|\.work|\.demo|\.git|tests/output)(/|$)' &&
    (cd "$COPY" && WAYSCLOUD_GALAXY_OUT=$out WAYSCLOUD_GALAXY_SRC=$SRC "$PY" -m pytest -q -p no:cacheprovider tests/galaxy)
}

# What a gate's log counts: its last play's recap, else pytest's last "N passed".
counts() {
  { grep -A1 'PLAY RECAP' "$1" | grep -oE 'ok=[0-9]+ +changed=[0-9]+' || grep -oE '[0-9]+ passed' "$1"; } | tail -1
}

passed=0 failed=0 failed_gates=()
for gate in $GATES; do
  started=$SECONDS
  if "gate_$gate" >"$LOGS/$gate.log" 2>&1; then
    passed=$((passed + 1))
    printf 'PASS  %-14s %4ss  (%s)\n' "$gate" $((SECONDS - started)) "$(counts "$LOGS/$gate.log")"
  else
    failed=$((failed + 1)) failed_gates+=("$gate")
    printf 'FAIL  %-14s %4ss  log: %s\n' "$gate" $((SECONDS - started)) "$LOGS/$gate.log"
    tail -n 60 "$LOGS/$gate.log" | sed 's/^/      | /'
  fi
done
[ -n "$LANE" ] || [ $failed -eq 0 ] || echo "failed gates: ${failed_gates[*]}"
summary $passed $failed "${failed_gates[*]}"
[ $failed -eq 0 ]
