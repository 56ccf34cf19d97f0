#!/bin/sh
# Usage: check-symbols.sh LIBOMADM.so EXPECTED-LIST SONAME [NM] [OBJDUMP]
# Fails when the shared library's SONAME is not SONAME, when it exports anything but
# omadm_*, when one of those is not in version node OMADM_<MAJOR>.0, or when the list of
# exported functions differs from the committed one (a new function must be added to the
# list on purpose; a removed one is an ABI break). NM and OBJDUMP default to the host's (a
# cross build passes the target's).
set -eu
lib=$1
expected=$2
soname=$3
nm=${4:-nm}
objdump=${5:-objdump}
node="OMADM_$(printf '%s' "$soname" | sed 's/^libomadm\.so\.//').0"

actual_soname=$("$objdump" -p "$lib" | awk '$1 == "SONAME" {print $2}')
if [ "$actual_soname" != "$soname" ]; then
  echo "SONAME is '$actual_soname', expected '$soname'" >&2
  exit 1
fi
# Defined dynamic symbols, without the version node's own (absolute) symbol.
defined=$("$nm" -D --defined-only --with-symbol-versions "$lib" | awk '$2 != "A" {print $3}' | sort -u)
unversioned=$(printf '%s\n' "$defined" | grep -v "@@$node\$" || true)
if [ -n "$unversioned" ]; then
  echo "symbols exported outside version node $node:" >&2
  printf '%s\n' "$unversioned" >&2
  exit 1
fi
actual=$(printf '%s\n' "$defined" | sed "s/@@$node\$//")
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
echo "exported symbols: $(printf '%s\n' "$actual" | wc -l) omadm_* functions in $node, SONAME $soname, as listed"
