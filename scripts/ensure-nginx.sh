#!/usr/bin/env bash
# The nginx tests (tests/deploy/test_nginx.py) run a real nginx with nginx/nginx.conf on a free port.
# Installs Debian's package where nginx is missing and we may. The tests start their own nginx as a
# plain process; they never use the service the package may register.
set -euo pipefail
found() { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }
found && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "nginx: installing the Debian package (for the nginx tests)"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null 2>&1) \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null)
  found && exit 0
fi
echo "nginx: nginx is missing. Install it (sudo apt-get install nginx) to run the nginx tests." >&2
exit 1
