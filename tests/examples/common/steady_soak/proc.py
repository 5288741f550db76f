"""/proc of the server under test: what it holds at one moment (descriptors by class, threads by
name class, RSS, CPU time), and its RSS sampled every second."""

import os
import re
import threading
import time

from .compare import fd_growth, thread_growth
from .stats import theil_sen_slope


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


def settled_snapshot(pid, before, timeout):
    """(snapshot, seconds waited): a snapshot taken once no descriptor or thread class holds
    more than in before (compare.fd_growth and thread_growth), or at timeout. A pooled thread
    that ran one of the last sessions' tasks may stay idle in GLib's thread pool a while before
    it exits (a 1.26 run once counted five more task threads just after the last peer left);
    a thread still there at timeout is counted as growth."""
    start = time.monotonic()
    while True:
        snap = proc_snapshot(pid)
        settled = fd_growth(before, snap)[0] and thread_growth(before, snap)[0]
        waited = time.monotonic() - start
        if settled or waited >= timeout:
            return snap, waited
        time.sleep(0.5)


class RssSampler:
    """Samples a process's RSS every second on a thread of its own, until stop()."""

    def __init__(self, proc):
        self.proc = proc
        self.series = []  # (monotonic time, RSS bytes)
        self.on = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while self.on and self.proc.poll() is None:
            try:
                self.series.append((time.monotonic(), proc_snapshot(self.proc.pid)["rss"]))
            except OSError:
                break
            time.sleep(1)

    def stop(self):
        self.on = False
        self.thread.join(timeout=5)

    def slope_mib_per_min(self):
        """RSS slope over the second half of the samples (Theil-Sen), MiB per minute."""
        return theil_sen_slope([(t / 60.0, r / 2**20)
                                for t, r in self.series[len(self.series) // 2:]])
