#!/bin/sh
# Usage: check-symbols.sh LIBOMADM.so EXPECTED-LIST SONAME [NM] [OBJDUMP]
# Fails when the shared library's SONAME is not SONAME, when it exports anything but
# omadm_*, when one of those is not in a version node OMADM_<MAJOR>.<MINOR>, or when the
# list of exported functions with their nodes differs from the committed one (a new function
# must be added to the list on purpose; a removed one, or one moved to another node, is an
# ABI break). NM and OBJDUMP default to the host's (a
# cross build passes the target's).
set -eu
export LC_ALL=C
lib=$1
expected=$2
soname=$3
nm=${4:-nm}
objdump=${5:-objdump}
major=$(printf '%s' "$soname" | sed 's/^libomadm\.so\.//')

actual_soname=$("$objdump" -p "$lib" | awk '$1 == "SONAME" {print $2}')
if [ "$actual_soname" != "$soname" ]; then
  echo "SONAME is '$actual_soname', expected '$soname'" >&2
  exit 1
fi
# Defined dynamic symbols with their version nodes, without the nodes' own (absolute)
# symbols: NAME@@OMADM_<MAJOR>.<MINOR>.
actual=$("$nm" -D --defined-only --with-symbol-versions "$lib" | awk '$2 != "A" {print $3}' | sort -u)
bad=$(printf '%s\n' "$actual" | grep -v "^omadm_[A-Za-z0-9_]*@@OMADM_$major\.[0-9][0-9]*\$" || true)
if [ -n "$bad" ]; then
  echo "symbols exported that are not omadm_* in a version node OMADM_$major.<minor>:" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
if ! printf '%s\n' "$actual" | diff -u "$expected" -; then
  echo "exported symbols or their version nodes differ from $expected (update it on purpose)" >&2
  exit 1
fi
echo "exported symbols: $(printf '%s\n' "$actual" | wc -l) omadm_* functions in nodes OMADM_$major.*, SONAME $soname, as listed"
