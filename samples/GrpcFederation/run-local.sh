#!/usr/bin/env bash
# Runs the whole Fed-Heart-Disease federation on this machine: one server and four hospital processes, each its own
# `dotnet` process talking gRPC with mutual TLS over localhost. Extra arguments go to the server (e.g. --rounds 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${FEDERATION_DIR:-$(mktemp -d)}"
port="${FEDERATION_PORT:-5443}"
dotnet build samples/GrpcFederation -c Release -v quiet -nologo
app="dotnet artifacts/bin/GrpcFederation/release/GrpcFederation.dll"
echo "certificates, logs and plot in $work"
$app server --port "$port" --certs "$work/certs" --plot "$work/grpc-federation.png" "$@" 2>&1 | tee "$work/server.log" &
server=$!
for hospital in cleveland hungary switzerland va-long-beach; do
  $app client --hospital "$hospital" --server "https://localhost:$port" --certs "$work/certs" > "$work/$hospital.log" 2>&1 &
done
wait "$server"
wait
echo "hospital logs: $work/*.log; plot: $work/grpc-federation.png"
