#!/usr/bin/env bash
# Debian's Chromium for the browser (Playwright) tests.
#
#   scripts/services/chromium.sh install|check|packages
#
#   install   apt-get install chromium and fonts-liberation (missing ones)
#   check     print the Chromium version (fails loudly if it does not run)
#   packages  print the Debian packages `install` would install
#
# Playwright must use this browser, never its own download (`playwright
# install` cannot reach its CDN here):
#   chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox",
#       "--disable-gpu", "--disable-background-networking",
#       "--disable-component-update", "--no-first-run"])
# (--no-sandbox because the tests run as root; the background-networking
# flags stop Chromium from calling Google hosts the closed network refuses.)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=_lib.sh
. "$HERE/_lib.sh"

PACKAGES=(chromium fonts-liberation)
CHROMIUM=/usr/bin/chromium

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

cmd_check() {
    [[ -x "$CHROMIUM" ]] || die "$CHROMIUM not found; run: $0 install"
    local out err
    err="$(mktemp)"
    # stderr is kept apart: Debian's wrapper (/etc/chromium.d/dev-shm) prints
    # a harmless "[: ...: unexpected operator" when findmnt lists /dev/shm twice.
    if ! out="$(timeout 30 "$CHROMIUM" --version 2>"$err")" || [[ "$out" != Chromium* ]]; then
        printf '%s\n' "$out" >&2
        cat "$err" >&2
        rm -f "$err"
        die "$CHROMIUM --version failed"
    fi
    rm -f "$err"
    printf '%s\n' "$out"
}

case "${1:-}" in
    install) apt_install "${PACKAGES[@]}" ;;
    packages) missing_packages "${PACKAGES[@]}" ;;
    check) cmd_check ;;
    *) usage ;;
esac
