#!/usr/bin/env python3
"""Prints a leakwatch JSON report's series and alerts as plain lines for the hardware tests.

    report-series.py REPORT

Output, one item per line:
    samples N
    series METRIC V0 V1 ... (one value per sample, 'nan' where absent)
    alert METRIC SAMPLE_INDEX (index of the sample that raised it)
Only the metrics the tests judge are printed: nvml, fds/total, fds/nvidia, threads/*.
"""
import json
import sys

d = json.load(open(sys.argv[1]))
t = d["samples"]["t_s"]
print("samples", len(t))
for metric, values in sorted(d["samples"]["series"].items()):
    if metric in ("nvml", "fds/total", "fds/nvidia") or metric.startswith("threads/"):
        print("series", metric, " ".join("nan" if v is None else repr(float(v)) for v in values))
for a in d["alerts"]:
    index = min(range(len(t)), key=lambda i: abs(t[i] - a["t_s"])) if t else -1
    print("alert", a["metric"], index)
