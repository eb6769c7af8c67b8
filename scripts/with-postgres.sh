#!/usr/bin/env bash
# Runs a command with TEST_DATABASE_URL pointing at a throwaway PostgreSQL (Debian's package): a
# cluster made in a temporary folder on a free port, removed afterwards. With TEST_DATABASE_URL
# already set, the command runs against that database instead.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 command..." >&2; exit 2; }
if [ -n "${TEST_DATABASE_URL:-}" ]; then exec "$@"; fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "postgres: installing the Debian package"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1) \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi
[ -n "$bin" ] || { echo "postgres: no PostgreSQL server here. Install it (apt-get install postgresql) or set TEST_DATABASE_URL." >&2; exit 1; }

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner=()
if [ "$(id -u)" = 0 ]; then  # the server refuses to run as root
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
# The server's own commands run from its folder: the owner may not enter the caller's working directory.
as_owner_in_dir() { (cd "$dir" && "${as_owner[@]}" "$@"); }
cleanup() { as_owner_in_dir "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_owner_in_dir "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
as_owner_in_dir "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE telemost_test" >/dev/null
echo "postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for: $*"
TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/telemost_test" "$@"
