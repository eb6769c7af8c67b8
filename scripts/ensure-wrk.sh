#!/usr/bin/env bash
# The benchmark (make bench) drives the create and list requests with wrk, from Debian's packages.
# Installs it where it is missing and we may.
set -euo pipefail
found() { command -v wrk >/dev/null; }
found && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "wrk: installing the Debian package (for make bench)"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1) \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
  found && exit 0
fi
echo "wrk: wrk is missing. Install it (sudo apt-get install wrk) to run make bench." >&2
exit 1
