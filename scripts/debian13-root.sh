#!/usr/bin/env bash
# A Debian 13 (trixie, GStreamer 1.26, GCC 14) root made from Debian's own packages, with the
# package list of `scripts/deps.sh --list trixie` (without gstreamer1.0-vaapi: the 1.26 leg is
# also the run without gstreamer-vaapi; with chromium and nodejs for steady-webrtc's browser
# test, but not npm: Debian's npm brings ~340 node-* packages, which made the root twice as long
# to make, for one `npm ci` that scripts/test runs on the host into the shared tree instead).
# Needs root and Debian's package archive.
#
#   scripts/debian13-root.sh path          print where the root for today's package list lives
#   scripts/debian13-root.sh ensure        make it unless it exists; print its path
#   scripts/debian13-root.sh run CMD...    ensure, then run CMD (bash -c) inside it, in this
#                                          source tree (bind-mounted at /src), exit with its status
#   scripts/debian13-root.sh shell         an interactive shell inside it, at /src
#
# The root lives under ${STEADY_CACHE:-/var/cache/gst-steady}/debian13-<hash of the package
# list>, is reused while the list is unchanged and made afresh when it changes (debootstrap +
# apt; 24 minutes measured here under a load of about 20 from other jobs; with chromium and
# nodejs, 2026-12-02: 9 min 49 s, debootstrap 4 min 25 s + apt 5 min 21 s, load 9-16; with
# Debian's npm as well it had taken 19 min 48 s). /proc, /dev (with
# /dev/pts, /dev/shm), /sys and the source tree are mounted in a private mount namespace of the
# command (unshare), so they disappear with it, on failure too, and are never visible to other
# processes. Exit status 77 means the root could not be made
# (not root, no debootstrap, no archive): callers report that as skipped, with the reason
# printed on the line starting "debian13-root: cannot".
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cache=${STEADY_CACHE:-/var/cache/gst-steady}
mirror=${STEADY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=trixie
# Bump when the way the root is made changes (forces a new root like a package-list change).
layout=1

cannot() {
  echo "debian13-root: cannot make the Debian 13 root: $*" >&2
  exit 77
}

packages() {
  STEADY_VAAPI=no STEADY_BROWSER=yes "$src/scripts/deps.sh" --list "$suite" | grep -vx npm
}

# Sets $root to where the root for today's package list lives.
set_root_path() {
  local list hash
  list=$(packages) || cannot "scripts/deps.sh --list $suite failed"
  # (An older scripts/deps.sh has no --list: it would print nothing.)
  grep -qx 'libgstreamer1.0-dev' <<<"$list" ||
    cannot "scripts/deps.sh --list $suite printed no package list (scripts/deps.sh too old?)"
  hash=$(printf 'layout %s suite %s mirror %s\n%s\n' "$layout" "$suite" "$mirror" "$list" |
    sha256sum | cut -c1-12)
  root=$cache/debian13-$hash
}

# Runs "$@" in a private mount namespace with the system mounts of root $1 in place.
in_root() {
  local root=$1
  shift
  unshare --mount --propagation private -- bash -euc '
    root=$1 src=$2
    shift 2
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mkdir -p "$root/src"
    mount --bind "$src" "$root/src"
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      DEBIAN_FRONTEND=noninteractive "$@"
  ' in-root "$root" "$src" "$@"
}

make_root() {
  local partial=$root.partial
  case "$root" in /?*/debian13-????????????) ;; *) cannot "bad root path '$root'" ;; esac
  [ "$(id -u)" -eq 0 ] || cannot "needs root (debootstrap, chroot, mounts); run as root"
  command -v unshare >/dev/null || cannot "unshare (util-linux) is missing"
  if ! command -v debootstrap >/dev/null; then
    apt-get install -y -q debootstrap >/dev/null 2>&1 || cannot "debootstrap is missing and could not be installed"
  fi
  echo "debian13-root: making $root from $mirror (debootstrap $suite, then $(packages | wc -l) packages)" >&2
  # --one-file-system: never follow into anything still mounted in a leftover partial root.
  rm -rf --one-file-system "$partial"
  if ! debootstrap --variant=minbase "$suite" "$partial" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -5 "$cache/debootstrap.log" >&2
    rm -rf --one-file-system "$partial"
    cannot "debootstrap $suite from $mirror failed (log: $cache/debootstrap.log)"
  fi
  cp /etc/resolv.conf "$partial/etc/resolv.conf" 2>/dev/null || true
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
  chmod +x "$partial/usr/sbin/policy-rc.d"
  mapfile -t pkgs < <(packages)
  if ! in_root "$partial" bash -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
    apt "${pkgs[@]}" >"$cache/apt.log" 2>&1; then
    tail -5 "$cache/apt.log" >&2
    rm -rf --one-file-system "$partial"
    cannot "installing the packages in the root failed (log: $cache/apt.log)"
  fi
  packages >"$partial/etc/gst-steady-packages"
  mv "$partial" "$root"
  echo "debian13-root: ready: $root" >&2
  # Roots made for an older package list are never used again (about 1-2 GiB each).
  local old
  for old in "$cache"/debian13-????????????; do
    [ "$old" != "$root" ] && [ -f "$old/etc/gst-steady-packages" ] || continue
    echo "debian13-root: removing $old (made for another package list)" >&2
    rm -rf --one-file-system "$old"
  done
}

# Makes the root unless it exists.
ensure() {
  if [ ! -f "$root/etc/gst-steady-packages" ]; then
    [ "$(id -u)" -eq 0 ] || cannot "needs root (debootstrap, chroot, mounts); run as root"
    mkdir -p "$cache" || cannot "cannot create $cache"
    # One maker at a time; a second caller waits and then finds the root made.
    exec 9>"$cache/.debian13.lock"
    flock 9
    [ -f "$root/etc/gst-steady-packages" ] || make_root
    exec 9>&-
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
root=
set_root_path
case "$cmd" in
  path) echo "$root" ;;
  ensure)
    ensure
    echo "$root"
    ;;
  run)
    [ $# -gt 0 ] || {
      echo "usage: $0 run CMD..." >&2
      exit 2
    }
    ensure
    in_root "$root" bash -c "cd /src && $*"
    ;;
  shell)
    ensure
    in_root "$root" bash -c 'cd /src && exec bash -i'
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
