#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on loopback, so that the test suite runs against
# PostgreSQL as well as SQLite wherever `make test` runs: the server is installed from the
# distribution's packages when absent, run as a non-root user, and stopped at the end, whatever
# happens. With HUIQI_TEST_POSTGRES_URL already set, the command runs against that server instead.
# HUIQI_TEST_PG_CTL, HUIQI_TEST_PGDATA and HUIQI_TEST_PG_OS_USER tell the fault tests how to restart it.
#   usage: tests/with_postgres.sh COMMAND [ARG...]
set -euo pipefail

pg_bindir() {
    local initdb
    initdb=$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$initdb" ] && command -v initdb >/dev/null 2>&1; then
        initdb=$(command -v initdb)
    fi
    [ -n "$initdb" ] && dirname "$initdb"
}

if [ -z "${HUIQI_TEST_POSTGRES_URL:-}" ]; then
    PGBIN=$(pg_bindir || true)
    if [ -z "$PGBIN" ] && { [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; }; then
        echo "== no PostgreSQL here and no way to install it: its tests skip (CI=true makes them fail)"
        exec "$@"
    fi
    if [ -z "$PGBIN" ]; then
        echo "== installing PostgreSQL from the distribution's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
        PGBIN=$(pg_bindir)
    fi

    # PostgreSQL refuses to run as root: use the packages' postgres user (or a user of our own)
    if [ "$(id -u)" = 0 ]; then
        PGOS_USER=postgres
        id -u "$PGOS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin huiqi-pg
        id -u "$PGOS_USER" >/dev/null 2>&1 || PGOS_USER=huiqi-pg
        as_pg() { runuser -u "$PGOS_USER" -- "$@"; }
    else
        as_pg() { "$@"; }
    fi

    PGROOT=$(mktemp -d /tmp/huiqi-pg.XXXXXX)
    chmod 755 "$PGROOT"
    [ "$(id -u)" = 0 ] && chown "$PGOS_USER" "$PGROOT"
    PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

    stop_postgres() {
        as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PGROOT"
    }
    trap stop_postgres EXIT

    as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U huiqi --auth=trust -E UTF8 --no-locale >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $PGPORT -k $PGROOT -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    export HUIQI_TEST_POSTGRES_URL="postgresql://huiqi@127.0.0.1:$PGPORT/postgres"
    # the fault tests (tests/faults) restart this server mid-run: how to reach its pg_ctl
    export HUIQI_TEST_PG_CTL="$PGBIN/pg_ctl" HUIQI_TEST_PGDATA="$PGROOT/data" HUIQI_TEST_PG_OS_USER="${PGOS_USER:-}"
    echo "== PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (data in $PGROOT)"
fi

"$@"
