#!/usr/bin/env bash
# Usage: scripts/build.sh BUILD_DIR [meson setup options...]
# Configures BUILD_DIR once (reconfigures if it exists) and builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1
shift
if [ -f "$build_dir/build.ninja" ]; then
  meson setup --reconfigure "$build_dir" "$@" >/dev/null
else
  meson setup "$build_dir" "$@"
fi
meson compile -C "$build_dir"
