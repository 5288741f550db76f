#!/usr/bin/env python3
"""Soak test of steady-rtsp with real ffmpeg clients.

Starts steady-rtsp on a free loopback port and churns it with real `ffmpeg` clients: TCP and
UDP, /live and /transcode, several at once, some killed abruptly (SIGKILL), receiving a couple
of seconds each. In the middle it runs a throttled client (reads its decoded output through a
pipe drained at a trickle) and a stalled one (SIGSTOP) next to normal clients, and measures the
normal clients' frame rate meanwhile. Then it checks, from /proc of the server, the server's own
accounting and leakwatch's JSON report when available:

  * every client that ran to the end decoded what it received (ffmpeg exit status and stderr);
  * normal /live clients kept >= 90% of the frame rate while the throttled client was on;
  * the stalled client was evicted;
  * after the churn, once every client is gone: descriptors by class and threads by name are
    back where they were after warm-up, RSS grew by less than --rss-tolerance-mib;
  * every client media and pipeline the server created was freed, and the server exits 0;
  * /transcode's vapoolenc sessions were reused >= 85% of the time.

The same run is done against the `--baseline` variant (tee ! queue, x264enc per client) and
both are printed side by side. Only the steady variant is held to the assertions; the baseline
is the comparison. Exit status: 0 pass, 1 fail, 77 skipped (steady elements not built).

  soak.py --server build/tests/examples/steady-rtsp/steady-rtsp            # default, 200 cycles
  soak.py --server ... --cycles 1000 --report-dir /tmp/soak                # the long manual run
  soak.py --server ... --hours 2 --variants steady                        # for hours
"""

import argparse
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from steady_soak.compare import fd_growth, rss_detail, thread_growth  # noqa: E402
from steady_soak.leakwatch import leakwatch_findings  # noqa: E402
from steady_soak.plugins import have_leakwatch  # noqa: E402
from steady_soak.proc import RssSampler, proc_snapshot  # noqa: E402
from steady_soak.report import SoakResult, conclude, select_variants  # noqa: E402
from steady_soak.text import log  # noqa: E402
from soak_processes import FPS, Client, Server  # noqa: E402
from soak_prometheus import Prometheus, check_from_prometheus, have_prometheus  # noqa: E402
from soak_report import print_side_by_side  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The phases


def churn(server, cycles, args, result, deadline=None, already=0):
    """`cycles` client sessions, `args.concurrency` at a time."""
    done = 0
    batch_no = 0
    kinds = [("live", "tcp"), ("transcode", "udp"), ("live", "udp"), ("transcode", "tcp")]
    while done < cycles and (deadline is None or time.monotonic() < deadline):
        batch = []
        for i in range(min(args.concurrency, cycles - done)):
            mount, transport = kinds[(batch_no + i) % len(kinds)]
            batch.append(Client(server.port, mount, transport, seconds=args.client_seconds))
        # Every third batch, one client vanishes abruptly mid-stream (no TEARDOWN).
        victim = batch[batch_no % len(batch)] if batch_no % 3 == 2 else None
        if victim:
            time.sleep(args.client_seconds / 2 + 0.5)
            victim.kill()
        for client in batch:
            client.wait(args.client_seconds + 30)
            result.record(client)
        done += len(batch)
        batch_no += 1
        if args.progress and batch_no % 10 == 0:
            s = server.last_status()
            log(f"  [{server.variant}] {already + done} cycles, rss-mib={s.get('rss-mib')} "
                f"fds={s.get('fds')} threads={s.get('threads')}")
    return done


def throttle_phase(server, args, result):
    """Normal /live clients next to a throttled and a stalled one: do they keep full rate?"""
    normal = [Client(server.port, "live", t) for t in ("tcp", "udp")]
    throttled = Client(server.port, "live", "tcp", output="pipe")
    stalled = Client(server.port, "live", "tcp", output="pipe")
    drained = {"bytes": 0}

    def trickle():  # ~40 KB/s of a 3.4 MB/s raw stream: about one frame in three seconds
        while throttled.proc.poll() is None:
            chunk = throttled.proc.stdout.read1(4096) if hasattr(throttled.proc.stdout, "read1") \
                else throttled.proc.stdout.read(4096)
            if not chunk:
                break
            drained["bytes"] += len(chunk)
            time.sleep(0.1)

    threading.Thread(target=trickle, daemon=True).start()
    time.sleep(2.0)  # everyone connected and playing
    stalled.proc.send_signal(signal.SIGSTOP)  # stops reading its socket, keeps it open
    stall_started = time.monotonic()
    window_start = time.monotonic() + 3.0  # let the throttled client's socket buffers fill
    window_end = window_start + args.throttle_seconds
    time.sleep(window_end - time.monotonic())
    rates = [c.rate_between(window_start, window_end) for c in normal]
    for c in normal:
        c.interrupt()
    evict_t = server.first_line_time(r"evicting a stalled /live client", stall_started)
    if evict_t is None:  # give it until the stall timeout has surely passed
        server.wait_for(r"evicting a stalled /live client", 10, stall_started)
        evict_t = server.first_line_time(r"evicting a stalled /live client", stall_started)
    stalled.proc.send_signal(signal.SIGCONT)
    throttled.kill()
    stalled.kill()
    for c in normal + [throttled, stalled]:
        c.wait(30)
    for c in normal:
        result.record(c, throttle_phase=True)
    result.throttle_rates = rates
    result.evicted_after = None if evict_t is None else evict_t - stall_started
    result.throttled_drained_kib = drained["bytes"] / 1024


