#!/usr/bin/env bash
# Runs the whole Fed-Heart-Disease federation on this machine: one server and four hospital processes, each its own
# `dotnet` process talking gRPC with mutual TLS over localhost. Extra arguments go to the server (e.g. --rounds 5).
# FEDERATION_DIR picks the folder for certificates, logs and the plot (default: a new temporary folder);
# FEDERATION_PORT the port (default 5443).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${FEDERATION_DIR:-$(mktemp -d)}"
port="${FEDERATION_PORT:-5443}"
mkdir -p "$work"
dotnet build samples/GrpcFederation -c Release -v quiet -nologo > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
app="dotnet artifacts/bin/GrpcFederation/release/GrpcFederation.dll"
echo "certificates, logs and plot in $work"
# Stop every process this script started when it ends, however it ends.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM
$app server --port "$port" --certs "$work/certs" --plot "$work/grpc-federation.png" "$@" > "$work/server.log" 2>&1 &
server=$!
for hospital in cleveland hungary switzerland va-long-beach; do
  $app client --hospital "$hospital" --server "https://localhost:$port" --certs "$work/certs" > "$work/$hospital.log" 2>&1 &
done
tail -f "$work/server.log" --pid "$server" | grep -v " info: " || true
wait "$server"
wait
echo "hospital logs: $work/*.log; plot: $work/grpc-federation.png"
