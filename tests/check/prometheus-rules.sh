#!/bin/sh
# Checks docs/prometheus/leakwatch-rules.yml and runs its unit tests on synthetic series.
#   prometheus-rules.sh SOURCE_ROOT
dir="$1/docs/prometheus"
if ! command -v promtool >/dev/null 2>&1; then
  echo "STEADY-SKIP: prometheus-rules: promtool not installed (Debian package prometheus)"
  exit 0
fi
promtool check rules "$dir/leakwatch-rules.yml" && promtool test rules "$dir/leakwatch-rules.test.yml"
