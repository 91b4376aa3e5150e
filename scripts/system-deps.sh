#!/usr/bin/env bash
# Installs the system packages Stepwise uses when they are missing: Graphviz renders the
# workflow diagrams; Chromium and a CJK font (WenQuanYi Micro Hei) run the browser journeys
# (tests/e2e; without the font Chinese shows as empty boxes in screenshots); OpenLDAP's slapd
# (with ldap-utils) is the real directory the sign-in tests start on a loopback port (it is
# installed unconfigured: no system directory is set up or started).
# Then scripts/pg-replication.sh lets the local PostgreSQL feed the replica tests.
# Needs root and apt; elsewhere it says what to install and goes on (the journeys are then
# skipped with a notice, or fail under CI=true).
set -u
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
if command -v fc-list >/dev/null 2>&1; then
  fc-list 2>/dev/null | grep -qi "wqy-microhei" || missing+=(fonts-wqy-microhei)
else
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
fi
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || missing+=(ldap-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} with apt-get…"
    apt-get update -qq >/dev/null 2>&1 || true
    # slapd unconfigured: the tests write their own configuration; nothing listens on 389.
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections 2>/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Please install: ${missing[*]} (diagrams are shown as tables without Graphviz;" \
         "browser journeys are skipped without Chromium, directory tests without slapd)." >&2
  fi
fi
bash "$(dirname "$0")/pg-replication.sh"
exit 0
