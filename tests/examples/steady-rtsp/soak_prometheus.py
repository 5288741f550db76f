"""The soak's second referee: Debian's Prometheus scraping steady-rtsp's leakwatch endpoint.

The server runs under leakwatch(metrics-port=0); a Prometheus started here (generated config,
1 s scrape interval, temporary storage, a free loopback port) scrapes it for the whole run.
At the end the soak's conclusions are drawn again from what Prometheus stored: descriptors
by class and the thread total back where they were after warm-up, and the RSS slope over the
second half of the churn (Theil-Sen over the stored samples, as the /proc check does).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from steady_soak.stats import theil_sen_slope
from steady_soak.text import log


def have_prometheus():
    return shutil.which("prometheus") is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, target_port, log_path):
        self.dir = tempfile.mkdtemp(prefix="soak-prometheus-")
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: steady-rtsp\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{target_port}']\n")
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)["data"]["result"]

    def wait_sample_after(self, t, timeout=60):
        """Polls (an external server, with a deadline) until a scrape later than t is stored."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = self.api("query", query="timestamp(leakwatch_samples_total)")
                if r and float(r[0]["value"][1]) > t:
                    return float(r[0]["value"][1])
            except OSError:
                pass
            if self.proc.poll() is not None:
                return False
            time.sleep(0.5)
        return None

    def values_at(self, query, t):
        """{label value of the first label, or '': value} of an instant query at time t."""
        out = {}
        for s in self.api("query", query=query, time=f"{t:.3f}"):
            labels = {k: v for k, v in s["metric"].items() if k not in ("__name__", "job", "instance")}
            out[next(iter(labels.values()), "")] = float(s["value"][1])
        return out

    def series(self, query, start, end):
        r = self.api("query_range", query=query, start=f"{start:.3f}", end=f"{end:.3f}", step="1")
        return [(float(t), float(v)) for t, v in r[0]["values"]] if r else []

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def check_from_prometheus(prom, result, times, rss_tolerance):
    """Adds the Prometheus checks to result. times: wall-clock (time.time()) marks."""
    before_t, half_t, end_t = times["before"], times["half"], times["after"]
    last = prom.wait_sample_after(end_t + 1)
    if last is None:
        result.check("Prometheus: stored the run", False, "no scrape after the drain")
        return
    # "Before": the latest scrape half a second after the warm-up snapshot (the drained state,
    # or the first clients of the churn, which can only raise it); "after": the first scrape
    # stored over a second after the final drain.
    fd_before = prom.values_at("leakwatch_open_fds", before_t + 0.5)
    fd_after = prom.values_at("leakwatch_open_fds", last)
    grown = {c: fd_after.get(c, 0) - fd_before.get(c, 0) for c in set(fd_before) | set(fd_after)}
    result.check("Prometheus: no descriptor growth by class",
                 bool(fd_after) and all(v <= 0 for v in grown.values()),
                 ", ".join(f"{c} {fd_before.get(c, 0):.0f}->{fd_after.get(c, 0):.0f}"
                           for c in sorted(grown)))
    th_before = prom.values_at("leakwatch_process_threads", before_t + 0.5)
    th_after = prom.values_at("leakwatch_process_threads", last)
    result.check("Prometheus: thread total back to its warm-up level",
                 bool(th_after) and th_after.get("", 1e9) <= th_before.get("", 0),
                 f"{th_before.get('', 0):.0f} -> {th_after.get('', 0):.0f}")
    rss = prom.series("process_resident_memory_bytes", half_t, times["churn_end"])
    slope = theil_sen_slope([(t / 60.0, v / 2**20) for t, v in rss]) if len(rss) > 10 else None
    result.check(f"Prometheus: RSS slope over the 2nd half <= {rss_tolerance} MiB/min",
                 slope is not None and slope <= rss_tolerance,
                 f"{slope:+.2f} MiB/min over {len(rss)} stored samples" if slope is not None
                 else f"only {len(rss)} samples stored")
    log(f"   Prometheus on 127.0.0.1:{prom.port} stored {len(rss)} RSS samples of the 2nd half")
