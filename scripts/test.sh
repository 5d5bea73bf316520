#!/usr/bin/env bash
# Runs every test: unit tests beside their code (*.test.ts) and cross-package tests in test/.
# The image tests share one state directory (apt roots, object store) for the run, so a system one
# test built is reused by the next (FORGE_TEST_STATE_DIR; removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find apps packages test -name node_modules -prune -o -name '*.test.ts' -print | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "test: no test files found" >&2
  exit 1
fi
if [ -z "${FORGE_TEST_STATE_DIR:-}" ]; then
  FORGE_TEST_STATE_DIR=$(mktemp -d /var/tmp/forge-test-state.XXXXXX)
  export FORGE_TEST_STATE_DIR
  # OSTree deployments in the store are immutable (chattr +i) until their flag is cleared; chattr
  # also complains about links and special files, so neither step may decide the exit status.
  remove_state() {
    local status=$?
    chattr -R -i "$FORGE_TEST_STATE_DIR" 2>/dev/null || true
    rm -rf --one-file-system "$FORGE_TEST_STATE_DIR" || true
    exit "$status"
  }
  trap remove_state EXIT
fi
node --import tsx --test --test-reporter=spec "$@" "${files[@]}"
