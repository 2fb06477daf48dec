#!/usr/bin/env bash
# Stops the cluster eng/postgres/start.sh started and removes its files.
set -uo pipefail
data="${1:?data directory}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast stop >&2; else "$bin/pg_ctl" -D "$data" -m fast stop >&2; fi
fi
rm -rf "$data"
