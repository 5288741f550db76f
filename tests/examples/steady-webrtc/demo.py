#!/usr/bin/env python3
"""The steady-webrtc demo (run by demo.sh): about half a minute, real webrtcbin peers.

Starts steady-webrtc under leakwatch, runs ten short peer sessions, then three normal peers
beside a frozen one (SIGSTOP) and one storming keyframe requests (PLI every 10 ms), and prints a
line each for latency, peers, eviction, keyframes and leakwatch's verdict.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from steady_soak.leakwatch import leakwatch_findings, objects_alive  # noqa: E402
from steady_soak.plugins import have_leakwatch, have_steady_elements  # noqa: E402
from steady_soak.stats import median  # noqa: E402
from steady_soak.text import log  # noqa: E402
from soak import PROCESS_SINGLETONS, Result, churn, storm_phase  # noqa: E402
from soak_peers import Server  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--report-dir", default="steady-webrtc-demo")
    args = parser.parse_args()
    if not have_steady_elements():
        log("steady-webrtc demo: boundedqueue, sharedframetee or vapoolenc not built")
        return 1
    args.audit = have_leakwatch()
    args.peer_timeout, args.keyframe_min_ms, args.arena_max = 3, 500, 2
    args.concurrency, args.peer_seconds, args.window_seconds = 5, 2, 5
    os.makedirs(args.report_dir, exist_ok=True)
    server = Server(args.server, "steady", args, args.report_dir)
    log(f"steady-webrtc is serving http://127.0.0.1:{server.port}/ (page) and /ws "
        f"(signalling){' under leakwatch' if args.audit else ''}; peers are real webrtcbin "
        f"receivers (steady-webrtc-peer) decoding the stream:")
    result = Result("steady")
    peers = []
    original_record = result.record

    def record(peer):
        peers.append(peer)
        original_record(peer)

    result.record = record
    churn(server, 10, args, result)
    storm_phase(server, args, result)
    rc, final = server.stop()
    ph = result.phase
    lat = median(int(p.final.get("lat-p50-ms", -1)) for p in peers if p.final)
    lat95 = median(int(p.final.get("lat-p95-ms", -1)) for p in peers if p.final)
    log(f"  latency:   glass-to-glass (capture time painted in each frame, read back after "
        f"decoding) median of peers' p50 {lat} ms, p95 {lat95} ms")
    log(f"  peers:     {result.sessions} sessions, {result.clean}/{result.sessions - result.killed}"
        f" decoded cleanly; 3 normal peers got {ph['normal_delivered_during']} of the frames "
        f"beside a frozen and a PLI-storming peer")
    log(f"  eviction:  the frozen peer was removed after {ph['frozen_removed_after_s']} s "
        f"(no signalling message for 3 s); {final.get('bins-freed')}/{final.get('peers-created')}"
        f" peer bins and {final.get('webrtcbins-freed')} webrtcbins freed")
    log(f"  keyframes: the storm sent {ph['storm_pli_sent']} requests; the shared encoder made "
        f"{ph['keyframes_per_s_before']} -> {ph['keyframes_per_s_storm']} keyframes/s "
        f"(coalesced, at most one request per 500 ms)")
    if args.audit:
        lw = leakwatch_findings(server.audit_dir, server.log_path)
        alive = objects_alive(server.audit_dir)
        others = {t: n for t, n in alive.items() if t not in PROCESS_SINGLETONS}
        log(f"  leakwatch: verdict {lw['verdict']}; objects alive at exit: {others or 'none'} "
            f"besides {', '.join(f'{n} {t}' for t, n in alive.items() if t in PROCESS_SINGLETONS) or 'nothing'}"
            f" (upstream, once per process: see docs/steady-webrtc.md); report {lw['html']}")
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
