#!/usr/bin/env bash
# steady-webrtc demo: the WebRTC streamer under leakwatch for about half a minute with real
# webrtcbin peers (one frozen, one storming keyframe requests), a line each for latency, peers,
# eviction, keyframes and leakwatch's verdict.
#   tests/examples/steady-webrtc/demo.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../common/demo-env.sh" steady-webrtc "${1:-}"
exec python3 "$here/demo.py" --server "$binary" --peer "$build/tests/examples/steady-webrtc/steady-webrtc-peer" \
  --report-dir "$build/steady-webrtc-demo"
