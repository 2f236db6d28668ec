#!/usr/bin/env bash
# Throw-away PostgreSQL server for the tests.
#
#   scripts/services/postgres.sh install|start|stop|status|url|packages [BASE]
#
#   install   apt-get install Debian's `postgresql` if no server is present
#   start     initdb (once) under BASE/pg and start it on 127.0.0.1:$PGPORT
#             (default 54329) with its unix socket in BASE/pg/run; create
#             database lagc_test. Idempotent: a running server is left alone.
#   stop      fast shutdown (no-op if not running)
#   status    exit 0 if running
#   url       print postgresql+psycopg://postgres@127.0.0.1:PORT/lagc_test
#   packages  print the Debian packages `install` would install (none if present)
#
# BASE: 2nd argument, else $LAGC_SERVICES_BASE, else /tmp/lagc-services.
# TEST-ONLY: authentication is `trust` for local and loopback connections and
# durability is off (fsync=off). Never point this at data you care about.
# The server runs as the `postgres` OS user when invoked as root (PostgreSQL
# refuses to run as root), else as the invoking user.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=_lib.sh
. "$HERE/_lib.sh"

DEFAULT_PGPORT=54329
DB_NAME=lagc_test
DB_USER=postgres   # bootstrap superuser, created by initdb -U

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# Newest /usr/lib/postgresql/<ver>/bin with a server in it (not $PATH:
# /usr/local/bin/initdb or a client-only install must not be picked).
pg_bindir() {
    local d best=""
    while IFS= read -r d; do
        [[ -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_ctl" ]] && best="$d"
    done < <(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V)
    [[ -n "$best" ]] || return 1
    printf '%s\n' "$best"
}

cmd_packages() {
    pg_bindir >/dev/null || echo postgresql
}

cmd_install() {
    pg_bindir >/dev/null && return 0
    apt_install postgresql
    pg_bindir >/dev/null || die "postgresql installed but no server under /usr/lib/postgresql/*/bin"
}

setup_paths() {
    BASE="$(resolve_base "${1:-}")"
    PGB="$BASE/pg"
    DATA="$PGB/data"
    SOCK="$PGB/run"
    LOG="$PGB/postgres.log"
    PORTFILE="$PGB/port"
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "OS user 'postgres' missing (is Debian's postgresql installed?)"
        RUN=(runuser -u postgres --)
        OWNER=postgres
    else
        RUN=()
        OWNER="$(id -un)"
    fi
}

# Run a PostgreSQL tool as the server's OS user, from / (a root cwd such as
# /root is not readable by postgres and makes the tools complain).
as_pg() {
    (cd / && "${RUN[@]}" "$@")
}

is_running() {
    [[ -f "$DATA/postmaster.pid" ]] || return 1
    as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

current_port() {
    if [[ -s "$PORTFILE" ]]; then cat "$PORTFILE"; else echo "${PGPORT:-$DEFAULT_PGPORT}"; fi
}

psql_q() {
    PGCONNECT_TIMEOUT=5 "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" \
        -U "$DB_USER" -d postgres -tA "$@"
}

ensure_db() {
    local exists
    exists="$(psql_q -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" \
        || { dump_logs "$LOG"; die "cannot connect to postgres on 127.0.0.1:$PORT"; }
    if [[ "$exists" != 1 ]]; then
        psql_q -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null \
            || die "CREATE DATABASE $DB_NAME failed"
    fi
}

cmd_start() {
    setup_paths "${1:-}"
    BIN="$(pg_bindir)" || die "no PostgreSQL server found under /usr/lib/postgresql/*/bin; run: $0 install"
    take_lock "$BASE/.lock-postgres"

    if is_running; then
        PORT="$(current_port)"
        if [[ -n "${PGPORT:-}" && "$PGPORT" != "$PORT" ]]; then
            die "already running on port $PORT, not PGPORT=$PGPORT; run '$0 stop' first"
        fi
        ensure_db
        return 0
    fi

    PORT="${PGPORT:-$DEFAULT_PGPORT}"
    [[ "$PORT" =~ ^[0-9]+$ ]] || die "PGPORT must be a number, got '$PORT'"
    if port_in_use "$PORT"; then
        die "port 127.0.0.1:$PORT is already in use by another process; set PGPORT to a free port"
    fi

    mkdir -p "$PGB" "$SOCK"
    chown "$OWNER" "$PGB" "$SOCK"
    chmod 0755 "$PGB" "$SOCK"
    as_pg test -w "$PGB" || die "$OWNER cannot write $PGB (is a parent of BASE=$BASE not traversable, e.g. under /root?)"

    if [[ -f "$DATA/PG_VERSION" ]]; then
        local have want
        have="$(cat "$DATA/PG_VERSION")"
        want="$("$BIN/postgres" -V | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
        [[ "$have" == "$want" ]] || die "$DATA was made by PostgreSQL $have but the server is $want; delete $PGB and retry"
    else
        rm -rf -- "$DATA"
        # Trust auth: TEST-ONLY (any local user may connect as any role).
        if ! as_pg "$BIN/initdb" -D "$DATA" -U "$DB_USER" -A trust -E UTF8 \
            --locale=C.UTF-8 --no-sync >"$PGB/initdb.log" 2>&1; then
            dump_logs "$PGB/initdb.log"
            rm -rf -- "$DATA"
            die "initdb failed"
        fi
    fi

    # Everything instance-specific on the command line, so PGPORT can change
    # between runs. fsync etc. off: test-only, crash-unsafe, much faster.
    local pg_opts="-c listen_addresses=127.0.0.1 -c port=$PORT"
    pg_opts+=" -c unix_socket_directories=$SOCK"
    pg_opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    : >"$LOG"; chown "$OWNER" "$LOG"
    if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -o "$pg_opts" -w -t 30 start \
        >"$PGB/pg_ctl.log" 2>&1 9>&-; then
        dump_logs "$PGB/pg_ctl.log" "$LOG"
        die "postgres did not start on 127.0.0.1:$PORT"
    fi
    echo "$PORT" >"$PORTFILE"
    ensure_db
}

cmd_stop() {
    setup_paths "${1:-}"
    [[ -d "$DATA" ]] || return 0
    BIN="$(pg_bindir)" || die "no PostgreSQL server found under /usr/lib/postgresql/*/bin"
    take_lock "$BASE/.lock-postgres"
    is_running || return 0
    if ! as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >"$PGB/pg_ctl.log" 2>&1; then
        dump_logs "$PGB/pg_ctl.log" "$LOG"
        die "postgres did not stop"
    fi
}

cmd_status() {
    setup_paths "${1:-}"
    BIN="$(pg_bindir)" || return 1
    is_running
}

cmd_url() {
    setup_paths "${1:-}"
    printf 'postgresql+psycopg://%s@127.0.0.1:%s/%s\n' "$DB_USER" "$(current_port)" "$DB_NAME"
}

case "${1:-}" in
    install) cmd_install ;;
    packages) cmd_packages ;;
    start | stop | status | url) "cmd_$1" "${2:-}" ;;
    *) usage ;;
esac
