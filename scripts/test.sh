#!/usr/bin/env bash
# Runs every test: unit tests beside their code (*.test.ts) and cross-package tests in test/.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find apps packages test -name node_modules -prune -o -name '*.test.ts' -print | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "test: no test files found" >&2
  exit 1
fi
exec node --import tsx --test --test-reporter=spec "$@" "${files[@]}"
