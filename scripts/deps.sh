#!/usr/bin/env bash
# Installs the Debian packages gst-steady needs (as root), or names the missing ones.
# Debian 12 (bookworm, GStreamer 1.22) and Debian 13 (trixie, GStreamer 1.26).
#   scripts/deps.sh                       install what this machine's release needs
#   scripts/deps.sh --list [RELEASE]      print the package list (one per line), install nothing
# STEADY_VAAPI=no leaves gstreamer1.0-vaapi out (it is optional: rank NONE in 1.26, removed
# upstream in 1.28; vapoolenc uses the `va` plugin first).
set -euo pipefail

release_of_machine() {
  (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-unknown}")
}

# The package list for one release, one name per line.
package_list() {
  local release=$1
  local common=(
    meson ninja-build pkg-config g++ python3 clang-format
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
    libgstrtspserver-1.0-dev libva-dev libdrm-dev
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
    gstreamer1.0-rtsp ffmpeg prometheus
    gstreamer1.0-nice libsoup-3.0-dev libjson-glib-dev
  )
  case "$release" in
    bookworm | trixie) ;;
    *)
      echo "scripts/deps.sh: release '$release' is not one this project knows" \
        "(bookworm or trixie); trying the trixie list" >&2
      ;;
  esac
  printf '%s\n' "${common[@]}"
  # The browser test of steady-webrtc (Chromium driven by puppeteer-core from npm), in both
  # legs (the Debian 13 root has them too); STEADY_BROWSER=no leaves it out. The list is the
  # release's, whatever this machine has: the root's hash is made from it.
  if [ "${STEADY_BROWSER:-yes}" != "no" ]; then
    printf '%s\n' chromium nodejs npm
  fi
  # gstreamer1.0-vaapi: packaged in both releases (1.22.x, 1.26.x); gone upstream in 1.28.
  if [ "${STEADY_VAAPI:-yes}" != "no" ]; then
    echo gstreamer1.0-vaapi
  fi
}

if [ "${1:-}" = "--list" ]; then
  package_list "${2:-$(release_of_machine)}"
  exit 0
fi

mapfile -t packages < <(package_list "$(release_of_machine)")
# Node.js from another archive (e.g. NodeSource's nodejs, which bundles npm and conflicts with
# Debian's npm) is taken as it is on this machine.
if command -v npm >/dev/null 2>&1; then
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | grep -vx -e nodejs -e npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "gst-steady needs these Debian packages, which are not installed:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (prometheus) must not start it: the tests start their own servers on
# loopback. policy-rc.d refuses service starts for the duration of the install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
