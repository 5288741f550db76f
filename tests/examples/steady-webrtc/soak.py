#!/usr/bin/env python3
"""Churn soak of steady-webrtc with real WebRTC receivers.

Starts steady-webrtc on a free loopback port and churns it with steady-webrtc-peer processes
(each a webrtcbin receiver that decodes the video and reads back the timestamp and frame number
painted into every frame), --concurrency at a time, each staying a couple of seconds; one session
in 15 is killed with SIGKILL mid-stream. Halfway it runs three normal peers beside a frozen one
(SIGSTOP: it stops answering anything) and one storming keyframe requests (PLI every 10 ms), and
measures what the normal peers received meanwhile. Then it checks:

  * every peer that was not killed decoded cleanly: frames > 0, every stamp read back, no
    decoder error;
  * the normal peers received >= 90% of the source's frames beside the frozen and the storming
    peer (frame numbers shown over frame numbers gone by: a ratio, independent of machine load);
  * the frozen peer was removed (signalling timeout);
  * during the storm the gate passed at most one keyframe request per keyframe-min-interval
    to the encoder, which made at most 1000/keyframe-min-interval + 1.5 keyframes a second
    (the baseline passes every request through);
  * after the churn, once every peer is gone: descriptors by class and threads by name class
    back where they were after warm-up, RSS slope over the second half within tolerance;
  * every peer bin and webrtcbin the server created was freed, the server exits 0;
  * leakwatch's final report is clean (with --audit, the default when leakwatch is built).

The same run is done against --baseline (tee, queue 20 buffers/500 ms, webrtcbin per peer,
a plain encoder) and both are printed side by side; only steady is asserted.
Exit status: 0 pass, 1 fail, 77 skipped (steady elements not built).

  soak.py --server .../steady-webrtc --peer .../steady-webrtc-peer                # 300 sessions
  soak.py --server ... --peer ... --sessions 1000 --baseline-sessions 1000 --report-dir /tmp/s
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from steady_soak.compare import fd_growth, rss_detail, thread_growth  # noqa: E402
from steady_soak.leakwatch import leakwatch_findings, objects_alive  # noqa: E402
from steady_soak.plugins import have_leakwatch  # noqa: E402
from steady_soak.proc import RssSampler, proc_snapshot, settled_snapshot  # noqa: E402
from steady_soak.report import (SoakResult, closing_rows, conclude,  # noqa: E402
                                print_side_by_side as print_table, process_rows,
                                select_variants)
from steady_soak.stats import median  # noqa: E402
from steady_soak.text import log  # noqa: E402
from soak_peers import FPS, Peer, Server  # noqa: E402


class Result(SoakResult):
    def __init__(self, variant):
        super().__init__(variant)
        self.sessions = self.killed = self.clean = 0
        self.failures = []
        self.phase = {}
        self.latencies = []  # per peer: glass-to-glass p50, p95, p99 (ms) after decoding

    def latency_summary(self):
        """Median over peers of each peer's p50, p95 and p99."""
        if not self.latencies:
            return "-"
        return "/".join(str(median(x[i] for x in self.latencies)) for i in range(3))

    def record(self, peer):
        self.sessions += 1
        if peer.killed:
            self.killed += 1
            return
        lat = [int(peer.final.get(f"lat-p{q}-ms", -1)) for q in (50, 95, 99)]
        if min(lat) >= 0:
            self.latencies.append(lat)
        if peer.clean():
            self.clean += 1
        elif len(self.failures) < 6:
            self.failures.append(peer.describe())


def churn(server, sessions, args, result, first_index=0):
    """`sessions` peer sessions, args.concurrency at a time, rolling."""
    active, started, index = [], 0, first_index
    while started < sessions or active:
        while started < sessions and len(active) < args.concurrency:
            peer = Peer(args.peer, server.ws_url, seconds=args.peer_seconds)
            # One in 15 is killed (SIGKILL) once it has shown frames for a while.
            peer.victim = index % 15 == 7
            active.append(peer)
            started += 1
            index += 1
        time.sleep(0.1)
        for peer in list(active):
            if peer.victim and not peer.killed and peer.frames >= FPS // 2:
                peer.kill()
            if peer.proc.poll() is not None or time.monotonic() - peer.started > 60:
                peer.wait(10)
                result.record(peer)
                active.remove(peer)
                if getattr(args, "progress", False) and result.sessions % 50 == 0:
                    s = server.last_status()
                    log(f"  [{server.variant}] {result.sessions} sessions, rss-mib="
                        f"{s.get('rss-mib')} fds={s.get('fds')} threads={s.get('threads')}")
    return index


