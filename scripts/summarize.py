#!/usr/bin/env python3
"""Prints one 'N passed, N failed, N skipped' line from meson test logs.

Counts individual gst-check test cases where a test binary is a Check suite (its
'Checks: N, Failures: F, Errors: E' line), a whole meson test otherwise. A Check test
that printed 'STEADY-SKIP:' counts as skipped. A meson test that crashed or timed out
before Check could print its totals counts as one failure. Each
--leg NAME starts a group (one release) whose total is printed above its parts. Usage:
  summarize.py [--leg NAME] LABEL=BUILD_DIR/meson-logs/testlog.json ...
               [--failed-build LABEL] [--skipped LABEL REASON] [--leg NAME ...]
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
    total = [0, 0, 0]  # passed, failed, skipped
    legs = []  # [name, [passed, failed, skipped], [lines]]

    def leg():
        if not legs:
            legs.append(["", [0, 0, 0], []])
        return legs[-1]

    def count(line, p, f, s):
        current = leg()
        current[2].append(line)
        for i, n in enumerate((p, f, s)):
            current[1][i] += n
            total[i] += n

    args = iter(argv)
    for arg in args:
        if arg == "--leg":
            legs.append([next(args), [0, 0, 0], []])
            continue
        if arg == "--failed-build":
            label = next(args)
            count(f"{label}: build failed (counted as 1 failure)", 0, 1, 0)
            continue
        if arg == "--skipped":
            label, reason = next(args), next(args)
            count(f"{label}: skipped: {reason} (counted as 1 skipped)", 0, 0, 1)
            continue
        label, path = arg.split("=", 1)
        try:
            p, f, s = summarize(path)
        except FileNotFoundError:
            count(f"{label}: no test log at {path} (counted as 1 failure)", 0, 1, 0)
            continue
        count(f"{label}: {p} passed, {f} failed, {s} skipped", p, f, s)
    for name, (p, f, s), lines in legs:
        if name:
            print(f"{name}: {p} passed, {f} failed, {s} skipped")
        for line in lines:
            print(("  " if name else "") + line)
    passed, failed, skipped = total
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
