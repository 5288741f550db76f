#!/usr/bin/env bash
# steady-rtsp demo: runs the RTSP server under leakwatch for about half a minute with real
# ffmpeg clients (one slow, one frozen), then prints what each element did and where the
# leakwatch HTML report is.
#   tests/examples/steady-rtsp/demo.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../common/demo-env.sh" steady-rtsp "${1:-}"
for tool in ffmpeg python3; do
  command -v "$tool" >/dev/null || { echo "steady-rtsp demo needs $tool" >&2; exit 1; }
done
exec python3 "$here/demo.py" --server "$binary" --report-dir "$build/steady-rtsp-demo"
