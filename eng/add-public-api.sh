#!/usr/bin/env bash
# Appends every symbol RS0016 reports for a project to its PublicAPI.Unshipped.txt (review the diff before committing).
# Usage: eng/add-public-api.sh src/FederatedSharp/FederatedSharp.csproj
set -euo pipefail
project="$1"
file="$(dirname "$project")/PublicAPI.Unshipped.txt"
dotnet build "$project" -c Debug 2>&1 \
  | grep -oP "error RS0016: Symbol '\K.*(?=' is not part of the declared public API)" \
  | LC_ALL=C sort -u | grep -vxF -f "$file" >> "$file" || true
