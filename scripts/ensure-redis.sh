#!/usr/bin/env bash
# Redis for `make` (CONTRACT §1): when a server answers at REDIS_URL it is used as it is; otherwise,
# for a local URL, redis-server must be on this machine (installed here from the Debian package when
# missing and we are root) so that `make run` can start it beside the app (scripts/procfile.py).
set -euo pipefail
cd "$(dirname "$0")/.."

url="${REDIS_URL:-$(grep -E '^REDIS_URL=' .env 2>/dev/null | tail -n1 | cut -d= -f2- || true)}"
url="${url:-redis://127.0.0.1:6379/0}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"

answers() { .venv/bin/python - "$url" <<'PY' 2>/dev/null
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PY
}

if [ "${1:-}" != "--binary" ] && answers; then echo "redis: using the server at $url"; exit 0; fi
case "$host" in 127.0.0.1|localhost) ;; *)
  echo "redis: nothing answers at $url, which is not on this machine: start Redis there, or unset REDIS_URL" >&2
  exit 1;;
esac
say_ready() { [ "${1:-}" = "--binary" ] || echo "redis: nothing answers at $url; make run starts redis-server there (data in var/redis)"; }
command -v redis-server >/dev/null && { say_ready "${1:-}"; exit 0; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "redis: installing redis-server (Debian package)"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1) \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)
  command -v redis-server >/dev/null && { say_ready "${1:-}"; exit 0; }
fi
echo "redis: redis-server is missing and cannot be installed here. Install it (sudo apt-get install redis-server," \
     "or brew install redis), or set REDIS_URL in .env to a Redis that runs elsewhere." >&2
exit 1
