#!/usr/bin/env bash
# Installs the system packages Stepwise uses when they are missing: Graphviz renders the
# workflow diagrams; Chromium and a CJK font (WenQuanYi Micro Hei) run the browser journeys
# (tests/e2e; without the font Chinese shows as empty boxes in screenshots).
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
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get…"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Please install: ${missing[*]} (diagrams are shown as tables without Graphviz;" \
       "browser journeys are skipped without Chromium)." >&2
fi
exit 0
