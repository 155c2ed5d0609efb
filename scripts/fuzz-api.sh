#!/usr/bin/env bash
# Validates the committed contract as OpenAPI 3.1 (openapi-spec-validator), then fuzzes the live API
# against it with Schemathesis (both from PyPI): a server on a
# throw-away SQLite file with the demo commune, every operation exercised as several roles, with a
# bounded number of examples and a fixed seed. Fails on any server error, any status code, content
# type or body the contract does not document. First proves the harness can fail: a contract with
# a deliberately wrong response schema must be caught.
#
#   scripts/fuzz-api.sh                 uses target/debug/tungnha (built by `cargo build`)
#   FUZZ_EXAMPLES=50 FUZZ_SEED=7 ...    more cases, another seed
set -euo pipefail
cd "$(dirname "$0")/.."

st_version=4.32.5
validator_version=0.7.2
examples=${FUZZ_EXAMPLES:-8}
seed=${FUZZ_SEED:-20261125}
bin=${TUNGNHA_BIN:-target/debug/tungnha}
venv=target/schemathesis-venv

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$st_version"; then
  echo "== installing schemathesis $st_version into $venv"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 keeps venv in a package of its own.
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv"
      python3 -m venv "$venv"
    else
      echo "The API fuzz needs Python's venv: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$st_version"
fi
if ! "$venv/bin/pip" show openapi-spec-validator 2>/dev/null | grep -qx "Version: $validator_version"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$validator_version"
fi
st="$venv/bin/schemathesis"

# The fuzzer creates webhooks with whatever URLs it generates, and the server's sender posts to
# them. With the tools installed, the rest runs in a network namespace of its own that has only
# loopback, so no generated address outside this machine can ever be reached.
if [ -z "${FUZZ_IN_NETNS:-}" ]; then
  if unshare --net true 2>/dev/null; then
    exec unshare --net env FUZZ_IN_NETNS=1 bash "$0" "$@"
  fi
  echo "== no network namespace here (unshare --net failed): webhook targets rely on the server's own checks"
else
  ip link set lo up 2>/dev/null || true
  echo "== in a network namespace with loopback only"
fi

echo "== the committed contract validates as OpenAPI 3.1"
"$venv/bin/openapi-spec-validator" openapi/openapi.json

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export TUNGNHA_DATABASE_URL="sqlite://$work/fuzz.db" TUNGNHA_BIND="127.0.0.1:$port" \
  TUNGNHA_DATA_DIR="$work/data" TUNGNHA_CONFIG_DIR="$work" RUST_LOG=warn \
  TUNGNHA_WEBHOOK_DNS=false
"$bin" seed-demo --if-empty >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

token() {
  curl -fsS "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"TungNha@2026\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
common=(--checks "$checks" --seed "$seed" --no-color --generation-database none --warnings off)

echo "== schemathesis self-check: a wrong response schema must fail"
curl -fsS "$base/openapi.json" | python3 -c '
import json, sys
spec = json.load(sys.stdin)
ok = spec["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]
ok["schema"] = {"type": "object", "required": ["no_such_field"]}
json.dump(spec, open(sys.argv[1], "w"))
' "$work/wrong.json"
if "$st" run "$work/wrong.json" --url "$base" -H "Authorization: Bearer $(token quantri)" \
  --include-path /api/v1/me --include-method GET -n 3 --phases examples,fuzzing "${common[@]}" \
  >"$work/wrong.txt" 2>&1; then
  cat "$work/wrong.txt" >&2
  echo "schemathesis passed a response that breaks the schema: the harness cannot fail" >&2
  exit 1
fi
grep -q "Response violates schema" "$work/wrong.txt" || { cat "$work/wrong.txt" >&2; exit 1; }
echo "caught: Response violates schema"

# Logging out would revoke the token the run uses; the logout and login paths have their own tests.
status=0
for user in quantri chutich vanhoaxahoi truongthon.phuloc tinhnguyen.phuloc thanhpho; do
  echo "== schemathesis as $user: $examples examples per operation, seed $seed"
  if ! "$st" run "$base/openapi.json" -H "Authorization: Bearer $(token "$user")" \
    --exclude-path /api/v1/auth/logout -n "$examples" --phases examples,coverage,fuzzing \
    "${common[@]}" >"$work/run.txt" 2>&1; then
    status=1
    cat "$work/run.txt"
  else
    grep -E "^(  Tested|  [0-9]+ generated|=+ .* in )" "$work/run.txt" || tail -n 5 "$work/run.txt"
  fi
done
if grep -q "panicked" "$work/server.log"; then
  grep -B2 -A5 "panicked" "$work/server.log" >&2
  status=1
fi
exit $status
