# Từng Nhà — the two commands a new machine needs:
#   make run    installs what is missing, builds the web app and the server, serves on 127.0.0.1:8080
#   make test   checks formatting and lints, runs the Rust tests (SQLite, and PostgreSQL when
#               TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432), fuzzes the API against its OpenAPI contract
#               (Schemathesis), the web app's unit tests and the offline test in Chromium, puts
#               real nginx in front of the server (deploy/), and
#               checks the dependencies' licences, sources and known vulnerabilities
SHELL := /bin/bash
CARGO ?= cargo

# The Rust tests' PostgreSQL half runs against TEST_DATABASE_URL, by default the server on
# 127.0.0.1:5432 when one answers there without a password (the same for every step, so the build
# that the tests compile is the one the later steps reuse).
ifeq ($(strip $(TEST_DATABASE_URL)),)
# Without psql the answering server is used as it is (a refusal then fails the tests, never skips them).
TEST_DATABASE_URL := $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && \
  { ! command -v psql >/dev/null 2>&1 || \
    psql -w -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; } && \
  echo postgres://postgres@127.0.0.1:5432/postgres)
endif
export TEST_DATABASE_URL
NPM ?= npm

.PHONY: run test deps pwa pwa-deps rust-checks supply-chain rust-test api-fuzz proxy-test pwa-test e2e openapi chromium clean bench bench-pwa bench-pouchdb

run: deps pwa
	$(CARGO) build --release --locked
	./target/release/tungnha seed-demo --if-empty
	./target/release/tungnha serve

test: deps pwa-deps pwa chromium rust-checks supply-chain rust-test api-fuzz proxy-test pwa-test e2e

# System packages the build needs (pq-sys builds libpq with TLS: pkg-config and OpenSSL headers).
deps:
	@bash scripts/ensure-deps.sh

pwa-deps: pwa/node_modules/.installed

pwa/node_modules/.installed: pwa/package.json pwa/package-lock.json
	cd pwa && $(NPM) ci --no-audit --no-fund
	touch $@

# The built web app, which the server embeds (static_files.rs): rebuilt only when a source changed,
# so the server is not compiled again for nothing. src/lib/api/schema.d.ts is generated from the
# OpenAPI document by every npm script, so the document is the source, not that file.
PWA_SOURCES := $(filter-out pwa/src/lib/api/schema.d.ts,$(shell find pwa/src pwa/public -type f)) \
  pwa/index.html pwa/package.json pwa/package-lock.json pwa/vite.config.ts pwa/svelte.config.js \
  pwa/tsconfig.json openapi/openapi.json
pwa: pwa/dist/index.html

pwa/dist/index.html: pwa/node_modules/.installed $(PWA_SOURCES)
	cd pwa && $(NPM) run build

chromium:
	@bash scripts/ensure-chromium.sh

rust-checks:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# Dependencies: cargo-deny (pinned, installed under target/) checks licences (permissive only),
# sources (crates.io only), duplicate versions and known vulnerabilities against the offline RustSec
# copy (deny.toml lists each accepted advisory and why); npm audit the web app's runtime ones.
CARGO_DENY_VERSION := 0.20.2
# The offline RustSec copy, unpacked where cargo-deny looks for the default database's clone.
ADVISORY_BUNDLE := ../shared/advisory-db/rustsec-advisory-db.bundle
ADVISORY_DB := target/advisory-db/advisory-db-3157b0e258782691
supply-chain: pwa-deps
	test -x target/tools/bin/cargo-deny || \
	  $(CARGO) install cargo-deny --locked --version $(CARGO_DENY_VERSION) --root target/tools
	target/tools/bin/cargo-deny check --hide-inclusion-graph licenses bans sources
	@# The offline copy where it is (these machines reach no advisory host); elsewhere cargo-deny
	@# fetches the database itself.
	if [ -d $(ADVISORY_DB) ] || [ -f $(ADVISORY_BUNDLE) ]; then \
	  test -d $(ADVISORY_DB) || git clone -q $(ADVISORY_BUNDLE) $(ADVISORY_DB); \
	  target/tools/bin/cargo-deny --offline check --hide-inclusion-graph advisories; \
	else target/tools/bin/cargo-deny check --hide-inclusion-graph advisories; fi
	bash scripts/npm-audit.sh

