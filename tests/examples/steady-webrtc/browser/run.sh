#!/bin/sh
# Runs browser_test.mjs, installing puppeteer-core from the committed lock file into the
# (ignored) node_modules first. No browser is downloaded: the test drives /usr/bin/chromium.
# Exit 77 (skipped) when node, npm or chromium is missing or the install fails.
cd "$(dirname "$0")" || exit 2
for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "browser test: SKIP: $tool not installed"; exit 77; }
done
if [ ! -d node_modules/puppeteer-core ]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error ||
    { echo "browser test: SKIP: npm ci failed (no registry access?)"; exit 77; }
fi
exec node browser_test.mjs "$@"