def storm_phase(server, args, result):
    """Three normal peers beside a frozen one and one sending PLI every 10 ms."""
    normal = [Peer(args.peer, server.ws_url) for _ in range(3)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(p.frames > 0 for p in normal):
        time.sleep(0.1)
    time.sleep(1.0)
    ref0 = time.monotonic()
    time.sleep(args.window_seconds)
    ref1 = time.monotonic()
    frozen = Peer(args.peer, server.ws_url)
    storm = Peer(args.peer, server.ws_url, pli_every_ms=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (frozen.frames > 0 and storm.frames > 0):
        time.sleep(0.1)
    frozen.proc.send_signal(signal.SIGSTOP)  # stops answering: signalling and media
    frozen_at = time.monotonic()
    w0 = time.monotonic() + 0.5
    time.sleep(args.window_seconds + 0.5)
    w1 = time.monotonic()
    before = [p.window(ref0, ref1) for p in normal]
    during = [p.window(w0, w1) for p in normal]
    pattern = rf"peer {frozen.id} removed: timeout"
    line = server.wait_for(pattern, args.peer_timeout + 10, frozen_at)
    removed_after = server.first_line_time(pattern, frozen_at)
    st_before = server.statuses_between(ref0, ref1)
    st_during = server.statuses_between(w0, w1)
    frozen.proc.send_signal(signal.SIGCONT)
    for p in normal + [storm]:
        p.interrupt()
    frozen.kill()
    for p in normal + [storm, frozen]:
        p.wait(30)
    for p in normal + [storm]:
        result.record(p)

    def mean(statuses, key):
        values = [float(s[key]) for s in statuses if key in s]
        return sum(values) / len(values) if values else 0.0

    result.phase = {
        "normal_fps_before": [round(f, 1) for f, _ in before],
        "normal_fps_during": [round(f, 1) for f, _ in during],
        "normal_delivered_before": [round(d, 3) for _, d in before],
        "normal_delivered_during": [round(d, 3) for _, d in during],
        "frozen_removed_after_s": None if line is None else round(removed_after - frozen_at, 1),
        "keyframes_per_s_before": round(mean(st_before, "keyframes-per-s"), 2),
        "keyframes_per_s_storm": round(mean(st_during, "keyframes-per-s"), 2),
        "enc_kbps_before": round(mean(st_before, "enc-kbps")),
        "enc_kbps_storm": round(mean(st_during, "enc-kbps")),
        "storm_pli_sent": int(storm.final.get("pli-sent", 0)),
    }
    # Keyframe requests that reached the server and those its gate passed to the encoder, over
    # the storm window (cumulative counters of the first and last status line inside it).
    if len(st_during) >= 2:
        a, b = st_during[0], st_during[-1]
        span = float(b["t"]) - float(a["t"])
        result.phase["storm_span_s"] = round(span, 1)
        result.phase["kf_requests_storm"] = int(b["kf-requests"]) - int(a["kf-requests"])
        result.phase["kf_forwarded_storm"] = int(b["kf-forwarded"]) - int(a["kf-forwarded"])


def run_variant(variant, sessions, args):
    result = Result(variant)
    log(f"== {variant}: starting steady-webrtc, {sessions} sessions")
    server = Server(args.server, variant, args, args.report_dir)
    log(f"   listening on port {server.port}; log {server.log_path}")
    started = time.monotonic()
    try:
        index = churn(server, args.warmup, args, Result("warmup"))
        drained_warm = server.wait_drained(args.peer_timeout + 20)
        before = proc_snapshot(server.proc.pid)
        sampler = RssSampler(server.proc)
        half = sessions // 2
        index = churn(server, half, args, result, index)
        log(f"   [{variant}] {result.sessions} sessions; frozen + PLI-storm phase")
        storm_phase(server, args, result)
        churn(server, sessions - half - 5, args, result, index)
        drained = server.wait_drained(args.peer_timeout + 30)
        sampler.stop()
        after, settle_s = settled_snapshot(server.proc.pid, before, SETTLE_S)
        status = server.last_status()
    finally:
        rc, final = server.stop()
    result.wall_s = time.monotonic() - started
    result.before, result.after, result.final, result.rc = before, after, final, rc
    result.rss_slope_mib_per_min = sampler.slope_mib_per_min()
    result.cpu_s = after["cpu_s"] - before["cpu_s"]
    result.leakwatch = (leakwatch_findings(server.audit_dir, server.log_path) if args.audit
                        else None)
    ph = result.phase

    result.check("drained after warm-up and at the end (no peer, bin or webrtcbin alive)",
                 drained_warm and drained,
                 " ".join(f"{k}={status.get(k)}" for k in ("peers", "bins-alive",
                                                          "webrtcbins-alive")))
    result.check("peers decoded cleanly (every stamp read back, no decoder error)",
                 result.clean == result.sessions - result.killed,
                 f"{result.clean}/{result.sessions - result.killed}; " + "; ".join(result.failures))
    result.check("normal peers got >= 90% of the frames beside a frozen and a PLI-storming peer",
                 ph and min(ph["normal_delivered_during"]) >= 0.9,
                 f"delivered {ph.get('normal_delivered_during')} (before: "
                 f"{ph.get('normal_delivered_before')}); fps {ph.get('normal_fps_during')} "
                 f"(before: {ph.get('normal_fps_before')})")
    result.check("frozen peer removed", ph.get("frozen_removed_after_s") is not None,
                 f"after {ph.get('frozen_removed_after_s')} s (peer timeout {args.peer_timeout} s)")
    span = ph.get("storm_span_s", 0)
    allowed = int(span * 1000 / args.keyframe_min_ms) + 1 if args.keyframe_min_ms else None
    forwarded = ph.get("kf_forwarded_storm")
    result.check("keyframe requests coalesced during the storm (the gate's bound)",
                 variant != "steady" or (forwarded is not None and forwarded <= allowed),
                 f"{ph.get('kf_requests_storm')} requests reached the server in {span} s, "
                 f"{forwarded} passed to the encoder (at most {allowed})"
                 if variant == "steady" else
                 f"{ph.get('kf_requests_storm')} requests in {span} s, all passed to the encoder")
    # The encoder's own keyframes (one per key-int-max, 2 s) and sharedframetee's requests for a
    # joining branch (at most one a second, not through the gate) come on top of the gate's.
    kf_limit = 1000.0 / args.keyframe_min_ms + 0.5 + 1.0
    result.check(f"keyframes during the storm <= {kf_limit:.1f}/s",
                 ph.get("keyframes_per_s_storm", 99) <= kf_limit,
                 f"{ph.get('keyframes_per_s_storm')}/s (before {ph.get('keyframes_per_s_before')}"
                 f"/s), encoder {ph.get('enc_kbps_storm')} kbit/s (before "
                 f"{ph.get('enc_kbps_before')}); storm peer sent {ph.get('storm_pli_sent')} "
                 f"requests")
    settled = f" (end counted after {settle_s:.1f} s for idle pool threads to exit)"
    fd_ok, fd_detail = fd_growth(before, after)
    result.check("no descriptor growth by class", fd_ok, fd_detail + settled)
    thread_ok, thread_detail = thread_growth(before, after)
    result.check("no thread growth by name class", thread_ok, thread_detail + settled)
    result.check(f"RSS slope over the 2nd half <= {args.rss_slope_tolerance} MiB/min",
                 result.rss_slope_mib_per_min <= args.rss_slope_tolerance,
                 rss_detail(result.rss_slope_mib_per_min, before, after))
    created = final.get("peers-created")
    result.check("every peer bin and webrtcbin freed, clean exit",
                 rc == 0 and created is not None and final.get("bins-freed") == created and
                 final.get("webrtcbins-freed") == created,
                 f"exit {rc}, bins {final.get('bins-freed')}/{created}, webrtcbins "
                 f"{final.get('webrtcbins-freed')}/{created}")
    if result.leakwatch is not None:
        lw = result.leakwatch
        alive = objects_alive(server.audit_dir)
        known = {t: n for t, n in alive.items()
                 if t in PROCESS_SINGLETONS and n <= PROCESS_SINGLETONS[t][0]}
        unexplained = {t: n for t, n in alive.items() if t not in known}
        result.check("leakwatch: no leaked pipeline or object (process-wide upstream singletons "
                     "named, not counted)",
                     lw["final"] and not lw["pipelines"] and not unexplained and
                     (lw["verdict"] == "clean" or known),
                     f"verdict {lw['verdict']}, {lw['pipelines_seen']} pipelines seen, "
                     f"{lw['pooled_outlived']} outlived only by a parked vapoolenc encoder, other "
                     f"problems: {lw['pipelines'][:3]}, objects alive at exit: "
                     f"{unexplained or 'none'} besides known upstream singletons "
                     + ("; ".join(f"{n} {t} ({PROCESS_SINGLETONS[t][1]})" for t, n in known.items())
                        or "none") + f"; trend alerts: {lw['alerts'] or 'none'}")
    return result


# Objects upstream GStreamer creates once per process and keeps until exit: alive at the end of
# any run, whatever the number of sessions (leakwatch reports them; the soak names them). More
# than the count given is a per-session leak and fails.
# How long the end snapshot waits for pooled threads the last sessions used to go idle and
# exit (settled_snapshot): GLib keeps idle pool threads a while, waiting for new work.
SETTLE_S = 20

PROCESS_SINGLETONS = {
    "GstDtlsAgent": (1, "gst-plugins-bad ext/dtls/gstdtlsdec.c get_agent_by_pem(): the agent "
                        "with a generated certificate is made once (g_once) and kept for the "
                        "process's life"),
}


def print_side_by_side(results):
    rows = [
        ("sessions (killed)", lambda r: f"{r.sessions} ({r.killed})"),
        ("clean decodes", lambda r: f"{r.clean}/{r.sessions - r.killed}"),
        ("normal peers' frames delivered, storm", lambda r: " ".join(
            f"{x:.2f}" for x in r.phase.get("normal_delivered_during", []))),
        ("normal peers' fps, storm", lambda r: " ".join(
            f"{x:.0f}" for x in r.phase.get("normal_fps_during", []))),
        ("latency ms p50/p95/p99 (median of peers)", lambda r: r.latency_summary()),
        ("frozen peer removed after", lambda r: f"{r.phase.get('frozen_removed_after_s')} s"),
        ("keyframes/s before -> storm", lambda r: f"{r.phase.get('keyframes_per_s_before')} -> "
         f"{r.phase.get('keyframes_per_s_storm')}"),
        ("keyframe requests -> encoder, storm", lambda r: f"{r.phase.get('kf_requests_storm')}"
         f" -> {r.phase.get('kf_forwarded_storm')}" if r.variant == "steady" else
         f"{r.phase.get('kf_requests_storm')} -> all"),
        ("encoder kbit/s before -> storm", lambda r: f"{r.phase.get('enc_kbps_before')} -> "
         f"{r.phase.get('enc_kbps_storm')}"),
    ] + process_rows() + [
        ("bins / webrtcbins freed", lambda r: f"{r.final.get('bins-freed')}/"
         f"{r.final.get('webrtcbins-freed')} of {r.final.get('peers-created')}"),
    ] + closing_rows()
    print_table(results, rows, 24)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="the steady-webrtc binary")
    parser.add_argument("--peer", required=True, help="the steady-webrtc-peer binary")
    parser.add_argument("--sessions", type=int, default=300, help="peer sessions, steady")
    parser.add_argument("--baseline-sessions", type=int, default=100,
                        help="peer sessions, baseline (printed beside, not asserted)")
    parser.add_argument("--variants", default="steady,baseline")
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--peer-seconds", type=int, default=2, help="how long a peer stays")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--window-seconds", type=float, default=6)
    parser.add_argument("--peer-timeout", type=int, default=3)
    parser.add_argument("--keyframe-min-ms", type=int, default=500)
    parser.add_argument("--rss-slope-tolerance", type=float, default=12.0,
                        help="MiB/min over the second half (Theil-Sen); the same bound as "
                        "steady-rtsp's short soak, whose second half still holds allocator "
                        "and pool warm-up")
    parser.add_argument("--arena-max", type=int, default=2)
    parser.add_argument("--report-dir", default="steady-webrtc-soak")
    parser.add_argument("--no-audit", dest="audit", action="store_false")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.report_dir, exist_ok=True)
    if args.audit and not have_leakwatch():
        log("leakwatch tracer not available: checking /proc and the server's accounting only")
        args.audit = False
    variants, skipped = select_variants(args.variants)
    results = [run_variant(v, args.sessions if v == "steady" else args.baseline_sessions, args)
               for v in variants]
    print_side_by_side(results)
    return conclude(results, skipped, args.report_dir, lambda r: {
        "sessions": r.sessions, "killed": r.killed, "clean": r.clean, "phase": r.phase,
        "latency_ms_p50_p95_p99": r.latency_summary()})


if __name__ == "__main__":
    sys.exit(main())
