#!/usr/bin/env bash
# ensure-debian-package.sh <package> <what it is for> [<path> ...]
# Installs Debian's <package> where its program (named as the package, or at one of the paths) is
# missing and we may (root with apt-get); otherwise says how to install it and fails.
set -euo pipefail
package=$1 purpose=$2
shift 2
found() {
  command -v "$package" >/dev/null && return 0
  for path in "$@"; do [ -x "$path" ] && return 0; done
  return 1
}
found "$@" && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "$package: installing the Debian package (for $purpose)"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1) \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null)
  found "$@" && exit 0
fi
echo "$package: $package is missing. Install it (sudo apt-get install $package) for $purpose." >&2
exit 1
