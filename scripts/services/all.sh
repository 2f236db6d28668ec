#!/usr/bin/env bash
# Install (if missing) and start every real service the tests need:
# PostgreSQL, a single-node Slurm cluster and a key-only OpenSSH server on
# localhost (the site agent's gateway mode), state under BASE.
#
#   eval "$(scripts/services/all.sh start [--chromium] [BASE])"
#   scripts/services/all.sh install [--chromium] [BASE]
#   scripts/services/all.sh env [BASE]
#   scripts/services/all.sh stop [BASE]
#
#   install   one `apt-get update` + one `apt-get install -y
#             --no-install-recommends` of every missing package, and nothing
#             (no network) when all are present; --chromium adds Chromium
#             (and npm, when missing, for axe-core) and nginx (the e2e tier's
#             programs)
#   start     install, then start postgres, slurm and sshd (idempotent), and
#             print on stdout the lines to eval:
#               export TEST_POSTGRES_URL=postgresql+psycopg://...
#               export SLURM_CONF=BASE/slurm/etc/slurm.conf
#               export LAGC_TEST_SSH=BASE/ssh
#             --chromium also checks that Chromium runs and fetches axe-core
#             for the browser tests' accessibility checks (axe.sh: pinned
#             version and integrity hash; no network once cached):
#               export LAGC_AXE_JS=BASE/axe-core/VERSION/axe.min.js
#   env       print those export lines without starting anything
#   stop      stop sshd, slurm (cancelling its jobs) and postgres
#
# BASE: last argument, else $LAGC_SERVICES_BASE, else /tmp/lagc-services.
# Ports: PGPORT (54329), SLURMCTLD_PORT (6817), SLURMD_PORT (6818),
# SSHD_PORT (22022).
# Only the export lines go to stdout; errors and logs go to stderr.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=_lib.sh
. "$HERE/_lib.sh"

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

CMD="${1:-}"
[[ -n "$CMD" ]] || usage
shift
WITH_CHROMIUM=0
BASE_ARG=""
for a in "$@"; do
    case "$a" in
        --chromium) WITH_CHROMIUM=1 ;;
        -*) usage ;;
        *) BASE_ARG="$a" ;;
    esac
done
BASE="$(resolve_base "$BASE_ARG")"

do_install() {
    local -a pkgs
    mapfile -t pkgs < <(
        "$HERE/postgres.sh" packages
        "$HERE/slurm.sh" packages
        "$HERE/ssh.sh" packages
        if ((WITH_CHROMIUM)); then "$HERE/chromium.sh" packages; "$HERE/axe.sh" packages "$BASE"; "$HERE/nginx.sh" packages; fi
    )
    ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

do_env() {
    printf 'export TEST_POSTGRES_URL=%q\n' "$("$HERE/postgres.sh" url "$BASE")"
    "$HERE/slurm.sh" env "$BASE"
    "$HERE/ssh.sh" env "$BASE"
}

case "$CMD" in
    install) do_install ;;
    start)
        do_install
        "$HERE/postgres.sh" start "$BASE"
        "$HERE/slurm.sh" start "$BASE"
        "$HERE/ssh.sh" start "$BASE"
        do_env
        if ((WITH_CHROMIUM)); then
            "$HERE/chromium.sh" check >/dev/null
            "$HERE/axe.sh" fetch "$BASE"
        fi
        ;;
    env) do_env ;;
    stop)
        rc=0
        "$HERE/ssh.sh" stop "$BASE" || rc=1
        "$HERE/slurm.sh" stop "$BASE" || rc=1
        "$HERE/postgres.sh" stop "$BASE" || rc=1
        exit "$rc"
        ;;
    *) usage ;;
esac
