"""The processes a steady-rtsp soak deals with: the server under test (and its /proc) and real
ffmpeg clients. Used by soak.py and demo.py."""

import os
import re
import signal
import subprocess
import threading
import time

FPS = 30  # what the soak asks the server for
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
            # run: count them as one class. The kernel keeps 15 characters of a name, so
            # "videotestsrc100:src" arrives as "videotestsrc100", its ":src" cut off: an element
            # name and number cut at 15 characters is a task thread too. They come from GLib's
            # thread pool, whose threads are named "pool-<program>" until their first task:
            # one population, so one class. Other names lose their counters.
            truncated_task = len(name) == 15 and re.match(r"^[A-Za-z_-]+\d+(:\w*)?$", name)
            if (re.search(r":(src|sink)\w*$", name) or name.endswith(":") or truncated_task
                    or name.startswith("pool-")):
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
        if args.audit and getattr(args, "prometheus", False):
            # The tracer steady-rtsp --audit would set, plus the metrics endpoint on a free
            # port (steady-rtsp keeps a GST_TRACERS it finds set).
            d = os.path.abspath(self.audit_dir)
            env["GST_TRACERS"] = (f'leakwatch(report="{d}/leakwatch.json",html="{d}/leakwatch.html",'
                                  f'report-interval=5,metrics-port=0)')
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
        self.metrics_port = None
        if "GST_TRACERS" in env and "metrics-port" in env["GST_TRACERS"]:
            m = self.wait_for(r"leakwatch: serving metrics on http://127\.0\.0\.1:(\d+)/", 10)
            if m:
                self.metrics_port = int(re.search(r":(\d+)/metrics", m).group(1))

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


def have_steady_elements():
    return all(subprocess.run(["gst-inspect-1.0", name], capture_output=True).returncode == 0
               for name in ("boundedqueue", "sharedframetee", "vapoolenc"))


def have_leakwatch():
    out = subprocess.run(["gst-inspect-1.0", "leakwatch"], capture_output=True, text=True)
    return out.returncode == 0
