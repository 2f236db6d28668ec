# shellcheck shell=bash
# Shared helpers for scripts/services/*.sh. Sourced, not executed.
#
# Conventions for every service script:
#   - quiet on success (progress goes to the per-service log under BASE),
#     loud on failure (message + relevant log tail on stderr, non-zero exit);
#   - all state under BASE: the 2nd argument, else $LAGC_SERVICES_BASE,
#     else /tmp/lagc-services;
#   - nothing system-wide is configured; the only system change is
#     `apt-get install` of missing Debian packages.

set -Eeuo pipefail
# Without this, `x="$(f)"` ignores failures inside f (bash clears -e there).
shopt -s inherit_errexit
# Any unexpected failure names the script, line and command.
# shellcheck disable=SC2154
trap 'rc=$?; printf "%s: ERROR: line %s: \"%s\" exited %s\n" "${0##*/}" "$LINENO" "$BASH_COMMAND" "$rc" >&2' ERR

LAGC_DEFAULT_BASE=/tmp/lagc-services

die() {
    printf '%s: ERROR: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

warn() {
    printf '%s: warning: %s\n' "${0##*/}" "$*" >&2
}

# Print the last lines of each given file that exists, to stderr.
dump_logs() {
    local f
    for f in "$@"; do
        [[ -s "$f" ]] || continue
        printf '===== %s (last 60 lines) =====\n' "$f" >&2
        tail -n 60 "$f" >&2 || true
    done
}

# resolve_base [ARG]: absolute BASE directory, created (mode 0755 so that
# service users such as `postgres` can traverse it).
resolve_base() {
    local b="${1:-${LAGC_SERVICES_BASE:-$LAGC_DEFAULT_BASE}}"
    [[ -n "$b" ]] || die "empty base directory"
    b="$(realpath -m -- "$b")"
    # Paths end up unquoted in postgres -o options and slurm.conf.
    [[ "$b" != *[[:space:]]* ]] || die "base directory must not contain whitespace: '$b'"
    mkdir -p -- "$b" || die "cannot create base directory $b"
    chmod 0755 -- "$b" 2>/dev/null || true
    printf '%s\n' "$b"
}

# Run a command as root (directly, or via sudo when not root).
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root (or passwordless sudo) to run: $*"
    fi
}

# pkg_installed PKG: true if the Debian package is fully installed.
pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

# missing_packages PKG...: print those not installed, one per line.
missing_packages() {
    local p
    for p in "$@"; do
        pkg_installed "$p" || printf '%s\n' "$p"
    done
}

# apt_install PKG...: one `apt-get update` + one `apt-get install` of the
# missing ones; nothing at all (no network) when all are present.
# Output goes to a log, printed only on failure.
apt_install() {
    local missing log
    mapfile -t missing < <(missing_packages "$@")
    ((${#missing[@]})) || return 0
    log="$(mktemp /tmp/lagc-apt.XXXXXX.log)"
    local -a env=(env DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a)
    # Wait for a concurrent apt/dpkg (another job, unattended-upgrades)
    # instead of failing at once on its lock.
    local -a opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 -q)
    if ! as_root "${env[@]}" apt-get "${opts[@]}" update >"$log" 2>&1; then
        dump_logs "$log"
        die "apt-get update failed (log: $log)"
    fi
    if ! as_root "${env[@]}" apt-get "${opts[@]}" install -y --no-install-recommends \
        "${missing[@]}" >>"$log" 2>&1; then
        dump_logs "$log"
        die "apt-get install ${missing[*]} failed (log: $log)"
    fi
    # Double-check: dpkg can "succeed" while a package stays half-configured.
    mapfile -t missing < <(missing_packages "${missing[@]}")
    if ((${#missing[@]})); then
        dump_logs "$log"
        die "still not installed after apt-get: ${missing[*]} (log: $log)"
    fi
    rm -f -- "$log"
}

# pid_alive PIDFILE: true if the file names a live process.
pid_alive() {
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(tr -dc '0-9' <"$1")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# stop_pidfiles TIMEOUT_S PIDFILE...: TERM all live ones at once (each takes
# 1-2 s to exit), wait, then KILL stragglers. Removes the pid files.
stop_pidfiles() {
    local t="$1" pf pid i
    shift
    local -a pids=()
    for pf in "$@"; do
        if pid_alive "$pf"; then
            pid="$(tr -dc '0-9' <"$pf")"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    for ((i = 0; i < t * 10; i++)); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            warn "pid $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-60)) did not stop within ${t}s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -f -- "$@"
}

# port_in_use PORT: true if something listens on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# take_lock LOCKFILE: serialise concurrent start/stop of one service on one
# BASE, for the rest of this script. The lock is fd 9: daemons must be
# started with `9>&-`, or they would hold it for ever.
take_lock() {
    exec 9>"$1"
    flock -w 120 9 || die "could not lock $1 within 120 s"
}
