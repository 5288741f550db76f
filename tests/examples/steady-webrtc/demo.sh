#!/usr/bin/env bash
# steady-webrtc demo: the WebRTC streamer under leakwatch for about half a minute with real
# webrtcbin peers (one frozen, one storming keyframe requests), a line each for latency, peers,
# eviction, keyframes and leakwatch's verdict.
#   tests/examples/steady-webrtc/demo.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
binary="$build/tests/examples/steady-webrtc/steady-webrtc"
if [ ! -x "$binary" ]; then
  echo "steady-webrtc is not built: run scripts/build.sh build first" >&2
  exit 1
fi
if [ -z "${GST_PLUGIN_PATH_1_0:-}${GST_PLUGIN_PATH:-}" ]; then
  export GST_PLUGIN_PATH_1_0="$build/gst"
  export GST_REGISTRY_1_0="$build/demo-registry.bin"
fi
exec python3 "$here/demo.py" --server "$binary" --peer "$build/tests/examples/steady-webrtc/steady-webrtc-peer" \
  --report-dir "$build/steady-webrtc-demo"
