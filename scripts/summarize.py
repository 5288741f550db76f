#!/usr/bin/env python3
"""Prints one 'N passed, N failed, N skipped' line from meson test logs.

Counts individual gst-check test cases where a test binary is a Check suite (its
'Checks: N, Failures: F, Errors: E' line), a whole meson test otherwise. A Check test
that printed 'STEADY-SKIP:' counts as skipped. A meson test that crashed or timed out
before Check could print its totals counts as one failure. Usage:
  summarize.py LABEL=BUILD_DIR/meson-logs/testlog.json ... [--failed-build LABEL ...]
"""
import json
import re
import sys

CHECK_TOTALS = re.compile(r"^\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)", re.M)
SKIP_MARK = re.compile(r"^STEADY-SKIP: ", re.M)


def summarize(path):
    passed = failed = skipped = 0
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            entry = json.loads(line)
            result = entry.get("result", "")
            output = (entry.get("stdout") or "") + (entry.get("stderr") or "")
            totals = CHECK_TOTALS.findall(output)
            if totals:
                checks = sum(int(t[0]) for t in totals)
                bad = sum(int(t[1]) + int(t[2]) for t in totals)
                skips = len(SKIP_MARK.findall(output))
                # A clean Check report followed by a crash (e.g. in gst_deinit) is still a failure.
                if bad == 0 and result not in ("OK", "EXPECTEDFAIL"):
                    bad = 1
                failed += bad
                skipped += min(skips, checks - min(bad, checks))
                passed += max(checks - bad - skips, 0)
            elif result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    return passed, failed, skipped


def main(argv):
    passed = failed = skipped = 0
    args = iter(argv)
    for arg in args:
        if arg == "--failed-build":
            label = next(args)
            print(f"{label}: build failed (counted as 1 failure)")
            failed += 1
            continue
        label, path = arg.split("=", 1)
        try:
            p, f, s = summarize(path)
        except FileNotFoundError:
            print(f"{label}: no test log at {path} (counted as 1 failure)")
            p, f, s = 0, 1, 0
        print(f"{label}: {p} passed, {f} failed, {s} skipped")
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
