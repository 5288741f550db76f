#!/bin/sh
# Runs browser_test.mjs, installing puppeteer-core from the committed lock file into the
# (ignored) node_modules first. No browser is downloaded: the test drives /usr/bin/chromium.
# The same node_modules serves both legs (the Debian 13 root sees this tree at /src;
# puppeteer-core is plain JavaScript): whichever leg runs first installs it, so a fresh clone
# running only `scripts/test --debian13` installs it from inside the root. `npm ci` runs again
# whenever node_modules is not the completed install of the lock file committed now (a copy of
# the lock file is written into node_modules last, after a successful install: an interrupted
# install or a changed lock file is redone).
# Exit 77 (skipped) when node, npm or chromium is missing or the install fails.
cd "$(dirname "$0")" || exit 2
for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "browser test: SKIP: $tool not installed"; exit 77; }
done
stamp=node_modules/.steady-installed-lock.json
if ! cmp -s package-lock.json "$stamp"; then
  echo "browser test: npm ci (puppeteer-core from package-lock.json) with npm $(npm --version)"
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error ||
    { echo "browser test: SKIP: npm ci failed (no registry access?)"; exit 77; }
  cp package-lock.json "$stamp"
fi
exec node browser_test.mjs "$@"
