#!/bin/sh
# Usage: check-symbols.sh LIBOMADM.so EXPECTED-LIST
# Fails when the shared library exports anything but omadm_* or when the list of exported
# functions differs from the committed one (a new function must be added to the list on
# purpose; a removed one is an ABI break).
set -eu
lib=$1
expected=$2
actual=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
bad=$(printf '%s\n' "$actual" | grep -v '^omadm_' || true)
if [ -n "$bad" ]; then
  echo "symbols exported that are not omadm_*:" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
if ! printf '%s\n' "$actual" | diff -u "$expected" -; then
  echo "exported symbols differ from $expected (update it on purpose)" >&2
  exit 1
fi
echo "exported symbols: $(printf '%s\n' "$actual" | wc -l) omadm_* functions, as listed"
