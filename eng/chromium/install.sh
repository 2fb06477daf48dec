#!/usr/bin/env bash
# Installs headless Chromium from the distribution's packages when it is missing, for the dashboard's browser tests
# (Microsoft.Playwright drives /usr/bin/chromium; nothing is downloaded at run time). Usage: bash eng/chromium/install.sh
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y chromium >&2 || { apt-get update >&2 && apt-get install -y chromium >&2; }
test -x /usr/bin/chromium
