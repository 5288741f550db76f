"""What leakwatch's final JSON report (schema: docs/leakwatch.md) says about a soak's server."""

import json
import os
import re


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


def objects_alive(audit_dir):
    """{type: count} of the objects leakwatch's final JSON report found alive at exit."""
    try:
        with open(os.path.join(audit_dir, "leakwatch.json")) as f:
            report = json.load(f)
    except (OSError, ValueError):
        return {"(no leakwatch report)": 1}
    return {g.get("type"): g.get("count", 0) for g in report.get("objects", [])}
