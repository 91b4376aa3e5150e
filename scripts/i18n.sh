#!/usr/bin/env bash
# Message catalogues: extract msgids, update the zh_CN and en catalogues, compile them.
#   scripts/i18n.sh extract   app/**.py + templates/**.html -> app/locale/messages.pot
#   scripts/i18n.sh update    merge the .pot into app/locale/{zh_CN,en}/LC_MESSAGES/messages.po
#   scripts/i18n.sh compile   .po -> .mo (run at setup; .mo files are not committed)
#   scripts/i18n.sh all       the three in order
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
LOCALE_DIR=app/locale
POT="${POT:-$LOCALE_DIR/messages.pot}"
# Domain errors and messages take their msgid as first argument; N_ marks strings for later.
KEYWORDS=(-k N_ -k Message -k DomainError -k NotFound -k NotAllowed -k InvalidTransition
          -k StaleInstance -k ValidationFailed -k GuardFailed -k TokenExpired
          -k NotAuthenticated -k PlanNotFound -k InstanceNotFound -k ImportFailed
          -k CsrfFailed)

extract() {
  "$PYBABEL" extract -F babel.cfg "${KEYWORDS[@]}" --sort-by-file --no-wrap \
    --project=Stepwise --version=0.1 --copyright-holder="Stepwise contributors" \
    --msgid-bugs-address="" -o "$POT" .
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
  all) extract; update; compile ;;
  *) echo "usage: $0 extract|update|compile|all" >&2; exit 2 ;;
esac
