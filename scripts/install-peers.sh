#!/usr/bin/env bash
# Install the real peers the tests talk to, from Debian's packages, when missing:
# sipp and baresip (SIP), Chromium (browser tests), redis-server and PostgreSQL.
# Idempotent and quick when everything is present. Needs root (or sudo) and apt-get;
# otherwise it names what is missing and fails, because tests never skip themselves.
set -euo pipefail

declare -A PACKAGE_OF=(
  [sipp]=sip-tester
  [baresip]=baresip-core
  [chromium]=chromium
  [redis-server]=redis-server
  [pg_ctlcluster]=postgresql
  [espeak-ng]=espeak-ng
  [sox]=sox
)

missing=()
for command in "${!PACKAGE_OF[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exec "$(dirname "$0")/make-prompts.sh"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing test peers: ${missing[*]} (install them; apt-get is not available here)" >&2
  exit 2
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "missing test peers: ${missing[*]} (run as root)" >&2; exit 2; }
  SUDO=sudo
fi
echo "installing test peers: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
exec "$(dirname "$0")/make-prompts.sh"  # IVR prompts are spoken at build time, not committed
