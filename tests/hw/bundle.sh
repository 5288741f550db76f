#!/usr/bin/env bash
# Collects what the NVIDIA hardware tests need into one folder, to run them on a machine with
# an NVIDIA GPU and no GStreamer (docs/testing-hw.md):
#   - our leakwatch plugin, the hardware test program, its helper and the NVRTC shim (BUILD);
#   - Debian 12's GStreamer 1.22 runtime: the plugins the tests use (core elements,
#     videotestsrc, h264parse, nvcodec) and every library they and our programs load, except
#     glibc and the C++ runtime (the host's are newer), fetched with `apt-get download` and
#     unpacked with `dpkg -x` into a scratch folder (never over /), then only the needed
#     files copied, stripped;
#   - a short H.264 clip made here with x264enc (the GPU host has no encoder to make one);
#   - tests/hw/run.sh and tests/hw/report-series.py.
#
#   tests/hw/bundle.sh BUILD_DIR OUT_DIR
# Needs apt-get (Debian 12) and gst-launch-1.0 with x264enc here. Prints the bundle's size;
# fails when it is over 64 MiB.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
out=$2
limit_mib=64

rm -rf "$out"
mkdir -p "$out"/{lib,plugins,libexec,bin,build/gst/leakwatch,build/tests/hw,src/tests/hw}
out=$(cd "$out" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Ours.
cp "$build"/gst/leakwatch/libgstleakwatch.so "$out"/build/gst/leakwatch/
cp "$build"/tests/hw/test-leakwatch-nvidia "$build"/tests/hw/leakwatch-nvidia-helper \
  "$build"/tests/hw/libnvrtc-arch-shim.so "$out"/build/tests/hw/
cp "$src"/tests/hw/run.sh "$src"/tests/hw/report-series.py "$out"/src/tests/hw/

# GStreamer's own programs and plugins the tests use, as installed here (Debian 12).
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
gst_plugins=/usr/lib/$arch/gstreamer-1.0
plugins=(coreelements coretracers videotestsrc videoparsersbad nvcodec)
elves=("$out"/build/gst/leakwatch/*.so "$out"/build/tests/hw/*
  /usr/lib/$arch/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner /usr/bin/gst-inspect-1.0)
for p in "${plugins[@]}"; do elves+=("$gst_plugins/libgst$p.so"); done

# Every library they load, resolved here; glibc and the C++ runtime stay the host's.
skip='^(libc|libm|libdl|librt|libpthread|libresolv|libutil|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so'
libs=$(for e in "${elves[@]}"; do
  LD_LIBRARY_PATH="$build/gst/leakwatch" ldd "$e" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u)
files=()
for l in $libs; do
  base=$(basename "$l")
  [[ $base =~ $skip ]] && continue
  [[ $l == "$build"/* ]] && continue
  files+=("$(readlink -f "$l")")
done
files+=("${elves[@]:${#elves[@]}-$((2 + ${#plugins[@]}))}")

# The Debian packages that ship them.
owner() {  # path -> package (usrmerge: dpkg may know /lib/... or /usr/lib/...)
  dpkg -S "$1" 2>/dev/null || dpkg -S "${1#/usr}" 2>/dev/null || true
}
pkgs=$(for f in "${files[@]}"; do owner "$f" | head -1 | cut -d: -f1; done | sort -u)
echo "bundle: packages: $(echo $pkgs)"
(cd "$scratch" && apt-get download $pkgs >/dev/null)
mkdir "$scratch/root"
for d in "$scratch"/*.deb; do dpkg -x "$d" "$scratch/root"; done

# Copy each needed file from the unpacked packages (never from this machine's /), under the
# soname the loader asks for.
take() {  # file-as-installed-here dest-dir [name]
  local rel=${1#/}
  local from="$scratch/root/$rel"
  [ -e "$from" ] || from="$scratch/root/usr/$rel"
  [ -e "$from" ] || from="$scratch/root/${rel#usr/}"
  [ -e "$from" ] || { echo "bundle: $1 not in the packages" >&2; exit 1; }
  cp -L "$from" "$2/${3:-$(basename "$1")}"
}
for l in $libs; do
  base=$(basename "$l")
  [[ $base =~ $skip ]] && continue
  [[ $l == "$build"/* ]] && continue
  take "$(readlink -f "$l")" "$out/lib" "$base"
done
for p in "${plugins[@]}"; do take "$gst_plugins/libgst$p.so" "$out/plugins"; done
take /usr/lib/$arch/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner "$out/libexec"
take /usr/bin/gst-inspect-1.0 "$out/bin"
strip --strip-unneeded "$out"/lib/* "$out"/plugins/* "$out"/build/gst/leakwatch/*.so \
  "$out"/build/tests/hw/* 2>/dev/null || true
ls "$scratch"/*.deb | xargs -n1 basename >"$out/PACKAGES"

# The clip for the decode tests: 30 frames of 640x480 H.264 main profile, a keyframe every 10.
gst-launch-1.0 -q videotestsrc num-buffers=30 ! video/x-raw,width=640,height=480,framerate=30/1 \
  ! x264enc key-int-max=10 ! video/x-h264,profile=main,stream-format=byte-stream ! filesink location="$out/clip.h264"

size_kib=$(du -sk "$out" | cut -f1)
echo "bundle: $out: $((size_kib / 1024)) MiB ($(ls "$out/lib" | wc -l) libraries, $(wc -l <"$out/PACKAGES") packages)"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "bundle: over $limit_mib MiB" >&2
  exit 1
fi
