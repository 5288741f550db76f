"""Reading a soak's results: leakwatch's JSON report and the side-by-side table."""

import json
import os
import re

from soak_processes import log


POOLED_ENCODER = re.compile(r"^Gst\w*(H264|H265|VP8|VP9|AV1)\w*Enc$|^Gst(X264|X265|Openh264)Enc$")


def outlived_by_pooled_encoder(line):
    """A leakwatch 'objects outlived it' line naming only an encoder and its two pads: the
    encoder session vapoolenc parked for reuse, alive by design after its first pipeline."""
    names = line.split("outlived it:", 1)[1].split(",")
    types = [n.strip().split(" ", 1)[0] for n in names]
    pads = [t for t in types if t == "GstPad"]
    others = [t for t in types if t != "GstPad"]
    return len(pads) <= 2 and len(others) == 1 and POOLED_ENCODER.match(others[0]) is not None


def leakwatch_findings(audit_dir, server_log):
    """What leakwatch's final JSON report (schema: docs/leakwatch.md) says, or None."""
    path = os.path.join(audit_dir, "leakwatch.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        report = json.load(f)
    # The JSON counts a pipeline's orphans; the stderr summary names them.
    with open(server_log) as f:
        outlived = [line.strip() for line in f if "outlived it:" in line]
    pooled = [line for line in outlived if outlived_by_pooled_encoder(line)]
    not_ok = [p for p in report.get("pipelines", []) if p.get("verdict") != "ok"]
    unexplained = [f"{p.get('name')}: {p.get('verdict')}" for p in not_ok]
    # Drop one 'objects-outlived-pipeline' verdict per summary line explained by the pool.
    for _ in pooled:
        for i, text in enumerate(unexplained):
            if text.endswith("objects-outlived-pipeline"):
                del unexplained[i]
                break
    return {
        "final": report.get("final", False),
        "verdict": report.get("verdict", "?"),
        "objects": sum(group.get("count", 0) for group in report.get("objects", [])),
        "object_types": [group.get("type") for group in report.get("objects", [])][:5],
        "pipelines_seen": len(report.get("pipelines", [])),
        "pipelines": unexplained,
        "pooled_outlived": len(pooled),
        "alerts": sorted({a.get("metric") for a in report.get("alerts", [])}),
        "html": os.path.join(audit_dir, "leakwatch.html"),
    }


def print_side_by_side(results):
    names = [r.variant for r in results]
    rows = [
        ("cycles (clients)", lambda r: f"{r.clients} ({r.killed} killed)"),
        ("clean decodes", lambda r: f"{r.clean}/{r.clients - r.killed}"),
        ("clients with decode errors", lambda r: str(r.decode_error_clients)),
        ("normal fps next to throttled", lambda r: " / ".join(f"{x:.1f}" for x in
                                                               r.throttle_rates)),
        ("stalled client evicted after", lambda r: "never" if r.evicted_after is None
         else f"{r.evicted_after:.1f} s"),
        ("fds after warm-up -> end", lambda r: f"{sum(r.before['fds'].values())} -> "
         f"{sum(r.after['fds'].values())}"),
        ("threads after warm-up -> end", lambda r: f"{sum(r.before['threads'].values())} -> "
         f"{sum(r.after['threads'].values())}"),
        ("RSS MiB after warm-up -> end", lambda r: f"{r.before['rss'] / 2**20:.1f} -> "
         f"{r.after['rss'] / 2**20:.1f}"),
        ("RSS slope, 2nd half (MiB/min)", lambda r: f"{r.rss_slope_mib_per_min:+.2f}"),
        ("media freed/created", lambda r: f"{r.final.get('media-freed')}/"
         f"{r.final.get('media-created')}"),
        ("/transcode encoder reuse", lambda r: f"{r.reuse:.2f}"),
        ("server CPU s (churn)", lambda r: f"{r.cpu_s:.1f}"),
        ("wall s", lambda r: f"{r.wall_s:.0f}"),
        ("checks passed", lambda r: f"{sum(ok for _, ok, _ in r.checks)}/{len(r.checks)}"),
    ]
    width = max(len(label) for label, _ in rows) + 2
    log("")
    log("".ljust(width) + "".join(n.ljust(26) for n in names))
    for label, fn in rows:
        log(label.ljust(width) + "".join(fn(r).ljust(26) for r in results))
