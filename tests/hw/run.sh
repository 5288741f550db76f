#!/usr/bin/env bash
# Runs the NVIDIA hardware tests from a bundle made by tests/hw/bundle.sh, on a host with an
# NVIDIA driver and no GStreamer (docs/testing-hw.md). Inside the bundle: src/tests/hw/run.sh.
#
#   BUNDLE/src/tests/hw/run.sh LOG_DIR [tests|bench|all]
# Writes LOG_DIR/host.txt (GPU, driver, glibc, devices, libraries), LOG_DIR/tests.log (the
# test program's output: "hw:" figure lines and the check results) and LOG_DIR/bench.log (NVML
# sampling overhead on the convert churn). Exit status: the test program's.
set -uo pipefail
bundle=$(cd "$(dirname "$0")/../../.." && pwd)
logs=$(mkdir -p "$1" && cd "$1" && pwd)
what=${2:-all}

# The bundle's GStreamer and libraries, nothing of the host's but glibc, the C++ runtime and
# the NVIDIA driver's libraries (libcuda, libnvcuvid, libnvidia-ml), which nvcodec and
# leakwatch dlopen.
export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GST_PLUGIN_SYSTEM_PATH_1_0="$bundle/plugins"
export GST_PLUGIN_PATH_1_0="$bundle/build/gst/leakwatch"
export GST_PLUGIN_SCANNER_1_0="$bundle/libexec/gst-plugin-scanner"
export GST_REGISTRY_1_0="${TMPDIR:-/tmp}/leakwatch-hw-registry-$$.bin"
export GST_STEADY_SOURCE_ROOT="$bundle/src"
export GST_STEADY_BUILD_ROOT="$bundle/build"
export LEAKWATCH_HW_H264="$bundle/clip.h264"
# As tests/check/meson.build runs every check test.
export GST_TRACERS=leaks GST_DEBUG=GST_TRACER:7 G_DEBUG=fatal-warnings CK_DEFAULT_TIMEOUT=1200

# GStreamer 1.22's cudaconvert asks NVRTC for compute_30/52, which CUDA 13's NVRTC refuses:
# with no older NVRTC on the host, go through tests/hw/nvrtc-arch-shim.cc.
nvrtc=$(ldconfig -p | awk '/libnvrtc\.so/ {print $NF}' | head -1)
[ -n "$nvrtc" ] || nvrtc=$(ls /usr/local/cuda/lib64/libnvrtc.so.* /usr/local/cuda*/lib64/libnvrtc.so.* \
  2>/dev/null | grep -v alt | head -1)
if [ -n "$nvrtc" ]; then
  major=$(basename "$(readlink -f "$nvrtc")" | sed -n 's/^libnvrtc\.so\.\([0-9]*\).*/\1/p')
  if [ "${major:-0}" -ge 13 ]; then
    export LEAKWATCH_HW_NVRTC="$nvrtc"
    export GST_CUDA_NVRTC_LIBNAME="$bundle/build/tests/hw/libnvrtc-arch-shim.so"
  else
    export GST_CUDA_NVRTC_LIBNAME="$nvrtc"
  fi
fi

{
  echo "== date: $(date -u)"
  echo "== uname: $(uname -a)"
  echo "== glibc: $(ldd --version 2>&1 | head -1)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  nvidia-smi
  echo "== devices:"; ls -l /dev/nvidia* 2>&1
  echo "== driver libraries:"; ldconfig -p | grep -E 'libcuda\.|nvcuvid|nvidia-ml|nvidia-encode|nvrtc'
  echo "== nvrtc: ${nvrtc:-none}; GST_CUDA_NVRTC_LIBNAME=${GST_CUDA_NVRTC_LIBNAME:-unset}"
  echo "== missing libraries of the bundle:"
  for f in "$bundle"/plugins/*.so "$bundle"/build/tests/hw/test-leakwatch-nvidia; do
    ldd "$f" | grep 'not found' | sed "s|^|$(basename "$f"): |"
  done
  echo "== gst-inspect-1.0 nvcodec:"
  GST_TRACERS= GST_DEBUG= "$bundle/bin/gst-inspect-1.0" nvcodec 2>&1 | head -60
} >"$logs/host.txt" 2>&1

status=0
if [ "$what" = all ] || [ "$what" = tests ]; then
  (cd "$logs" && "$bundle/build/tests/hw/test-leakwatch-nvidia") >"$logs/tests.log" 2>&1
  status=$?
  echo "tests: exit $status"
  grep -E '^hw: |STEADY-SKIP|Checks|Failure|Error' "$logs/tests.log" | grep -v 'summary:' | head -80
fi

# NVML sampling overhead: the same convert churn without leakwatch (the anchor), with
# leakwatch sampling every 1 s and every 100 ms, and every 100 ms without NVML; each twice,
# alternating. Then the cost of one NVML query.
if [ "$what" = all ] || [ "$what" = bench ]; then
  helper="$bundle/build/tests/hw/leakwatch-nvidia-helper"
  n=${LEAKWATCH_HW_BENCH_SESSIONS:-50}
  {
    for round in 1 2; do
      for t in "" "leakwatch(interval=1,summary=false)" "leakwatch(interval=0.1,summary=false)" \
        "leakwatch(interval=0.1,nvml=false,summary=false)"; do
        echo "bench: round $round tracers '${t:-none}': $(GST_TRACERS="$t" G_DEBUG= LEAKWATCH_HW_SAMPLE_EACH=0 "$helper" convert "$n" 2>&1 | tail -1)"
      done
    done
    GST_TRACERS= "$helper" nvml-cost 1000
  } >"$logs/bench.log" 2>&1
  cat "$logs/bench.log"
fi
exit $status
