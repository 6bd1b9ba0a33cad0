#!/usr/bin/env bash
# Property-based tests of the reference API server (tests/api_server) with schemathesis (v4 CLI):
# every operation of API_URL/openapi.json is fuzzed, and the run fails on any 5xx answer, on a
# status code the OpenAPI does not document, or on a body that does not match its documented schema.
#
#   WAYSCLOUD_SCHEMATHESIS_KEY=KEY scripts/schemathesis.sh API_URL   e.g. scripts/api_server.sh's internal key
#
# The key needs every permission (the internal key). Operations really create databases, so point
# it only at throwaway servers. SCHEMATHESIS names the binary (default: schemathesis on PATH);
# SCHEMATHESIS_MAX_EXAMPLES (25) and SCHEMATHESIS_SEED (1) bound and fix the generated cases.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "${WAYSCLOUD_SCHEMATHESIS_KEY:-}" ]; then
  echo "usage: WAYSCLOUD_SCHEMATHESIS_KEY=KEY $0 API_URL" >&2
  exit 2
fi
api_url=${1%/}

# Its caches (.schemathesis/, .hypothesis/) and the configuration go to a scratch directory, so a
# run neither litters the caller's directory nor replays examples or settings of an earlier run.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The key reaches schemathesis through the environment, never the command line.
# shellcheck disable=SC2016
printf 'headers = { "X-API-Key" = "${WAYSCLOUD_SCHEMATHESIS_KEY}" }\n' >"$work/schemathesis.toml"
cd "$work"

# Loopback never goes through a proxy.
export NO_PROXY=127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}
export no_proxy=$NO_PROXY

# One worker: concurrent workers hit a CPython 3.11 bug in ast.parse (gh-106905, "AST constructor
# recursion depth mismatch") inside hypothesis, reported as a schemathesis Runtime Error.
"${SCHEMATHESIS:-schemathesis}" --config-file "$work/schemathesis.toml" run "$api_url/openapi.json" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --generation-database none \
  --workers 1 \
  --request-timeout 60 \
  --no-color
