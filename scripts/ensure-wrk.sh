#!/usr/bin/env bash
# The benchmark (make bench) drives the create and list requests with wrk, from Debian's packages.
exec "$(dirname "$0")/ensure-debian-package.sh" wrk "make bench"