rust-test:
	@if [ -n "$$TEST_DATABASE_URL" ]; then echo "Rust tests: SQLite and PostgreSQL ($$TEST_DATABASE_URL)"; \
	else echo "Rust tests: SQLite only; the PostgreSQL variants are listed as ignored (no server answers on 127.0.0.1:5432; set TEST_DATABASE_URL=postgres://…)"; fi
	rm -f target/tmp/faults-*.txt
	$(CARGO) test --locked
	@echo "Sync under faults, fuzzing and the soak (tests/api/sync_faults.rs, sync_fuzz.rs):"; cat target/tmp/faults-*.txt

# (The build itself is the `pwa` step, done before the server is compiled.)
pwa-test: pwa-deps
	cd pwa && $(NPM) run check && $(NPM) test

# Schemathesis against the live server on SQLite, as every role, with a bounded example count
# (FUZZ_EXAMPLES, FUZZ_SEED): 0 server errors and 0 answers outside the contract.
api-fuzz:
	$(CARGO) build --locked
	bash scripts/fuzz-api.sh

# The shipped nginx site (deploy/) in front of the debug server: throttling and the audit log see
# the forwarded client, a forged X-Forwarded-For from an untrusted peer is ignored (installs nginx).
proxy-test:
	$(CARGO) build --locked
	bash deploy/test-nginx.sh

# The offline test starts the debug server built by `cargo test` against a throw-away SQLite file.
e2e: pwa
	$(CARGO) build --locked
	cd pwa && TUNGNHA_BIN=../target/debug/tungnha $(NPM) run e2e

# Regenerates the committed OpenAPI contract from the code.
openapi:
	$(CARGO) run --quiet --locked -- openapi > openapi/openapi.json

clean:
	$(CARGO) clean
	rm -rf pwa/dist pwa/node_modules

# Benchmarks (release build): rewrites BENCHMARKS.md. The PostgreSQL rows run against
# BENCH_DATABASE_URL, by default the server on 127.0.0.1:5432 when one answers there
# (BENCH_DATABASE_URL=none: SQLite only). The CouchDB-protocol reference (pouchdb-server, pinned)
# is installed under target/pouchdb.
#   BENCH_ONLY=ingest make bench   one suite (logins, village_list, ingest, first_pull, dashboard,
#                                  mixed_load; province only when named); pwa: only the web app:
#                                  sizes, Lighthouse (pinned, under target/), the offline repeat start
LIGHTHOUSE_VERSION := 13.5.0
POUCHDB_SERVER_VERSION := 4.2.0
bench: deps
	@if [ "$$BENCH_ONLY" != pwa ]; then $(MAKE) --no-print-directory bench-pouchdb && \
	  if [ -z "$$BENCH_DATABASE_URL" ] && pg_isready -q -h 127.0.0.1 -p 5432; then \
	    export BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres; fi; \
	  if [ "$$BENCH_DATABASE_URL" = none ]; then unset BENCH_DATABASE_URL; fi; \
	  echo "bench: PostgreSQL: $${BENCH_DATABASE_URL:-not measured}"; \
	  $(CARGO) bench --locked --bench bench; fi
	@if [ -z "$$BENCH_ONLY" ] || [ "$$BENCH_ONLY" = pwa ]; then $(MAKE) --no-print-directory bench-pwa; fi

bench-pouchdb:
	test -x target/pouchdb/node_modules/.bin/pouchdb-server || \
	  $(NPM) install --prefix target/pouchdb --no-audit --no-fund pouchdb-server@$(POUCHDB_SERVER_VERSION)

bench-pwa: pwa chromium
	$(CARGO) build --release --locked
	test -x target/lighthouse/node_modules/.bin/lighthouse || \
	  $(NPM) install --prefix target/lighthouse --no-audit --no-fund lighthouse@$(LIGHTHOUSE_VERSION)
	cd pwa && TUNGNHA_BIN=../target/release/tungnha node bench/pwa-bench.mjs
