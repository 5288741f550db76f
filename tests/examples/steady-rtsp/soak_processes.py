"""The processes a steady-rtsp soak deals with: the server under test and real ffmpeg clients.
Used by soak.py and demo.py; what they share with steady-webrtc's is in ../common/steady_soak."""

import os
import re
import subprocess
import time

from steady_soak.processes import ChildProcess, ServerProcess

FPS = 30  # what the soak asks the server for
DECODE_ERROR = re.compile(
    r"error|corrupt|concealing|non-existing|no frame|invalid nal|missing picture|"
    r"reference|co located|mmco", re.IGNORECASE)
TRANSPORT_LOSS = re.compile(r"missed \d+ packets|max delay reached|RTP: PT=", re.IGNORECASE)


class Server(ServerProcess):
    """steady-rtsp on a free loopback port."""

    drained_keys = ("clients", "sessions", "media-alive", "pipelines-alive")

    def __init__(self, binary, variant, args, report_dir):
        self.prometheus = args.audit and getattr(args, "prometheus", False)
        super().__init__(
            "steady-rtsp",
            [binary, "--port", "0", "--address", "127.0.0.1", "--width", "320", "--height",
             "240", "--framerate", str(FPS), "--key-int-max", str(FPS), "--bitrate", "600",
             "--status-interval", "1", "--session-timeout", str(args.session_timeout),
             "--stall-timeout", str(args.stall_timeout_ms), "--pool-max-idle", "8"],
            variant, args, report_dir, r"listening on rtsp://127\.0\.0\.1:(\d+)/")
        self.port = int(re.search(r":(\d+)/live", self.ready_line).group(1))
        self.metrics_port = None
        if "metrics-port" in self.env.get("GST_TRACERS", ""):
            m = self.wait_for(r"leakwatch: serving metrics on http://127\.0\.0\.1:(\d+)/", 10)
            if m:
                self.metrics_port = int(re.search(r":(\d+)/metrics", m).group(1))

    def extra_env(self, args):
        if not self.prometheus:
            return {}
        # The tracer steady-rtsp --audit would set, plus the metrics endpoint on a free port
        # (steady-rtsp keeps a GST_TRACERS it finds set).
        d = os.path.abspath(self.audit_dir)
        return {"GST_TRACERS": f'leakwatch(report="{d}/leakwatch.json",html="{d}/leakwatch.html",'
                               f'report-interval=5,metrics-port=0)'}


class Client(ChildProcess):
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
        self.frames = 0
        self.samples = []  # (monotonic time, frames)
        self.errors, self.loss, self.warnings = [], [], []
        super().__init__(cmd, "stderr", stdout=subprocess.PIPE if output != "null" else
                         subprocess.DEVNULL, stderr=subprocess.PIPE)

    def on_line(self, line):
        line = line.decode(errors="replace").strip()
        if line.startswith("frame="):
            self.frames = int(line[6:] or 0)
            self.samples.append((time.monotonic(), self.frames))
        elif "=" in line and " " not in line:
            return  # other -progress keys
        elif TRANSPORT_LOSS.search(line):
            self.loss.append(line)
        elif DECODE_ERROR.search(line):
            self.errors.append(line)
        elif line:
            self.warnings.append(line)

    def wait(self, timeout):
        if not super().wait(timeout):
            self.errors.append(f"client did not finish within {timeout} s")
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
