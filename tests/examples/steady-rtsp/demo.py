#!/usr/bin/env python3
"""The steady-rtsp demo (run by demo.sh): well under a minute, every element at work.

Starts steady-rtsp under leakwatch, connects two normal /live clients, one reading at a trickle
and one frozen (SIGSTOP), runs eight short /transcode sessions one after the other, and prints
what each element did and where leakwatch's HTML report is.
"""

import argparse
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from steady_soak.leakwatch import leakwatch_findings  # noqa: E402
from steady_soak.plugins import have_leakwatch, have_steady_elements  # noqa: E402
from steady_soak.text import log  # noqa: E402
from soak_processes import FPS, Client, Server  # noqa: E402



def demo(args):
    args.session_timeout, args.stall_timeout_ms = 6, 2000
    server = Server(args.server, "steady", args, args.report_dir)
    log(f"steady-rtsp is serving rtsp://127.0.0.1:{server.port}/live and /transcode "
        f"under leakwatch. Clients are real ffmpeg processes:")
    log("  /live       2 normal clients (TCP, UDP), 1 reading at a trickle, 1 frozen (SIGSTOP)")
    log("  /transcode  8 short sessions one after another (TCP/UDP), each its own pipeline")
    normal = [Client(server.port, "live", t) for t in ("tcp", "udp")]
    slow = Client(server.port, "live", "tcp", output="pipe")
    frozen = Client(server.port, "live", "tcp", output="pipe")

    def trickle():
        while slow.proc.poll() is None:
            if not slow.proc.stdout.read1(4096):
                break
            time.sleep(0.1)

    threading.Thread(target=trickle, daemon=True).start()
    transcodes = []

    def sessions():
        for i in range(8):
            c = Client(server.port, "transcode", ("tcp", "udp")[i % 2], seconds=1.5)
            c.wait(30)
            transcodes.append(c)

    sequential = threading.Thread(target=sessions)
    sequential.start()
    time.sleep(2.0)
    frozen.proc.send_signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    t0 = time.monotonic() + 1.0
    sequential.join()
    t1 = max(time.monotonic(), t0 + 10)
    time.sleep(max(0.0, t1 - time.monotonic()))
    rates = [c.rate_between(t0, t1) for c in normal]
    evicted = server.first_line_time(r"evicting a stalled /live client", frozen_at)
    status = server.last_status()
    branches = {}  # the last counters seen for each /live branch
    with server.lock:
        for _, line in server.lines:
            for name, value in re.findall(r"(client-queue-\d+)=(\S+)", line):
                branches[name] = dict(kv.split(":", 1) for kv in value.split(","))
    frozen.proc.send_signal(signal.SIGCONT)
    for c in normal:
        c.interrupt()
    slow.kill()
    frozen.kill()
    for c in normal + [slow, frozen]:
        c.wait(30)
    server.wait_drained(args.session_timeout + 10)
    rc, final = server.stop()
    lw = leakwatch_findings(server.audit_dir, server.log_path)

    log("")
    log("What happened:")
    errors = sum(len(c.errors) for c in normal)
    log(f"  sharedframetee  the 2 normal /live clients got {rates[0]:.1f} and {rates[1]:.1f} fps "
        f"(source: {FPS}) with {errors} decode errors, next to the slow and the frozen client")
    log("  per /live client (branch: buffers out of the shared ring, skipped by resyncs to the "
        "newest keyframe, peak held in its boundedqueue):")
    for name in sorted(branches, key=lambda n: int(n.rsplit("-", 1)[1])):
        b = branches[name]
        log(f"    {name:16} out {b.get('fan-out', '?'):>5}  skipped {b.get('fan-dropped', '?'):>4} "
            f"in {b.get('resyncs', '?')} resyncs  boundedqueue peak {b.get('queue-peak', '?')} "
            f"buffers, dropped {b.get('queue-dropped', '?')}")
    log("  eviction        the frozen client was " +
        (f"evicted {evicted - frozen_at:.1f} s after it froze (stall-timeout 2 s, once its "
         "socket filled)" if evicted else "NOT evicted"))
    reused, _, started = final.get("transcode-reused", "0/0").partition("/")
    clean = sum(1 for c in transcodes if c.decoded_cleanly())
    log(f"  vapoolenc       {started} /transcode sessions, {reused} of them on a pooled encoder "
        f"session; {clean}/{len(transcodes)} decoded cleanly "
        f"(pool: created={status.get('pool-created')} reused={status.get('pool-reused')})")
    log(f"  teardown        {final.get('pipelines-freed')}/{final.get('pipelines-created')} client "
        f"pipelines reached NULL and were freed; server exit status {rc}")
    if lw:
        log(f"  leakwatch       verdict: {lw['verdict']}; leaked objects: {lw['objects']}; "
            f"pipelines with problems: {len(lw['pipelines'])} (+{lw['pooled_outlived']} outlived "
            f"only by a parked pooled encoder)")
        log(f"                  HTML report: {lw['html']}")
        log(f"                  JSON report: {os.path.join(server.audit_dir, 'leakwatch.json')}")
    log(f"  server log      {server.log_path}")
    return 0 if rc == 0 and evicted and min(rates) >= 0.9 * FPS else 1




def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True, help="path to the steady-rtsp binary")
    parser.add_argument("--report-dir", default="steady-rtsp-demo")
    args = parser.parse_args()
    args.audit, args.arena_max = True, 2
    os.makedirs(args.report_dir, exist_ok=True)
    if not have_steady_elements() or not have_leakwatch():
        log("steady-rtsp demo: boundedqueue, sharedframetee, vapoolenc and leakwatch must be built "
            "(GST_PLUGIN_PATH)")
        return 77
    return demo(args)


if __name__ == "__main__":
    sys.exit(main())
