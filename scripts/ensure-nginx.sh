#!/usr/bin/env bash
# The nginx tests (tests/deploy/test_nginx.py) run a real nginx with nginx/nginx.conf on a free port.
# The tests start their own nginx as a plain process; they never use the service the package may register.
exec "$(dirname "$0")/ensure-debian-package.sh" nginx "the nginx tests" /usr/sbin/nginx
