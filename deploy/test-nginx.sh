#!/usr/bin/env bash
# Runs the shipped nginx configuration in front of a real Từng Nhà server and shows that the server
# sees the client nginx saw, never nginx itself nor an address the client made up:
#
#   (a) sign-in throttling counts the forwarded client: 10 failures from 127.0.0.2 (through nginx,
#       with a forged X-Forwarded-For) throttle that account there (429) but not from 127.0.0.3;
#   (b) the audit log names 127.0.0.2, not nginx's 127.0.0.1 nor the forged 198.51.100.7;
#   (c) straight to the server (an untrusted peer) a forged X-Forwarded-For is ignored;
#   (d) HSTS only over nginx's TLS: nginx replaces a client's X-Forwarded-Proto, and the server
#       ignores one from an untrusted peer;
#   (e) the server's x-request-id reaches the client and nginx's access log;
#   (f) the shipped port-80 server redirects to HTTPS;
#   (g) client_max_body_size lets a body just over the server's 10 MiB upload limit reach the
#       server (its own problem+json 413) and stops a larger one in nginx;
#   (h) /metrics answers the operator on the server's own port and 404 through nginx's site.
#
# What runs is deploy/nginx.conf (ports, certificate and paths swapped for temporary ones; a
# self-signed certificate) and, on a plain-HTTP port for (a)–(e), deploy/nginx-proxy.conf as
# nginx.conf includes it. Everything listens on and connects to loopback only (127.0.0.0/8).
#
# Usage: deploy/test-nginx.sh            (after `cargo build`; installs nginx with apt if missing)
#   TUNGNHA_BIN=path   the server binary (default target/debug/tungnha)
#   TRUST=list         the server's TUNGNHA_TRUSTED_PROXIES (default 127.0.0.1); `TRUST= …` runs
#                      it trusting no proxy, and then (a), (b) and (d) must fail
#   KEEP=1             keep the temporary folder (logs, configs) for a look afterwards
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${TUNGNHA_BIN:-target/debug/tungnha}
[[ $BIN == /* ]] || BIN=$ROOT/$BIN
TRUST=${TRUST-127.0.0.1}
USER_X=tinhnguyen.phuloc # a demo volunteer
ADMIN=quantri
PASSWORD='TungNha@2026' # the demo accounts' password (README)

die() {
	echo "FAIL: $*" >&2
	exit 1
}

# --- what the test needs -----------------------------------------------------------------------

[[ -x $BIN ]] || die "no server binary at $BIN: build it first (cargo build) or set TUNGNHA_BIN"

apt_install() {
	[[ $(id -u) == 0 ]] || die "$* missing and not root: apt-get install $*"
	echo "installing $* with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "$@" ||
		{ apt-get update && apt-get install -y --no-install-recommends "$@"; } ||
		die "apt-get install $* failed"
}

NGINX=$(command -v nginx || true)
[[ -n $NGINX ]] || [[ ! -x /usr/sbin/nginx ]] || NGINX=/usr/sbin/nginx
if [[ -z $NGINX ]]; then
	apt_install nginx
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	[[ -x $NGINX ]] || die "nginx is still not installed"
fi
for tool in curl jq openssl; do
	command -v "$tool" >/dev/null || apt_install "$tool"
done
echo "using $("$NGINX" -v 2>&1) and $BIN (trusted proxies: '${TRUST}')"

# --- a temporary world ---------------------------------------------------------------------------

DIR=$(mktemp -d "${TMPDIR:-/tmp}/tungnha-nginx.XXXXXX")
NGX=$DIR/nginx
mkdir -p "$DIR/config" "$NGX/logs" "$NGX/tmp" "$NGX/acme"
SERVER_PID=
NGINX_PID=
PASSED=0
FAILED=0
STARTED=$SECONDS

cleanup() {
	local rc=$?
	set +e
	[[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	[[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	if ((rc != 0)); then
		for log in "$DIR/server.log" "$NGX/logs/error.log"; do
			[[ -s $log ]] && { echo "--- last lines of $log"; tail -n 20 "$log"; }
		done
	fi
	if [[ ${KEEP:-} == 1 ]]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on yet (on 127.0.0.1), different from those already taken here.
TAKEN=" "
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 40000))
		[[ $TAKEN == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			TAKEN+="$p "
			echo "$p"
			return
		fi
	done
	die "no free port found"
}
APP_PORT=$(free_port)
PLAIN_PORT=$(free_port)
HTTP_PORT=$(free_port)
TLS_PORT=$(free_port)
HOST=tungnha.example.org # the shipped server_name; curl --resolve points it at 127.0.0.1

pass() {
	PASSED=$((PASSED + 1))
	echo "PASS: $*"
}
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $*"
}
# expect NAME GOT WANT
expect() {
	if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi
}

# --- the server ----------------------------------------------------------------------------------

# Settings come only from here: the defaults built into the binary and these variables, none
# inherited.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^TUNGNHA_' || true)
export TUNGNHA_CONFIG_DIR=$DIR/config
export TUNGNHA_DATABASE_URL=sqlite://$DIR/t.db
export TUNGNHA_DATA_DIR=$DIR/data
export TUNGNHA_PWA_DIR=$DIR/no-pwa # not built: the API alone is enough here
export TUNGNHA_BIND=127.0.0.1:$APP_PORT
export TUNGNHA_TRUSTED_PROXIES=$TRUST
export TUNGNHA_WORKERS=2
export TUNGNHA_METRICS_TOKEN=nginx-test-metrics-token
export NO_COLOR=1

"$BIN" seed-demo --households 3 >"$DIR/seed.log" 2>&1 || { cat "$DIR/seed.log"; die "seed-demo failed"; }
"$BIN" serve >"$DIR/server.log" 2>&1 &
SERVER_PID=$!

wait_for() { # URL WHAT PID
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || die "$2 exited at start"
		sleep 0.1
	done
	die "$2 did not answer $1 within 10 s"
}
wait_for "http://127.0.0.1:$APP_PORT/healthz" "the server" "$SERVER_PID"

# --- nginx ---------------------------------------------------------------------------------------

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
	-keyout "$NGX/key.pem" -out "$NGX/cert.pem" 2>"$DIR/openssl.log" ||
	{ cat "$DIR/openssl.log"; die "openssl could not make a certificate"; }

# deploy/nginx.conf with its machine-specific parts swapped; each must still be in the file, so
# the test cannot silently drift from what ships.
site=$(<"$ROOT/deploy/nginx.conf")
swap() {
	[[ $site == *"$1"* ]] || die "deploy/nginx.conf no longer contains '$1'; update $0"
	site=${site//"$1"/"$2"}
}
swap "server 127.0.0.1:8080;" "server 127.0.0.1:$APP_PORT;"
swap "listen 80;" "listen 127.0.0.1:$HTTP_PORT;"
swap "listen [::]:80;" ""
swap "listen 443 ssl http2;" "listen 127.0.0.1:$TLS_PORT ssl http2;"
swap "listen [::]:443 ssl http2;" ""
swap "/etc/letsencrypt/live/tungnha.example.org/fullchain.pem" "$NGX/cert.pem"
swap "/etc/letsencrypt/live/tungnha.example.org/privkey.pem" "$NGX/key.pem"
swap "/etc/nginx/snippets/tungnha-proxy.conf" "$ROOT/deploy/nginx-proxy.conf"
swap "/var/log/nginx/" "$NGX/logs/"
swap "/var/www/letsencrypt" "$NGX/acme"
printf '%s\n' "$site" >"$NGX/site.conf"
rest=$(grep -v '^[[:space:]]*#' "$NGX/site.conf")
rest=${rest//"$NGX"/}
rest=${rest//"$ROOT"/}
if grep -nE '(/etc/|/var/|listen [^1])' <<<"$rest"; then
	die "deploy/nginx.conf has a path or listen above that $0 does not swap for a temporary one"
fi

# As root the master needs a `user` for its workers: nobody, who must be able to pass through the
# temporary folder (nginx gives the temp paths it creates to that user itself).
user_line=""
if [[ $(id -u) == 0 ]]; then
	user_line="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
	chmod 711 "$DIR" "$NGX"
fi
cat >"$NGX/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log notice;
events { worker_connections 64; }
http {
    access_log $NGX/logs/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;

    # The shipped site: the redirect on "80" and TLS on "443".
    include $NGX/site.conf;

    # The same proxy lines over plain HTTP, where curl can talk to them most simply.
    server {
        listen 127.0.0.1:$PLAIN_PORT;
        server_tokens off;
        access_log $NGX/logs/plain.access.log tungnha;
        location / {
            include $ROOT/deploy/nginx-proxy.conf;
        }
    }
}
EOF
ngx=("$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log")
"${ngx[@]}" -t >"$DIR/nginx-t.log" 2>&1 || { cat "$DIR/nginx-t.log"; die "nginx -t refused the configuration"; }
"${ngx[@]}" &
NGINX_PID=$!
wait_for "http://127.0.0.1:$PLAIN_PORT/healthz" "nginx" "$NGINX_PID"
echo "server on 127.0.0.1:$APP_PORT; nginx on :$PLAIN_PORT (plain), :$HTTP_PORT (redirect), :$TLS_PORT (TLS)"

# --- requests ------------------------------------------------------------------------------------

PLAIN=http://127.0.0.1:$PLAIN_PORT
DIRECT=http://127.0.0.1:$APP_PORT
TLS=https://$HOST:$TLS_PORT
TLS_OPTS=(--resolve "$HOST:$TLS_PORT:127.0.0.1" --cacert "$NGX/cert.pem")

# call FROM_ADDR URL [curl options…]: prints the status; the answer is in $DIR/body and $DIR/head.
call() {
	local from=$1 url=$2
	shift 2
	rm -f "$DIR/body" "$DIR/head"
	# A failed connection prints 000 (and curl's reason on stderr) for the checks to report.
	curl -sS --max-time 20 --interface "$from" -o "$DIR/body" -D "$DIR/head" -w '%{http_code}' \
		"$@" "$url" || true
	touch "$DIR/body" "$DIR/head"
}
# login FROM_ADDR BASE USER PASSWORD [curl options…]
login() {
	local from=$1 base=$2 user=$3 password=$4
	shift 4
	call "$from" "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
		--data "$(jq -nc --arg u "$user" --arg p "$password" '{username: $u, password: $p}')" "$@"
}
header() { # NAME: its value in the last answer, or nothing
	tr -d '\r' <"$DIR/head" | awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" \
		-F': ' 'tolower($1) == n { print $2 }' | tail -n 1
}
code() { jq -r '.code // empty' "$DIR/body" 2>/dev/null || true; }

# The administrator signs in first, from an address of its own, before any failure is counted.
status=$(login 127.0.0.5 "$PLAIN" "$ADMIN" "$PASSWORD")
[[ $status == 200 ]] || die "the admin could not sign in through nginx ($status: $(cat "$DIR/body"))"
TOKEN=$(jq -r .access_token "$DIR/body")

echo "== (a) throttling sees the client nginx saw"
statuses=""
for _ in $(seq 10); do
	statuses+="$(login 127.0.0.2 "$PLAIN" "$USER_X" wrong-password -H 'X-Forwarded-For: 198.51.100.7')/$(code) "
done
expect "10 wrong passwords from 127.0.0.2 through nginx are refused" \
	"$statuses" "$(printf '401/invalid_credentials %.0s' $(seq 10))"
status=$(login 127.0.0.2 "$PLAIN" "$USER_X" "$PASSWORD" -H 'X-Forwarded-For: 198.51.100.7')
expect "then the right password from 127.0.0.2 is throttled" "$status/$(code)" "429/too_many_requests"
retry=$(header Retry-After)
if [[ $retry =~ ^[0-9]+$ ]] && ((retry > 0)); then
	pass "the 429 carries Retry-After ($retry s)"
else
	fail "the 429 carries Retry-After (got '$retry')"
fi
status=$(login 127.0.0.3 "$PLAIN" "$USER_X" "$PASSWORD" -H 'X-Forwarded-For: 198.51.100.7')
expect "the right password from 127.0.0.3 (same forged header) signs in" "$status" 200

echo "== (c) straight to the server a forged X-Forwarded-For is ignored"
status=$(login 127.0.0.4 "$DIRECT" "$USER_X" wrong-password -H 'X-Forwarded-For: 198.51.100.9')
expect "a wrong password from 127.0.0.4 straight to the server is refused" "$status" 401
# The shipped TLS site includes the same proxy lines.
status=$(login 127.0.0.6 "$TLS" "$USER_X" wrong-password "${TLS_OPTS[@]}" -H 'X-Forwarded-For: 198.51.100.8')
expect "a wrong password from 127.0.0.6 through nginx's TLS site is refused" "$status" 401

echo "== (b) the audit log names the client"
status=$(call 127.0.0.5 "$PLAIN/api/v1/audit-events?action=login_failed&limit=200" \
	-H "Authorization: Bearer $TOKEN")
[[ $status == 200 ]] || die "the audit log could not be read ($status: $(cat "$DIR/body"))"
cp "$DIR/body" "$DIR/failed.json"
addrs() { # USER: "address×count …" of that user's failed sign-ins
	jq -r --arg u "$1" '[.items[] | select(.actor_label == $u) | .client_addr]
		| group_by(.) | map("\(.[0])×\(length)") | join(" ")' "$DIR/failed.json"
}
expect "failed sign-ins of $USER_X by address" "$(addrs "$USER_X")" \
	"127.0.0.2×10 127.0.0.4×1 127.0.0.6×1"
forged=$(jq '[.items[] | select(.client_addr | IN("127.0.0.1", "198.51.100.7", "198.51.100.8", "198.51.100.9"))] | length' "$DIR/failed.json")
expect "no failed sign-in names nginx (127.0.0.1) or a forged address" "$forged" 0
call 127.0.0.5 "$PLAIN/api/v1/audit-events?action=login&limit=200" -H "Authorization: Bearer $TOKEN" >/dev/null
expect "sign-ins by address" \
	"$(jq -r '[.items[] | "\(.actor_label)@\(.client_addr)"] | sort | join(" ")' "$DIR/body")" \
	"$ADMIN@127.0.0.5 $USER_X@127.0.0.3"

echo "== (d) HSTS only when nginx says TLS"
call 127.0.0.2 "$PLAIN/healthz" -H 'X-Forwarded-Proto: https' >/dev/null
expect "plain HTTP through nginx with a forged X-Forwarded-Proto: no HSTS" "$(header Strict-Transport-Security)" ""
call 127.0.0.4 "$DIRECT/healthz" -H 'X-Forwarded-Proto: https' >/dev/null
expect "straight to the server with a forged X-Forwarded-Proto: no HSTS" "$(header Strict-Transport-Security)" ""
status=$(call 127.0.0.2 "$TLS/healthz" "${TLS_OPTS[@]}")
expect "through nginx's TLS site: HSTS" "$status $(header Strict-Transport-Security)" \
	"200 max-age=31536000; includeSubDomains"
expect "the server's security headers pass through once" \
	"$(grep -ci '^content-security-policy:' "$DIR/head")" 1

echo "== (e) the request id reaches the client and nginx's log"
call 127.0.0.2 "$PLAIN/healthz?rid-check" >/dev/null
rid=$(header X-Request-Id)
if [[ -n $rid ]] && grep -q "rid-check.*request_id=$rid" "$NGX/logs/plain.access.log"; then
	pass "x-request-id $rid is in the answer and in nginx's access log"
else
	fail "x-request-id in the answer ('$rid') and in nginx's access log"
fi

echo "== (f) plain HTTP redirects to HTTPS"
status=$(call 127.0.0.2 "http://$HOST:$HTTP_PORT/ho-dan?q=1" --resolve "$HOST:$HTTP_PORT:127.0.0.1")
expect "port 80 answers 301 to https" "$status $(header Location)" "301 https://$HOST/ho-dan?q=1"

echo "== (g) upload size"
# 10.5 MiB (over the server's 10 MiB, under nginx's 11m) and 12 MiB (over both).
head -c $((21 << 19)) /dev/zero >"$DIR/10.5m"
head -c $((12 << 20)) /dev/zero >"$DIR/12m"
status=$(call 127.0.0.5 "$PLAIN/api/v1/imports/households?dry_run=true" -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/octet-stream' --data-binary @"$DIR/10.5m")
expect "10.5 MiB reaches the server, which refuses it" "$status $(header Content-Type) $(code)" \
	"413 application/problem+json payload_too_large"
status=$(call 127.0.0.5 "$PLAIN/api/v1/imports/households?dry_run=true" -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/octet-stream' --data-binary @"$DIR/12m")
expect "12 MiB is stopped by nginx" "$status $(header Content-Type)" "413 text/html"

echo "== (h) /metrics answers the operator on the server's own port, not through nginx's site"
status=$(call 127.0.0.1 "$DIRECT/metrics" -H "Authorization: Bearer $TUNGNHA_METRICS_TOKEN")
expect "the server itself answers /metrics with the token" "$status" "200"
status=$(call 127.0.0.2 "$TLS/metrics" "${TLS_OPTS[@]}" -H "Authorization: Bearer $TUNGNHA_METRICS_TOKEN")
expect "nginx's TLS site answers /metrics 404, even with the token" "$status" "404"

echo
echo "nginx test ($((SECONDS - STARTED)) s): $PASSED passed, $FAILED failed"
((FAILED == 0))
