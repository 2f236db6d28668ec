#!/usr/bin/env bash
# axe-core (the accessibility rules engine) for the browser tests, from the
# npm registry at a pinned version, checked against its pinned integrity hash.
#
#   scripts/services/axe.sh fetch|path|packages [BASE]
#
#   fetch     `npm pack axe-core@VERSION` into BASE/axe-core/VERSION (only
#             when it is not there yet), check the tarball's sha512 against
#             the pinned integrity, unpack axe.min.js, and print the line to
#             eval: export LAGC_AXE_JS=BASE/axe-core/VERSION/axe.min.js
#   path      no network: check the cached tarball again, unpack and print
#             the path of axe.min.js (fails loudly if missing or altered)
#   packages  print the Debian packages `fetch` needs and lacks (npm)
#
# A hash mismatch deletes the download and fails: never a silent fallback.
# The tests inject axe.min.js through Playwright (page.evaluate, the DevTools
# protocol), so the platform's Content-Security-Policy stays as strict as it is.
# To move to a newer axe-core: `npm view axe-core@X dist.integrity`, then
# change both lines below.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=_lib.sh
. "$HERE/_lib.sh"

AXE_VERSION=4.14.1
AXE_INTEGRITY="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# integrity_of FILE: the npm-style "sha512-<base64>" of a file.
integrity_of() {
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

# verify TARBALL: fail (and delete it) unless its integrity is the pinned one.
verify() {
    local got
    got="$(integrity_of "$1")"
    if [[ "$got" != "$AXE_INTEGRITY" ]]; then
        rm -f -- "$1" "$(dirname "$1")/axe.min.js"
        die "axe-core-$AXE_VERSION.tgz does not match the pinned integrity (expected $AXE_INTEGRITY, got $got); deleted it"
    fi
}

# unpack DIR: axe.min.js out of the verified tarball, replaced atomically.
unpack() {
    local dir="$1" tmp
    tmp="$(mktemp -d "$dir/.unpack.XXXXXX")"
    tar -xzf "$dir/axe-core-$AXE_VERSION.tgz" -C "$tmp" package/axe.min.js
    mv -f -- "$tmp/package/axe.min.js" "$dir/axe.min.js"
    rm -rf -- "$tmp"
}

cmd_fetch() {
    local dir="$1" tmp log
    mkdir -p -- "$dir"
    if [[ ! -s "$dir/axe-core-$AXE_VERSION.tgz" ]]; then
        command -v npm >/dev/null 2>&1 || die "npm is needed to fetch axe-core (apt-get install npm)"
        tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
        log="$tmp/npm.log"
        if ! (cd "$tmp" && npm pack "axe-core@$AXE_VERSION" --silent >"$log" 2>&1); then
            dump_logs "$log"
            rm -rf -- "$tmp"
            die "npm pack axe-core@$AXE_VERSION failed"
        fi
        mv -f -- "$tmp/axe-core-$AXE_VERSION.tgz" "$dir/"
        rm -rf -- "$tmp"
    fi
    verify "$dir/axe-core-$AXE_VERSION.tgz"
    unpack "$dir"
    printf 'export LAGC_AXE_JS=%q\n' "$dir/axe.min.js"
}

cmd_path() {
    local dir="$1"
    [[ -s "$dir/axe-core-$AXE_VERSION.tgz" ]] || die "axe-core $AXE_VERSION is not fetched; run: $0 fetch"
    verify "$dir/axe-core-$AXE_VERSION.tgz"
    unpack "$dir"
    printf '%s\n' "$dir/axe.min.js"
}

CMD="${1:-}"
[[ -n "$CMD" ]] || usage
BASE="$(resolve_base "${2:-}")"
DIR="$BASE/axe-core/$AXE_VERSION"
case "$CMD" in
    fetch) cmd_fetch "$DIR" ;;
    path) cmd_path "$DIR" ;;
    packages) command -v npm >/dev/null 2>&1 || printf 'npm\n' ;;
    *) usage ;;
esac
