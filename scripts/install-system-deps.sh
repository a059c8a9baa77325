#!/usr/bin/env bash
# Installs the real components the tests talk to (Debian/Ubuntu), only when missing:
# promtool + prometheus (rule checks, live rule loading), alertmanager + amtool,
# PostgreSQL server binaries (initdb, pg_ctl: the baseline store's tests start their own).
# prometheus-pushgateway (apply metrics) and openssl (a TLS test's self-signed cert).
# victoria-metrics: the single-node server and vmalert (rules on VictoriaMetrics).
# chromium (perfdash preview --png, the preview's browser tests) and npm (uPlot for previews).
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
{ command -v alertmanager || command -v prometheus-alertmanager; } >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v victoria-metrics >/dev/null 2>&1 && command -v vmalert >/dev/null 2>&1 || need+=(victoria-metrics)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
{ command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; } || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing ${need[*]} (apt-get)" >&2
$sudo apt-get update -qq
# policy-rc.d keeps Debian from starting the packaged services: tests start their own.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
