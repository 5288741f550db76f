# Sourced by the examples' demo.sh: . "$here/../common/demo-env.sh" EXAMPLE [BUILD_DIR]
# Sets $build (BUILD_DIR, default: the checkout's build) and $binary (the example's program,
# which must be built), and points GStreamer at this build's plugins unless the caller chose
# already.
example=$1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
build="$(cd "${2:-$root/build}" && pwd)"
binary="$build/tests/examples/$example/$example"
if [ ! -x "$binary" ]; then
  echo "$example is not built: run scripts/build.sh build first" >&2
  exit 1
fi
if [ -z "${GST_PLUGIN_PATH_1_0:-}${GST_PLUGIN_PATH:-}" ]; then
  export GST_PLUGIN_PATH_1_0="$build/gst"
  export GST_REGISTRY_1_0="$build/demo-registry.bin"
fi
