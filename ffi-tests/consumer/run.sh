#!/bin/sh
# Usage: run.sh OMADM_BUILD_DIR WORK_DIR BUILD_TYPE CARGO_TARGET_DIR
# Installs omadm from its build directory into WORK_DIR/prefix, then configures, builds and
# runs this consumer project against it with find_package(omadm CONFIG), and checks the
# pkg-config file; then builds and runs it again with add_subdirectory of the sources
# (sharing CARGO_TARGET_DIR so cargo does not build everything twice).
set -eu
build=$1
work=$2
type=${3:-Debug}
cargo_target=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
# The consumers' state directories go under WORK_DIR, removed with it on the next run.
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer_static"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/build/consumer_shared"
"$work/build/consumer_cpp"
if command -v pkg-config >/dev/null 2>&1; then
  PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs omadm
  test "$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --modversion omadm)" = "$(sed -n 's/^project(omadm VERSION \([0-9.]*\).*/\1/p' "$here/../../CMakeLists.txt")"
fi

# add_subdirectory of the sources.
src=$(cd "$here/../.." && pwd)
set -- -DOMADM_SOURCE_DIR="$src" -DCMAKE_BUILD_TYPE="$type"
if [ -n "$cargo_target" ]; then
  set -- "$@" -DOMADM_CARGO_TARGET_DIR="$cargo_target"
fi
cmake -S "$here" -B "$work/subdir" "$@" >/dev/null
cmake --build "$work/subdir" >/dev/null
"$work/subdir/consumer_static"
"$work/subdir/consumer_shared"
"$work/subdir/consumer_cpp"
