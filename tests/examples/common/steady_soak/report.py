"""A soak's result per variant, the side-by-side table, the verdict lines, and which variants
run. Only the steady variant is held to its checks; the baseline is the comparison."""

import json
import os

from .plugins import have_steady_elements
from .text import log


class SoakResult:
    """One variant's run. The soak sets before/after (/proc snapshots), rss_slope_mib_per_min,
    cpu_s, wall_s and leakwatch (leakwatch.leakwatch_findings or None) as it goes."""

    def __init__(self, variant):
        self.variant = variant
        self.checks = []  # (name, ok, detail)
        self.leakwatch = None

    def check(self, name, ok, detail):
        self.checks.append((name, bool(ok), detail))


def process_rows():
    """Table rows for what /proc saw: descriptors, threads and RSS, warm-up to end."""
    return [
        ("fds after warm-up -> end", lambda r: f"{sum(r.before['fds'].values())} -> "
         f"{sum(r.after['fds'].values())}"),
        ("threads after warm-up -> end", lambda r: f"{sum(r.before['threads'].values())} -> "
         f"{sum(r.after['threads'].values())}"),
        ("RSS MiB after warm-up -> end", lambda r: f"{r.before['rss'] / 2**20:.1f} -> "
         f"{r.after['rss'] / 2**20:.1f}"),
        ("RSS slope, 2nd half (MiB/min)", lambda r: f"{r.rss_slope_mib_per_min:+.2f}"),
    ]


def closing_rows():
    """The table's last rows: the server's CPU time, the wall time, the checks passed."""
    return [
        ("server CPU s (churn)", lambda r: f"{r.cpu_s:.1f}"),
        ("wall s", lambda r: f"{r.wall_s:.0f}"),
        ("checks passed", lambda r: f"{sum(ok for _, ok, _ in r.checks)}/{len(r.checks)}"),
    ]


def print_side_by_side(results, rows, column):
    """rows: (label, function of a result giving its cell); one column of `column` characters a
    variant."""
    width = max(len(label) for label, _ in rows) + 2
    log("")
    log("".ljust(width) + "".join(r.variant.ljust(column) for r in results))
    for label, fn in rows:
        log(label.ljust(width) + "".join(fn(r).ljust(column) for r in results))


def conclude(results, skipped, report_dir, fields):
    """Prints a line a check (PASS/FAIL for steady, ok/no for the others) and writes
    report_dir/summary.json: each variant's checks, /proc before and after, RSS slope, final line
    and fields(result). Returns the exit status: 1 when a steady check failed, else 77 when
    steady was skipped, else 0."""
    failed = False
    for r in results:
        log(f"\n{r.variant}:")
        for name, ok, detail in r.checks:
            asserted = r.variant == "steady"
            mark = ("PASS" if ok else "FAIL") if asserted else ("ok  " if ok else "no  ")
            log(f"  {mark} {name}: {detail}")
            failed |= asserted and not ok
        if r.leakwatch is not None:
            log(f"  leakwatch HTML report: {r.leakwatch['html']}")
    with open(os.path.join(report_dir, "summary.json"), "w") as f:
        json.dump([{"variant": r.variant, "checks": r.checks, **fields(r), "before": r.before,
                    "after": r.after, "rss_slope_mib_per_min": r.rss_slope_mib_per_min,
                    "final": r.final} for r in results], f, indent=2)
    if failed:
        return 1
    return 77 if skipped else 0


def select_variants(names):
    """(variants, skipped) from a comma-separated list; steady is left out, and skipped True,
    when gst-steady's elements are not built."""
    variants = [v for v in names.split(",") if v]
    skipped = False
    if "steady" in variants and not have_steady_elements():
        log("SKIP steady: boundedqueue, sharedframetee or vapoolenc not built; baseline only")
        variants.remove("steady")
        skipped = True
    return variants, skipped
