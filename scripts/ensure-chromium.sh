#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (no browser download: the tests point
# Playwright at this executable). Installs the Debian package where it is missing and we may.
set -euo pipefail
browser="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "chromium: installing the Debian package (for the browser tests)"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1) \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
  [ -x "$browser" ] && exit 0
fi
echo "chromium: $browser is missing. Install Chromium (sudo apt-get install chromium) or set CHROMIUM to its path." >&2
exit 1
