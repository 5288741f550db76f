"""The processes a steady-webrtc soak deals with: the server under test and real WebRTC
receivers (steady-webrtc-peer). /proc sampling, the Theil-Sen slope and the server's output
handling are steady-rtsp's (soak_processes.py), shared rather than copied."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "steady-rtsp"))

import soak_processes  # noqa: E402
from soak_processes import log, parse_fields  # noqa: E402,F401

FPS = 30


class Server(soak_processes.Server):
    """steady-webrtc on a free loopback port; output lines kept with their arrival time."""

    def __init__(self, binary, variant, args, report_dir):  # pylint: disable=super-init-not-called
        self.variant = variant
        self.lines = []
        self.lock = threading.Lock()
        self.audit_dir = os.path.join(report_dir, variant)
        os.makedirs(self.audit_dir, exist_ok=True)
        cmd = [binary, "--port", "0", "--address", "127.0.0.1", "--width", "320", "--height",
               "240", "--framerate", str(FPS), "--bitrate", "500", "--key-int-max", str(2 * FPS),
               "--status-interval", "1", "--peer-timeout", str(args.peer_timeout),
               "--keyframe-min-interval", str(args.keyframe_min_ms)]
        if variant == "baseline":
            cmd.append("--baseline")
        if args.audit:
            cmd += ["--audit", "--audit-dir", self.audit_dir, "--report-interval", "5"]
        self.cmd = cmd
        self.log_path = os.path.join(self.audit_dir, "server.log")
        self.log_file = open(self.log_path, "w")
        env = dict(os.environ)
        if args.arena_max:
            env["MALLOC_ARENA_MAX"] = str(args.arena_max)  # see steady-rtsp's soak
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_for(r"listening on http://127\.0\.0\.1:(\d+)/ \(page\)", 30)
        if line is None:
            self.proc.kill()
            raise RuntimeError(f"{variant} server did not start:\n" + self.text())
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def wait_drained(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.wait_for(r"status t=", 5, time.monotonic())
            if line:
                s = parse_fields(line)
                if all(s.get(k) == "0" for k in ("peers", "bins-alive", "webrtcbins-alive")):
                    return True
        return False

    def statuses_between(self, t0, t1):
        with self.lock:
            return [parse_fields(line) for t, line in self.lines
                    if t0 <= t <= t1 and " status t=" in line]

    def stop(self):
        rc, _ = super().stop()
        final = {}
        with self.lock:
            for _, line in self.lines:
                if line.startswith("steady-webrtc: final "):
                    final = parse_fields(line)
        return rc, final


class Peer:
    """One steady-webrtc-peer process: webrtcbin, decoder, stamp reader."""

    def __init__(self, binary, url, seconds=None, pli_every_ms=0):
        cmd = [binary, "--url", url]
        if seconds:
            cmd += ["--seconds", str(seconds)]
        if pli_every_ms:
            cmd += ["--pli-every", str(pli_every_ms)]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.id = None
        self.samples = []  # (monotonic time, frames, missing)
        self.final = {}
        self.messages = []
        self.killed = self.stopped = False
        self.rc = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
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

    def kill(self):
        self.killed = True
        self.proc.kill()

    def interrupt(self):
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            self.messages.append(f"peer did not finish within {timeout} s")
        self.reader.join(timeout=5)
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
