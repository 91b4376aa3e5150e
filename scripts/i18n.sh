#!/usr/bin/env bash
# Message catalogues: extract msgids, update the zh_CN and en catalogues, compile them.
#   scripts/i18n.sh extract   app/**.py + templates/**.html -> app/locale/messages.pot
#   scripts/i18n.sh update    merge the .pot into app/locale/{zh_CN,en}/LC_MESSAGES/messages.po
#   scripts/i18n.sh compile   .po -> .mo (run at setup; .mo files are not committed)
#   scripts/i18n.sh check     fail when a string in the code has no Chinese translation yet
#   scripts/i18n.sh all       extract, update, compile
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
LOCALE_DIR=app/locale
POT="${POT:-$LOCALE_DIR/messages.pot}"
# Domain errors and messages take their msgid as first argument; N_ marks strings for later.
KEYWORDS=(-k N_ -k plural_message:1,2 -k Message -k DomainError -k NotFound -k NotAllowed -k InvalidTransition
          -k StaleInstance -k ValidationFailed -k GuardFailed -k TokenExpired
          -k NotAuthenticated -k PlanNotFound -k InstanceNotFound -k ImportFailed
          -k CsrfFailed -k SignInLocked -k RateLimited -k AlreadyDone -k Incomplete
          -k UnknownAction -k PreconditionRequired -k ReadOnlyToken)

extract() {
  "$PYBABEL" extract -F babel.cfg "${KEYWORDS[@]}" --sort-by-file --no-wrap \
    --project=Stepwise --version=0.1 --copyright-holder="Stepwise contributors" \
    --msgid-bugs-address="" -o "${1:-$POT}" .
}

check() {
  local pot
  pot=$(mktemp --suffix=.pot)
  extract "$pot" >/dev/null 2>&1
  local status=0
  "$(dirname "$PYBABEL")/python" - "$pot" "$LOCALE_DIR/zh_CN/LC_MESSAGES/messages.po" <<'PY' || status=$?
import sys
from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as pot, open(sys.argv[2], "rb") as po:
    wanted = {m.id for m in read_po(pot) if m.id}
    done = {m.id for m in read_po(po) if m.id and m.string and not m.fuzzy}
missing = sorted(wanted - done, key=str)
for msgid in missing:
    print(f"untranslated: {msgid!r}")
print(f"{len(wanted) - len(missing)} of {len(wanted)} strings have a Chinese translation")
sys.exit(1 if missing else 0)
PY
  rm -f "$pot"
  return $status
}

update() {
  for locale in zh_CN en; do
    if [ -f "$LOCALE_DIR/$locale/LC_MESSAGES/messages.po" ]; then
      "$PYBABEL" update -i "$POT" -d "$LOCALE_DIR" -D messages -l "$locale" --no-wrap \
        --ignore-obsolete
    else
      "$PYBABEL" init -i "$POT" -d "$LOCALE_DIR" -D messages -l "$locale" --no-wrap
    fi
  done
}

compile() {
  "$PYBABEL" compile -d "$LOCALE_DIR" -D messages --statistics
}

case "${1:-}" in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  check) check ;;
  all) extract; update; compile ;;
  *) echo "usage: $0 extract|update|compile|check|all" >&2; exit 2 ;;
esac
