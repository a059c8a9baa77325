#!/usr/bin/env bash
# Installs TimescaleDB 2.28.3 for the baseline store's tests (both editions): .ci/run calls
# it with ../shared/timescaledb/install.sh, the community-edition build kept beside the
# clone (TimescaleDB is in no registry this machine reaches). Locally the tests skip
# without it; in CI they fail.
#
# That build links against PostgreSQL 15.20 (it calls heap_datum_check, first exported by
# 15.20): on an older Debian postgresql-15 it would not load ("undefined symbol"), so the
# package is upgraded from bookworm-security first. Idempotent; prints what each step took.
# Usage: scripts/install-timescaledb.sh PATH/TO/timescaledb/install.sh
set -euo pipefail
installer=${1:?usage: install-timescaledb.sh PATH/TO/timescaledb/install.sh}
needs=15.20
[ -f "$installer" ] || { echo "install-timescaledb.sh: no $installer" >&2; exit 1; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-timescaledb.sh: needs root (or sudo)" >&2; exit 1; }
  sudo="sudo"
fi
began=$SECONDS
have=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
if [ -z "$have" ] || dpkg --compare-versions "$have" lt "$needs"; then
  echo "upgrading postgresql-15 ${have:-(none)} to >= $needs for TimescaleDB 2.28.3 (apt-get)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    postgresql-15 >/dev/null
  have=$(dpkg-query -W -f='${Version}' postgresql-15)
  dpkg --compare-versions "$have" ge "$needs" || {
    echo "install-timescaledb.sh: postgresql-15 is $have; TimescaleDB 2.28.3 needs >= $needs" >&2
    exit 1
  }
fi
upgraded=$SECONDS
$sudo bash "$installer" >&2
echo "TimescaleDB: postgresql-15 $have ready in $((upgraded - began)) s, install.sh took $((SECONDS - upgraded)) s" >&2
