#!/usr/bin/env bash
# Installs PostgreSQL from the distribution's packages when it is missing, starts a private cluster on loopback and
# prints the connection string for the store tests (FEDSHARP_TEST_POSTGRES). Usage:
#   export FEDSHARP_TEST_POSTGRES="$(bash eng/postgres/start.sh DATA_DIR [PORT])"
#   ... run the tests ...
#   bash eng/postgres/stop.sh DATA_DIR
set -euo pipefail
data="${1:?data directory}"
port="${2:-54329}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rm -rf "$data"
mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres "$data"
password="fedsharp-$RANDOM$RANDOM"
pwfile="$data.pw"
echo "$password" > "$pwfile"
[ "$(id -u)" = 0 ] && chown postgres "$pwfile"
run "$bin/initdb" -D "$data" -U fedsharp --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 >&2
rm -f "$pwfile"
run "$bin/pg_ctl" -D "$data" -w -l "$data/server.log" -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >&2
echo "Host=127.0.0.1;Port=$port;Username=fedsharp;Password=$password;Database=postgres"
