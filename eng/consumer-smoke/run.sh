#!/usr/bin/env bash
# Packs FederatedSharp with a unique CI version, builds a consumer project from those packages, and checks that
# (1) the consumer's build applies the TorchSharp native fix when this system needs it and TorchSharp then runs, and
# (2) FederatedSharpPatchLibTorchSharp=false switches the fix off, (3) the packaged gRPC transport serves a fit, and
# (4) a ProjectReference consumer outside the repository gets the fix as well. Prints "smoke: N passed, N failed" counts.
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/artifacts/consumer-smoke"
feed="$work/feed"
version="0.1.0-ci$(date +%s)"
rm -rf "$work" && mkdir -p "$feed"
cp "$repo/eng/consumer-smoke/"{Consumer.csproj,Program.cs,Directory.Build.props,Directory.Build.targets,Directory.Packages.props} "$work/"
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="federatedsharp-ci" value="$feed" />
  </packageSources>
</configuration>
XML
passed=0; failed=0
check() { if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "smoke ok: $2"; else failed=$((failed + 1)); echo "smoke FAILED: $2"; fi; }

dotnet pack "$repo/src/FederatedSharp/FederatedSharp.csproj" -c Release --no-build -o "$feed" -p:PackageVersion="$version" >/dev/null
dotnet pack "$repo/src/FederatedSharp.TorchSharp/FederatedSharp.TorchSharp.csproj" -c Release --no-build -o "$feed" -p:PackageVersion="$version" >/dev/null
dotnet pack "$repo/src/FederatedSharp.Grpc/FederatedSharp.Grpc.csproj" -c Release --no-build -o "$feed" -p:PackageVersion="$version" >/dev/null

cd "$work"
needs_fix=1
for lib in /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6; do
  if [ -f "$lib" ]; then grep -q "GLIBCXX_3.4.32" "$lib" && needs_fix=0; break; fi
done

log=$(dotnet build -c Release -p:FederatedSharpVersion="$version" 2>&1); rc=$?
check $rc "consumer builds from the packages"
if [ "$needs_fix" = 1 ]; then
  echo "$log" | grep -q "FederatedSharp.TorchSharp: marked the GLIBCXX_3.4.32 need"; check $? "the build log says the shim was patched"
fi
out=$(dotnet run -c Release --no-build 2>&1); rc=$?
echo "$out" | tail -n 1
check $rc "TorchSharp runs in the consumer"
echo "$out" | grep -q "gRPC round trip returned 8 parameters"; check $? "the gRPC package serves a fit over loopback"

if [ "$needs_fix" = 1 ]; then
  rm -rf bin obj
  dotnet build -c Release -p:FederatedSharpVersion="$version" -p:FederatedSharpPatchLibTorchSharp=false >/dev/null 2>&1
  dotnet run -c Release --no-build >/dev/null 2>&1; rc=$?
  [ "$rc" != 0 ]; check $? "FederatedSharpPatchLibTorchSharp=false leaves the shim as shipped (and it does not load here)"
fi
# (4) A project outside the repository that references FederatedSharp.TorchSharp by ProjectReference gets the fix too
# (through the copy-to-output protocol: it imports no targets of ours).
projref="$(mktemp -d)"
cat > "$projref/ProjRef.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><ProjectReference Include="$repo/src/FederatedSharp.TorchSharp/FederatedSharp.TorchSharp.csproj" /></ItemGroup>
</Project>
XML
echo 'using var t = TorchSharp.torch.ones(3); Console.WriteLine($"projref torch sum {t.sum().item<float>()}");' > "$projref/Program.cs"
(cd "$projref" && dotnet build -c Release >/dev/null 2>&1); check $? "a ProjectReference consumer outside the repository builds"
out=$(cd "$projref" && dotnet run -c Release --no-build 2>&1); rc=$?
echo "$out" | tail -n 1
[ "$rc" = 0 ] && echo "$out" | grep -q "projref torch sum 3"; check $? "TorchSharp runs in the ProjectReference consumer"
rm -rf "$projref"
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/federatedsharp*/"$version"
echo "smoke: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
