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
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

FPS = 30
DECODE_ERROR = re.compile(
    r"error|corrupt|concealing|non-existing|no frame|invalid nal|missing picture|"
    r"reference|co located|mmco", re.IGNORECASE)
TRANSPORT_LOSS = re.compile(r"missed \d+ packets|max delay reached|RTP: PT=", re.IGNORECASE)


def log(*parts):
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------
# /proc of the server


def classify_fd(target):
    if target.startswith("socket:"):
        return "socket"
    if target.startswith("pipe:"):
        return "pipe"
    if target == "anon_inode:[eventfd]":
        return "eventfd"
    if target.startswith("/dev/dri/") or target.startswith("/dev/nvidia"):
        return "gpu"
    if target.startswith("anon_inode:"):
        return "anon"
    if target.startswith("/dev/"):
        return "device"
    if target.startswith("/"):
        return "file"
    return "other"


def proc_snapshot(pid):
    fds = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            cls = classify_fd(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            continue
        fds[cls] = fds.get(cls, 0) + 1
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            # GstTask threads come from a pool and carry the name of the last task they ran
            # ("udpsrc12:src", "feed:src"), so an idle pooled thread changes name from run to
            # run: count them as one class. Other names lose their counters (pool-N...).
            if re.search(r":(src|sink)\w*$", name) or name.endswith(":"):
                name = "gst task threads"
            else:
                name = re.sub(r"\d+", "N", name)
        except OSError:
            continue
        threads[name] = threads.get(name, 0) + 1
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return {"fds": fds, "threads": threads, "rss": rss, "cpu_s": cpu_s}


def theil_sen_slope(points):
    """Median of pairwise slopes: robust to the odd spike (units of y per unit of x)."""
    if len(points) > 120:  # thin out: pairwise is quadratic
        step = len(points) / 120.0
        points = [points[int(i * step)] for i in range(120)]
    slopes = []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            dx = points[j][0] - points[i][0]
            if dx > 0:
                slopes.append((points[j][1] - points[i][1]) / dx)
    if not slopes:
        return 0.0
    slopes.sort()
    return slopes[len(slopes) // 2]


# ---------------------------------------------------------------------------------------------
# The server under test


class Server:
    def __init__(self, binary, variant, args, report_dir):
        self.variant = variant
        self.lines = []  # (monotonic time, line)
        self.lock = threading.Lock()
        self.audit_dir = os.path.join(report_dir, variant)
        os.makedirs(self.audit_dir, exist_ok=True)
        cmd = [binary, "--port", "0", "--address", "127.0.0.1", "--width", "320", "--height",
               "240", "--framerate", str(FPS), "--key-int-max", str(FPS), "--bitrate", "600",
               "--status-interval", "1", "--session-timeout", str(args.session_timeout),
               "--stall-timeout", str(args.stall_timeout_ms), "--pool-max-idle", "8"]
        if variant == "baseline":
            cmd.append("--baseline")
        if args.audit:
            cmd += ["--audit", "--audit-dir", self.audit_dir, "--report-interval", "5"]
        self.cmd = cmd
        self.log_path = os.path.join(self.audit_dir, "server.log")
        self.log_file = open(self.log_path, "w")
        env = dict(os.environ)
        if args.arena_max:
            # glibc gives each busy thread an arena of its own (up to 8 per core) and keeps
            # their freed memory: RSS then climbs with thread churn whether or not anything
            # leaks. Capping arenas, as long-running services commonly do, makes RSS measure
            # what the process really retains.
            env["MALLOC_ARENA_MAX"] = str(args.arena_max)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.port = None
        line = self.wait_for(r"listening on rtsp://127\.0\.0\.1:(\d+)/", 30)
        if line is None:
            self.proc.kill()
            raise RuntimeError(f"{variant} server did not start:\n" + self.text())
        self.port = int(re.search(r":(\d+)/live", line).group(1))

    def _read(self):
        for line in self.proc.stdout:
            self.log_file.write(line)
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
        self.log_file.flush()

    def text(self):
        with self.lock:
            return "\n".join(line for _, line in self.lines)

    def wait_for(self, pattern, timeout, since=0.0):
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            with self.lock:
                for t, line in self.lines:
                    if t >= since and regex.search(line):
                        return line
            if self.proc.poll() is not None and not self.reader.is_alive():
                return None
            time.sleep(0.1)
        return None

    def first_line_time(self, pattern, since):
        regex = re.compile(pattern)
        with self.lock:
            for t, line in self.lines:
                if t >= since and regex.search(line):
                    return t
        return None

    def last_status(self):
        with self.lock:
            for _, line in reversed(self.lines):
                if " status " in line or line.startswith("steady-rtsp: status"):
                    return parse_fields(line)
        return {}

    def wait_drained(self, timeout):
        """Until the server reports no client, session, media or pipeline alive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            since = time.monotonic()
            line = self.wait_for(r"status t=", 5, since)
            if line:
                s = parse_fields(line)
                if all(s.get(k) == "0" for k in ("clients", "sessions", "media-alive",
                                                  "pipelines-alive")):
                    return True
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=10)
        self.log_file.close()
        final = {}
        with self.lock:
            for _, line in self.lines:
                if line.startswith("steady-rtsp: final "):
                    final = parse_fields(line)
        return rc, final


def parse_fields(line):
    return dict(m.groups() for m in re.finditer(r"([\w-]+)=(\S+)", line))


# ---------------------------------------------------------------------------------------------
# ffmpeg clients


class Client:
    """One real ffmpeg RTSP client, decoding what it receives."""

    def __init__(self, port, mount, transport, seconds=None, output="null"):
        self.mount, self.transport = mount, transport
        self.url = f"rtsp://127.0.0.1:{port}/{mount}"
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning",
               "-progress", "pipe:2", "-stats_period", "0.25", "-rtsp_transport", transport,
               "-timeout", "10000000", "-i", self.url]
        if seconds:
            cmd += ["-t", str(seconds)]
        cmd += ["-fps_mode", "passthrough"]  # count frames received, not duplicated to fill gaps
        if output == "null":
            cmd += ["-f", "null", "-"]
        else:  # raw decoded frames to our pipe: a reader that does not keep up throttles it
            cmd += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if output != "null" else
                                     subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.frames = 0
        self.samples = []  # (monotonic time, frames)
        self.errors, self.loss, self.warnings = [], [], []
        self.killed = False
        self.stopped = False
        self.rc = None
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line.startswith("frame="):
                self.frames = int(line[6:] or 0)
                self.samples.append((time.monotonic(), self.frames))
            elif "=" in line and " " not in line:
                continue  # other -progress keys
            elif TRANSPORT_LOSS.search(line):
                self.loss.append(line)
            elif DECODE_ERROR.search(line):
                self.errors.append(line)
            elif line:
                self.warnings.append(line)

    def kill(self):
        self.killed = True
        self.proc.kill()

    def interrupt(self):
        """Ends a client that runs without -t the way a user would (q / Ctrl-C)."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            self.errors.append(f"client did not finish within {timeout} s")
        self.reader.join(timeout=5)
        return self

    def rate_between(self, t0, t1):
        """Frames per second received between two instants (from ffmpeg's progress). A client
        that receives nothing prints nothing, so the window's end, not the last report, bounds
        the interval."""
        if not self.samples or self.samples[0][0] >= t1:
            return 0.0
        before = [f for t, f in self.samples if t <= t0]
        inside = [f for t, f in self.samples if t0 < t <= t1]
        f0 = before[-1] if before else 0
        f_end = inside[-1] if inside else f0
        t_begin = max(t0, self.samples[0][0])
        return (f_end - f0) / max(t1 - t_begin, 1e-3)

    def decoded_cleanly(self):
        if self.rc != 0 or self.frames == 0:
            return False
        # UDP may lose packets on a loaded machine; ffmpeg says so, and then artefacts are the
        # network's, not the server's.
        return not self.errors or (self.transport == "udp" and bool(self.loss))


# ---------------------------------------------------------------------------------------------
# The phases


def churn(server, cycles, args, result, deadline=None):
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
            log(f"  [{server.variant}] {done} cycles, rss-mib={s.get('rss-mib')} "
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


class Result:
    def __init__(self, variant):
        self.variant = variant
        self.clients = self.clean = self.killed = 0
        self.failures = []
        self.decode_error_clients = 0
        self.udp_loss_clients = 0
        self.throttle_rates = []
        self.evicted_after = None
        self.throttled_drained_kib = 0
        self.checks = []  # (name, ok, detail)

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

    def check(self, name, ok, detail):
        self.checks.append((name, bool(ok), detail))


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


def run_variant(variant, args):
    result = Result(variant)
    log(f"== {variant}: starting steady-rtsp")
    server = Server(args.server, variant, args, args.report_dir)
    log(f"   listening on port {server.port}; log {server.log_path}")
    started = time.monotonic()
    try:
        # Warm-up: pools, thread pools and allocator arenas reach their working size.
        churn(server, args.warmup, args, Result("warmup"))
        if not server.wait_drained(args.session_timeout + 20):
            result.check("drained after warm-up", False, str(server.last_status()))
        before = proc_snapshot(server.proc.pid)
        rss_series = []
        sampling = {"on": True}

        def sample():
            while sampling["on"] and server.proc.poll() is None:
                try:
                    rss_series.append((time.monotonic(), proc_snapshot(server.proc.pid)["rss"]))
                except OSError:
                    break
                time.sleep(1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = time.monotonic() + args.hours * 3600 if args.hours else None
        cycles = args.cycles if not args.hours else 10 ** 9
        half = churn(server, cycles // 2, args, result, deadline)
        log(f"   [{variant}] throttle phase: 2 normal /live clients, 1 throttled, 1 stalled")
        throttle_phase(server, args, result)
        rest = churn(server, cycles - half, args, result, deadline)
        result.cycles = half + rest + 4
        drained = server.wait_drained(args.session_timeout + 30)
        sampling["on"] = False
        sampler.join(timeout=5)
        after = proc_snapshot(server.proc.pid)
        status = server.last_status()
    finally:
        rc, final = server.stop()
    result.wall_s = time.monotonic() - started
    result.before, result.after, result.status, result.final, result.rc = (
        before, after, status, final, rc)
    result.rss_slope_mib_per_min = theil_sen_slope(
        [(t / 60.0, r / 2**20) for t, r in rss_series[len(rss_series) // 2:]])
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
    grown = {k: after["fds"].get(k, 0) - before["fds"].get(k, 0)
             for k in set(after["fds"]) | set(before["fds"])}
    result.check("no descriptor growth by class", all(v <= 0 for v in grown.values()),
                 ", ".join(f"{k} {before['fds'].get(k, 0)}->{after['fds'].get(k, 0)}"
                           for k in sorted(grown)))
    tgrown = {k: after["threads"].get(k, 0) - before["threads"].get(k, 0)
              for k in set(after["threads"]) | set(before["threads"])}
    result.check("no thread growth by name", all(v <= 0 for v in tgrown.values()),
                 ", ".join(f"{k} +{v}" for k, v in sorted(tgrown.items()) if v > 0) or
                 f"{sum(before['threads'].values())} -> {sum(after['threads'].values())}")
    result.check(f"RSS flat: slope over the 2nd half <= {args.rss_slope_tolerance} MiB/min",
                 result.rss_slope_mib_per_min <= args.rss_slope_tolerance,
                 f"{result.rss_slope_mib_per_min:+.2f} MiB/min; {before['rss'] / 2**20:.1f} -> "
                 f"{after['rss'] / 2**20:.1f} MiB from warm-up to end")
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


def have_steady_elements():
    return all(subprocess.run(["gst-inspect-1.0", name], capture_output=True).returncode == 0
               for name in ("boundedqueue", "sharedframetee", "vapoolenc"))


def have_leakwatch():
    out = subprocess.run(["gst-inspect-1.0", "leakwatch"], capture_output=True, text=True)
    return out.returncode == 0


# ---------------------------------------------------------------------------------------------
# The demo (tests/examples/steady-rtsp/demo.sh): well under a minute, every element at work.


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
    parser.add_argument("--rss-slope-tolerance", type=float, default=3.0,
                        help="allowed RSS slope over the second half of the churn, MiB/min "
                        "(Theil-Sen; a leak of 100 KiB per session shows as ~10 MiB/min here)")
    parser.add_argument("--arena-max", type=int, default=2,
                        help="MALLOC_ARENA_MAX for the server (0: glibc default)")
    parser.add_argument("--report-dir", default="steady-rtsp-soak")
    parser.add_argument("--no-audit", dest="audit", action="store_false",
                        help="do not run the server under leakwatch")
    parser.add_argument("--progress", action="store_true", help="print progress every 10 batches")
    parser.add_argument("--demo", action="store_true", help="the short demo instead of the soak")
    args = parser.parse_args()
    os.makedirs(args.report_dir, exist_ok=True)
    if args.demo:
        if not have_steady_elements() or not have_leakwatch():
            log("steady-rtsp demo: boundedqueue, sharedframetee, vapoolenc and leakwatch must be "
                "built (GST_PLUGIN_PATH)")
            return 77
        return demo(args)
    if args.audit and not have_leakwatch():
        log("leakwatch tracer not available: checking /proc and the server's own accounting only")
        args.audit = False

    variants = [v for v in args.variants.split(",") if v]
    skipped = False
    if "steady" in variants and not have_steady_elements():
        log("SKIP steady: boundedqueue, sharedframetee or vapoolenc not built; baseline only")
        variants.remove("steady")
        skipped = True
    results = [run_variant(v, args) for v in variants]
    print_side_by_side(results)
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
    with open(os.path.join(args.report_dir, "summary.json"), "w") as f:
        json.dump([{"variant": r.variant, "checks": r.checks, "clients": r.clients,
                    "killed": r.killed, "clean": r.clean, "throttle_fps": r.throttle_rates,
                    "evicted_after_s": r.evicted_after, "before": r.before, "after": r.after,
                    "rss_slope_mib_per_min": r.rss_slope_mib_per_min, "reuse": r.reuse,
                    "final": r.final} for r in results], f, indent=2)
    if failed:
        return 1
    return 77 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
