#!/usr/bin/env python3
"""CPU and RSS per peer of steady-webrtc against the baseline, at 1, 5 and 20 peers.

For each variant, one server (320x240 VP8 at 30 fps, 500 kbit/s, as in the soak) is measured
idle, then with N real webrtcbin peers (steady-webrtc-peer) playing: server CPU (utime+stime from
/proc) over a window, and its RSS. Both variants share one encoder for all peers (vapoolenc vs
a plain vp8enc); what differs is the fan-out (sharedframetee + boundedqueue vs tee + queue).
The peers run on the same machine, so absolute figures are noisy: compare the two variants'
per-peer increments from the same run.

  bench.py --server .../steady-webrtc --peer .../steady-webrtc-peer [--peers 1,5,20]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from steady_soak.proc import proc_snapshot  # noqa: E402
from steady_soak.text import log  # noqa: E402
from soak_peers import Peer, Server  # noqa: E402


def measure(server, seconds):
    a = proc_snapshot(server.proc.pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    b = proc_snapshot(server.proc.pid)
    return (b["cpu_s"] - a["cpu_s"]) / (time.monotonic() - t0) * 100.0, b["rss"] / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--peers", default="1,5,20")
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--report-dir", default="/tmp/steady-webrtc-bench")
    args = parser.parse_args()
    args.peer_timeout, args.keyframe_min_ms, args.audit, args.arena_max = 5, 500, False, 2
    rows = []
    for variant in ("steady", "baseline"):
        for n in [int(x) for x in args.peers.split(",")]:
            server = Server(args.server, variant, args, args.report_dir)
            time.sleep(2)
            idle_cpu, idle_rss = measure(server, args.window / 2)
            peers = [Peer(args.peer, server.ws_url) for _ in range(n)]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(p.frames > 0 for p in peers):
                time.sleep(0.2)
            time.sleep(2)
            cpu, rss = measure(server, args.window)
            fps = [p.window(time.monotonic() - args.window, time.monotonic())[0] for p in peers]
            for p in peers:
                p.interrupt()
            for p in peers:
                p.wait(30)
            server.stop()
            rows.append((variant, n, idle_cpu, cpu, (cpu - idle_cpu) / n, idle_rss, rss,
                         (rss - idle_rss) / n, min(fps)))
            log(f"{variant:9s} {n:3d} peers: server CPU {idle_cpu:5.1f}% idle -> {cpu:5.1f}% "
                f"({(cpu - idle_cpu) / n:5.2f}% per peer), RSS {idle_rss:5.1f} -> {rss:5.1f} MiB "
                f"({(rss - idle_rss) / n:4.2f} MiB per peer), slowest peer {min(fps):.1f} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
