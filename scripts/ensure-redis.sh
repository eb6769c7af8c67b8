#!/usr/bin/env bash
# Makes sure a Redis server answers at REDIS_URL (CONTRACT §1): uses the one there, or starts
# redis-server on 127.0.0.1, installing the system package where it is missing and we may.
set -euo pipefail
cd "$(dirname "$0")/.."

install_only=false; [ "${1:-}" = "--install-only" ] && install_only=true

url="${REDIS_URL:-$(grep -E '^REDIS_URL=' .env 2>/dev/null | tail -n1 | cut -d= -f2- || true)}"
url="${url:-redis://127.0.0.1:6379/0}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=6379

answers() { .venv/bin/python - "$url" <<'PY' 2>/dev/null
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PY
}

install_redis() {
  command -v redis-server >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "redis: installing redis-server (Debian package)"
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1) \
      || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)
  else
    echo "redis: redis-server is missing. Install it (sudo apt-get install redis-server, or brew install redis) or set REDIS_URL to a running server" >&2
    return 1
  fi
}

if $install_only; then install_redis; exit; fi
if answers; then echo "redis: using the server at $url"; exit 0; fi
case "$host" in 127.0.0.1|localhost) ;; *)
  echo "redis: nothing answers at $url and it is not on this machine: start it there, or unset REDIS_URL" >&2; exit 1;;
esac
install_redis
mkdir -p var/redis
redis-server --bind 127.0.0.1 --port "$port" --dir "$PWD/var/redis" --appendonly yes \
  --daemonize yes --pidfile "$PWD/var/redis/redis.pid" --logfile "$PWD/var/redis/redis.log" --save ""
for _ in $(seq 50); do answers && { echo "redis: started on 127.0.0.1:$port (var/redis; stop with: make stop-redis)"; exit 0; }; sleep 0.1; done
echo "redis: redis-server did not start; see var/redis/redis.log" >&2; exit 1
