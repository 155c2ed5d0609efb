#!/usr/bin/env bash
# Makes sure the tools and headers the build needs are here; installs them with apt when run as root.
set -euo pipefail
missing=()
command -v cargo >/dev/null || { echo "Rust is missing: install it from https://rustup.rs (cargo 1.89 or newer)." >&2; exit 1; }
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} with apt-get…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Please install: ${missing[*]} (e.g. sudo apt-get install ${missing[*]})." >&2
  exit 1
fi