class Result(SoakResult):
    def __init__(self, variant):
        super().__init__(variant)
        self.clients = self.clean = self.killed = 0
        self.failures = []
        self.decode_error_clients = 0
        self.udp_loss_clients = 0
        self.throttle_rates = []
        self.evicted_after = None
        self.throttled_drained_kib = 0

    def record(self, client, throttle_phase=False):
        self.clients += 1
        if client.killed:
            self.killed += 1
            return
        if client.errors:
            self.decode_error_clients += 1
        if client.loss:
            self.udp_loss_clients += 1
        if client.stopped:
            ok = client.frames > 0 and not (client.errors and not client.loss)
        else:
            ok = client.decoded_cleanly()
        if ok:
            self.clean += 1
        elif len(self.failures) < 8:
            self.failures.append(f"{client.mount}/{client.transport} rc={client.rc} "
                                 f"frames={client.frames} errors={client.errors[:3]} other={client.warnings[-2:]}")


def run_variant(variant, args):
    result = Result(variant)
    log(f"== {variant}: starting steady-rtsp")
    server = Server(args.server, variant, args, args.report_dir)
    log(f"   listening on port {server.port}; log {server.log_path}")
    started = time.monotonic()
    prom = None
    if server.metrics_port:
        prom = Prometheus(server.metrics_port, os.path.join(server.audit_dir, "prometheus.log"))
        log(f"   Prometheus scraping leakwatch on port {server.metrics_port} every second")
    times = {}
    try:
        # Warm-up: pools, thread pools and allocator arenas reach their working size.
        churn(server, args.warmup, args, Result("warmup"))
        if not server.wait_drained(args.session_timeout + 20):
            result.check("drained after warm-up", False, str(server.last_status()))
        before = proc_snapshot(server.proc.pid)
        times["before"] = time.time()
        sampler = RssSampler(server.proc)
        deadline = time.monotonic() + args.hours * 3600 if args.hours else None
        cycles = args.cycles if not args.hours else 10 ** 9
        half = churn(server, cycles // 2, args, result, deadline)
        times["half"] = time.time()
        log(f"   [{variant}] throttle phase: 2 normal /live clients, 1 throttled, 1 stalled")
        throttle_phase(server, args, result)
        rest = churn(server, cycles - half, args, result, deadline, already=half)
        times["churn_end"] = time.time()
        result.cycles = half + rest + 4
        drained = server.wait_drained(args.session_timeout + 30)
        sampler.stop()
        after = proc_snapshot(server.proc.pid)
        times["after"] = time.time()
        status = server.last_status()
        if prom is not None:
            check_from_prometheus(prom, result, times, args.rss_slope_tolerance)
    finally:
        rc, final = server.stop()
        if prom is not None:
            prom.stop()
    result.wall_s = time.monotonic() - started
    result.before, result.after, result.status, result.final, result.rc = (
        before, after, status, final, rc)
    result.rss_slope_mib_per_min = sampler.slope_mib_per_min()
    result.leakwatch = (leakwatch_findings(server.audit_dir, server.log_path) if args.audit
                        else None)

    # The checks (asserted for steady, reported for baseline).
    result.check("server drained (no client/session/media/pipeline alive)", drained,
                 " ".join(f"{k}={status.get(k)}" for k in
                          ("clients", "sessions", "media-alive", "pipelines-alive")))
    result.check("clients decoded cleanly", result.clean == result.clients - result.killed,
                 f"{result.clean}/{result.clients - result.killed}; " + "; ".join(result.failures))
    low = [r for r in result.throttle_rates if r < 0.9 * FPS]
    result.check("normal /live clients kept >= 90% rate next to a throttled one", not low,
                 "fps " + ", ".join(f"{r:.1f}" for r in result.throttle_rates))
    result.check("stalled /live client evicted", result.evicted_after is not None,
                 "after %.1f s" % result.evicted_after if result.evicted_after else "never")
    result.check("no descriptor growth by class", *fd_growth(before, after))
    result.check("no thread growth by name", *thread_growth(before, after))
    result.check(f"RSS flat: slope over the 2nd half <= {args.rss_slope_tolerance} MiB/min",
                 result.rss_slope_mib_per_min <= args.rss_slope_tolerance,
                 rss_detail(result.rss_slope_mib_per_min, before, after))
    result.check("every client media and pipeline freed, clean exit",
                 rc == 0 and final.get("media-created") == final.get("media-freed") and
                 final.get("pipelines-created") == final.get("pipelines-freed"),
                 f"exit {rc}, media {final.get('media-freed')}/{final.get('media-created')}, "
                 f"pipelines {final.get('pipelines-freed')}/{final.get('pipelines-created')}")
    reused, _, started_n = final.get("transcode-reused", "0/0").partition("/")
    result.reuse = int(reused) / int(started_n) if int(started_n or 0) else 0.0
    if variant == "steady":
        result.check("/transcode vapoolenc reuse rate >= 0.85", result.reuse >= 0.85,
                     f"{reused}/{started_n} = {result.reuse:.2f}")
    if result.leakwatch is not None:
        lw = result.leakwatch
        result.check("leakwatch: final report clean (no leaked pipeline or object)",
                     lw["final"] and lw["verdict"] == "clean" and not lw["pipelines"] and
                     lw["objects"] == 0,
                     f"verdict {lw['verdict']}, {lw['pipelines_seen']} pipelines seen, "
                     f"{lw['pooled_outlived']} outlived only by a parked vapoolenc encoder, "
                     f"other problems: "
                     f"{lw['pipelines'][:3]}, leaked objects {lw['objects']} {lw['object_types']}; "
                     f"trend alerts during the run: {lw['alerts'] or 'none'}")
    result.cpu_s = after["cpu_s"] - before["cpu_s"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="path to the steady-rtsp binary")
    parser.add_argument("--cycles", type=int, default=200, help="client sessions per variant")
    parser.add_argument("--hours", type=float, default=0, help="churn for this long instead")
    parser.add_argument("--variants", default="steady,baseline")
    parser.add_argument("--concurrency", type=int, default=5, help="clients at once")
    parser.add_argument("--client-seconds", type=float, default=1.5, help="ffmpeg -t")
    parser.add_argument("--warmup", type=int, default=20, help="cycles before the baseline "
                        "snapshot of /proc")
    parser.add_argument("--throttle-seconds", type=float, default=12,
                        help="how long the normal clients' rate is measured next to the "
                        "throttled and frozen ones")
    parser.add_argument("--session-timeout", type=int, default=6)
    parser.add_argument("--stall-timeout-ms", type=int, default=2000)
    parser.add_argument("--rss-slope-tolerance", type=float, default=None,
                        help="allowed RSS slope over the second half of the churn, MiB/min "
                        "(Theil-Sen; a leak of 100 KiB per session shows as ~10 MiB/min here). "
                        "Default: 3 for runs of 1000 cycles or more (or --hours), 12 for "
                        "shorter ones, whose second half still holds the pool and allocator "
                        "filling up (+0.1 to +5.2 MiB/min seen for steady over 200 cycles, "
                        "+0.3 over 1000)")
    parser.add_argument("--arena-max", type=int, default=2,
                        help="MALLOC_ARENA_MAX for the server (0: glibc default)")
    parser.add_argument("--report-dir", default="steady-rtsp-soak")
    parser.add_argument("--no-audit", dest="audit", action="store_false",
                        help="do not run the server under leakwatch")
    parser.add_argument("--no-prometheus", dest="prometheus", action="store_false",
                        help="do not scrape the server's leakwatch endpoint with Prometheus")
    parser.add_argument("--progress", action="store_true", help="print progress every 10 batches")
    args = parser.parse_args()
    if args.rss_slope_tolerance is None:
        args.rss_slope_tolerance = 3.0 if args.hours or args.cycles >= 1000 else 12.0
    os.makedirs(args.report_dir, exist_ok=True)
    if args.audit and not have_leakwatch():
        log("leakwatch tracer not available: checking /proc and the server's own accounting only")
        args.audit = False
    if args.audit and args.prometheus and not have_prometheus():
        log("prometheus not installed (Debian package prometheus): no Prometheus checks")
        args.prometheus = False

    variants, skipped = select_variants(args.variants)
    results = [run_variant(v, args) for v in variants]
    print_side_by_side(results)
    return conclude(results, skipped, args.report_dir, lambda r: {
        "clients": r.clients, "killed": r.killed, "clean": r.clean,
        "throttle_fps": r.throttle_rates, "evicted_after_s": r.evicted_after, "reuse": r.reuse})


if __name__ == "__main__":
    sys.exit(main())
