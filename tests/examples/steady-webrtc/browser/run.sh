#!/bin/sh
# Runs browser_test.mjs, installing puppeteer-core from the committed lock file into the
# (ignored) node_modules first. No browser is downloaded: the test drives /usr/bin/chromium.
#   run.sh --install-only    install (when needed) and exit: 0 ready, 77 cannot
#   run.sh ARGS...           install when needed, then node browser_test.mjs ARGS...
# `npm ci` runs whenever node_modules is not the completed install of the lock file committed
# now: a copy of the lock file is written into node_modules last, after a successful install,
# so an interrupted install or a changed lock file is redone. The same node_modules serves both
# of scripts/test's legs (puppeteer-core is plain JavaScript): the Debian 13 root sees this tree
# at /src and has node but no npm, so scripts/test installs on the host before entering it.
# Exit 77 (skipped) when node, npm (for an install) or chromium is missing or the install fails.
cd "$(dirname "$0")" || exit 2
stamp=node_modules/.steady-installed-lock.json
if ! cmp -s package-lock.json "$stamp"; then
  command -v npm >/dev/null 2>&1 || {
    echo "browser test: SKIP: npm not installed, and node_modules is not installed from" \
      "package-lock.json (install it where npm is: $(pwd)/run.sh --install-only)"
    exit 77
  }
  echo "browser test: npm ci (puppeteer-core from package-lock.json), npm $(npm --version)"
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error ||
    { echo "browser test: SKIP: npm ci failed (no registry access?)"; exit 77; }
  cp package-lock.json "$stamp"
fi
[ "${1:-}" = "--install-only" ] && exit 0
command -v node >/dev/null 2>&1 || { echo "browser test: SKIP: node not installed"; exit 77; }
exec node browser_test.mjs "$@"
