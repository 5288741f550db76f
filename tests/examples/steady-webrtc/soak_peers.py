"""The processes a steady-webrtc soak deals with: the server under test and real WebRTC
receivers (steady-webrtc-peer). What they share with steady-rtsp's is in ../common/steady_soak."""

import re
import signal
import subprocess
import time

from steady_soak.processes import ChildProcess, ServerProcess
from steady_soak.text import parse_fields

FPS = 30


class Server(ServerProcess):
    """steady-webrtc on a free loopback port."""

    drained_keys = ("peers", "bins-alive", "webrtcbins-alive")

    def __init__(self, binary, variant, args, report_dir):
        super().__init__(
            "steady-webrtc",
            [binary, "--port", "0", "--address", "127.0.0.1", "--width", "320", "--height",
             "240", "--framerate", str(FPS), "--bitrate", "500", "--key-int-max", str(2 * FPS),
             "--status-interval", "1", "--peer-timeout", str(args.peer_timeout),
             "--keyframe-min-interval", str(args.keyframe_min_ms)],
            variant, args, report_dir, r"listening on http://127\.0\.0\.1:(\d+)/ \(page\)")
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)/", self.ready_line).group(1))
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def statuses_between(self, t0, t1):
        with self.lock:
            return [parse_fields(line) for t, line in self.lines
                    if t0 <= t <= t1 and " status t=" in line]


class Peer(ChildProcess):
    """One steady-webrtc-peer process: webrtcbin, decoder, stamp reader."""

    stop_signal = signal.SIGTERM

    def __init__(self, binary, url, seconds=None, pli_every_ms=0):
        cmd = [binary, "--url", url]
        if seconds:
            cmd += ["--seconds", str(seconds)]
        if pli_every_ms:
            cmd += ["--pli-every", str(pli_every_ms)]
        self.id = None
        self.samples = []  # (monotonic time, frames, missing)
        self.final = {}
        self.messages = []
        super().__init__(cmd, "stdout", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, bufsize=1)

    def on_line(self, line):
        line = line.strip()
        if line.startswith("peer: progress "):
            f = parse_fields(line)
            self.samples.append((time.monotonic(), int(f["frames"]), int(f["missing"])))
        elif line.startswith("peer: connected "):
            self.id = parse_fields(line).get("id")
        elif line.startswith("peer: final "):
            self.final = parse_fields(line)
        elif line:
            self.messages.append(line)

    @property
    def frames(self):
        return self.samples[-1][1] if self.samples else 0

    def wait(self, timeout):
        if not super().wait(timeout):
            self.messages.append(f"peer did not finish within {timeout} s")
        return self

    def window(self, t0, t1):
        """(fps, delivered fraction) between two instants: frames shown per second, and the
        frames shown over the source frames that went by (shown + missing frame numbers)."""
        def at(t):
            before = [(f, m) for ts, f, m in self.samples if ts <= t]
            return before[-1] if before else (0, 0)
        f0, m0 = at(t0)
        f1, m1 = at(t1)
        shown, missed = f1 - f0, m1 - m0
        return shown / max(t1 - t0, 1e-3), shown / max(shown + missed, 1)

    def clean(self):
        f = self.final
        return (self.rc == 0 and int(f.get("frames", 0)) > 0 and f.get("bad") == "0" and
                f.get("decode-errors") == "0")

    def describe(self):
        return (f"peer {self.id} rc={self.rc} final={self.final} "
                f"messages={self.messages[-3:]}")
