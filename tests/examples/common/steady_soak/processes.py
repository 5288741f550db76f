"""The processes a soak starts: clients or peers, and the example server under test. A thread of
each reads its output line by line."""

import os
import re
import signal
import subprocess
import threading
import time

from .text import parse_fields


class ChildProcess:
    """A process whose output stream (stdout or stderr, made a pipe by popen) a thread of its
    own hands to on_line(), one line at a time. Subclasses set what on_line() uses before
    calling __init__."""

    stop_signal = signal.SIGINT  # what interrupt() sends

    def __init__(self, cmd, stream, **popen):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, **popen)
        self.killed = self.stopped = False
        self.rc = None
        self.reader = threading.Thread(target=self._read, args=(getattr(self.proc, stream),),
                                       daemon=True)
        self.reader.start()

    def _read(self, stream):
        for line in stream:
            self.on_line(line)

    def on_line(self, line):
        raise NotImplementedError

    def kill(self):
        """Ends it abruptly (SIGKILL), as a crash would."""
        self.killed = True
        self.proc.kill()

    def interrupt(self):
        """Asks it to end the way a user would (stop_signal)."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)

    def wait(self, timeout, join_timeout=5):
        """Waits for it to exit, killing it after timeout s; False when it had to be killed."""
        try:
            self.rc = self.proc.wait(timeout=timeout)
            in_time = True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            in_time = False
        self.reader.join(timeout=join_timeout)
        return in_time


class ServerProcess(ChildProcess):
    """An example server under test: command plus --baseline for the baseline variant and --audit
    into <report_dir>/<variant>/ when args.audit. Its output lines are kept with their arrival
    time and written to server.log in that folder. Subclasses name the status fields that say it
    is drained (drained_keys) and may add to its environment (extra_env)."""

    stop_signal = signal.SIGTERM
    drained_keys = ()

    def __init__(self, program, command, variant, args, report_dir, ready):
        """ready: a pattern of the line saying it listens (ready_line, within 30 s)."""
        self.program, self.variant = program, variant
        self.lines = []  # (monotonic time, line)
        self.lock = threading.Lock()
        self.audit_dir = os.path.join(report_dir, variant)
        os.makedirs(self.audit_dir, exist_ok=True)
        cmd = list(command)
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
        env.update(self.extra_env(args))
        self.env = env
        super().__init__(cmd, "stdout", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, bufsize=1, env=env)
        self.ready_line = self.wait_for(ready, 30)
        if self.ready_line is None:
            self.proc.kill()
            raise RuntimeError(f"{variant} server did not start:\n" + self.text())

    def extra_env(self, args):  # pylint: disable=unused-argument
        return {}

    def on_line(self, line):
        self.log_file.write(line)
        with self.lock:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self):
        with self.lock:
            return "\n".join(line for _, line in self.lines)

    def wait_for(self, pattern, timeout, since=0.0):
        """The first line since `since` matching pattern, waiting up to timeout s; None if none
        came or the server ended."""
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
                if " status " in line:
                    return parse_fields(line)
        return {}

    def wait_drained(self, timeout):
        """Until a status line shows every drained_keys field at 0 (nothing of a client
        alive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.wait_for(r"status t=", 5, time.monotonic())
            if line:
                s = parse_fields(line)
                if all(s.get(k) == "0" for k in self.drained_keys):
                    return True
        return False

    def stop(self):
        """SIGTERM, then (rc, the fields of its "<program>: final" line)."""
        self.interrupt()
        self.wait(60, join_timeout=10)
        self.log_file.close()
        final = {}
        with self.lock:
            for _, line in self.lines:
                if line.startswith(f"{self.program}: final "):
                    final = parse_fields(line)
        return self.rc, final
