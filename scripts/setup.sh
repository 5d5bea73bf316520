#!/usr/bin/env bash
# Installs what Debian Forge needs and is missing: npm packages (npm ci) and the Debian packages
# listed in scripts/debian-packages: its [engine] section, and with --tests its [tests] section too.
# Idempotent, and quick when nothing is missing.
set -euo pipefail
sections=engine
case "${1:-}" in
  --tests) sections="engine tests" ;;
  '') ;;
  *) echo "usage: setup.sh [--tests]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

need_major=20
have_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$have_major" -lt "$need_major" ]; then
  echo "setup: Node.js $need_major or newer is needed, found $(node --version)" >&2
  exit 1
fi

# Debian packages: one name per line, '#' starts a comment, '[name]' starts a section.
mapfile -t wanted < <(awk -v want=" $sections " '
  { sub(/#.*/, ""); gsub(/[[:space:]]+/, "") }
  /^\[.*\]$/ { section = substr($0, 2, length($0) - 2); next }
  $0 != "" && index(want, " " section " ") { print }' scripts/debian-packages)
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" ||
      { apt-get update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"; }
  else
    echo "setup: missing Debian packages; run this as root, then try again:" >&2
    echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# npm packages: reinstall when package-lock.json changed since the last install.
stamp=node_modules/.debian-forge-setup
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi

# The stage libdir (packages/stages/libdir): rebuilt when the stage sources changed.
src_sum=$(find packages/stages/src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
libdir_stamp=packages/stages/libdir/.source-sum
if [ ! -f "$libdir_stamp" ] || [ "$(cat "$libdir_stamp")" != "$src_sum" ]; then
  npm run --silent build -w @debian-forge/stages
  echo "$src_sum" >"$libdir_stamp"
fi

# The bundled forge command (apps/cli/dist): rebuilt when any TypeScript source changed. Without
# it, bin/forge.js runs the sources through tsx, which starts several times slower.
cli_sum=$(find apps packages -name node_modules -prune -o -name '*.ts' -path '*/src/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
cli_stamp=apps/cli/dist/.source-sum
if [ ! -f "$cli_stamp" ] || [ "$(cat "$cli_stamp")" != "$cli_sum" ]; then
  npm run --silent build -w @debian-forge/cli
  echo "$cli_sum" >"$cli_stamp"
fi

# The web UI (apps/web/dist): rebuilt when its sources or the lock file changed.
web_sum=$(find apps/web/src apps/web/build.ts apps/web/cockpit package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
web_stamp=apps/web/dist/.source-sum
if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_sum" ]; then
  npm run --silent build -w @debian-forge/web
  echo "$web_sum" >"$web_stamp"
fi
