#!/usr/bin/env bash
# Installs the system packages Stepwise uses when they are missing: Graphviz renders the
# workflow diagrams. Needs root and apt; elsewhere it says what to install and goes on.
set -u
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get…"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Please install: ${missing[*]} (diagrams are shown as tables without Graphviz)." >&2
fi
exit 0
