#!/usr/bin/env bash
# steady-rtsp demo: runs the RTSP server under leakwatch for about half a minute with real
# ffmpeg clients (one slow, one frozen), then prints what each element did and where the
# leakwatch HTML report is.
#   tests/examples/steady-rtsp/demo.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
binary="$build/tests/examples/steady-rtsp/steady-rtsp"
if [ ! -x "$binary" ]; then
  echo "steady-rtsp is not built: run scripts/build.sh build first" >&2
  exit 1
fi
for tool in ffmpeg python3; do
  command -v "$tool" >/dev/null || { echo "steady-rtsp demo needs $tool" >&2; exit 1; }
done
# The plugins from this build tree, unless the caller chose already.
if [ -z "${GST_PLUGIN_PATH_1_0:-}${GST_PLUGIN_PATH:-}" ]; then
  export GST_PLUGIN_PATH_1_0="$build/gst"
  export GST_REGISTRY_1_0="$build/demo-registry.bin"
fi
exec python3 "$here/demo.py" --server "$binary" --report-dir "$build/steady-rtsp-demo"
