// Benchmark for vapoolenc, in one run:
//  1. Session start: time from PLAYING to the first encoded buffer for a fresh fakehwenc (with
//     its modelled context-creation delay), a fresh x264enc, and vapoolenc taking a parked
//     fakehwenc session from the pool. Medians over repetitions, and ratios.
//  2. Churn: N sequential vapoolenc sessions under the leakwatch tracer, in a child process
//     (tracers are chosen at gst_init: the benchmark re-executes itself with --churn-child and
//     GST_TRACERS="leakwatch(interval=0,...,report=FILE)"). The child takes one leakwatch sample
//     per session with the `sample-now` action signal and checkpoints after warm-up and at the
//     end; the parent reads leakwatch's JSON report: verdict, alerts, and trend slopes of RSS,
//     descriptors by class and threads by name. Next to them, as a cross-check, robust
//     (Theil-Sen) per-session slopes of the descriptor count, thread count and RSS the child
//     sampled from /proc itself. Then the anchor: a fresh x264enc pipeline per session, no
//     pool, in this process without a tracer.
//
//   bench-vapoolenc [--reps N] [--sessions N] [--delay-ms N]
// VAPOOLENC_BENCH_POOLED replaces the pooled encoder description (it must name the encoder
// element "enc"), to compare variants.
#include "steady-tracing.h"
#include <glib/gstdio.h>
#include <gst/gst.h>

#include <dirent.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include "steady-stats.h"

namespace {

using Clock = std::chrono::steady_clock;

struct FirstBuffer {
  Clock::time_point at;
  std::atomic<bool> seen{false};
  bool keyframe = false;
};

GstPadProbeReturn on_buffer(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *fb = static_cast<FirstBuffer *>(data);
  if (!fb->seen.load()) {
    fb->at = Clock::now();
    fb->keyframe =
        !GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT);
    fb->seen = true;
  }
  return GST_PAD_PROBE_OK;
}

GstElement *launch(const std::string &desc) {
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  if (!p || err) {
    std::fprintf(stderr, "cannot build %s: %s\n", desc.c_str(), err ? err->message : "?");
    std::exit(1);
  }
  return GST_ELEMENT(gst_object_ref_sink(p));
}

// Runs to EOS; returns ms from set_state(PLAYING) to the first buffer leaving element "enc".
double run_session(const std::string &desc, bool *keyframe = nullptr) {
  GstElement *p = launch(desc);
  GstElement *enc = gst_bin_get_by_name(GST_BIN(p), "enc");
  GstPad *pad = gst_element_get_static_pad(enc, "src");
  FirstBuffer fb;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &fb, nullptr);
  GstBus *bus = gst_element_get_bus(p);
  const Clock::time_point start = Clock::now();
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!msg || GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    std::fprintf(stderr, "session failed: %s\n", desc.c_str());
    std::exit(1);
  }
  gst_message_unref(msg);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pad);
  gst_object_unref(enc);
  gst_object_unref(p);
  if (keyframe)
    *keyframe = fb.keyframe;
  return std::chrono::duration<double, std::milli>(fb.at - start).count();
}

// Theil-Sen over evenly spaced samples (x = sample index); every second sample past 400 bounds
// the pair count.
double theil_sen(const std::vector<double> &y) {
  const size_t stride = y.size() > 400 ? 2 : 1;
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < y.size(); i += stride)
    points.emplace_back(static_cast<double>(i), y[i]);
  return steady::theil_sen_slope(points);
}

// Ordinary least squares, for contrast with the robust estimate.
double ols(const std::vector<double> &y) {
  const double n = static_cast<double>(y.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < y.size(); i++) {
    const double x = static_cast<double>(i);
    sx += x;
    sy += y[i];
    sxx += x * x;
    sxy += x * y[i];
  }
  const double d = n * sxx - sx * sx;
  return d != 0 ? (n * sxy - sx * sy) / d : 0;
}

int fd_count() {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  while (struct dirent *e = readdir(d))
    n += e->d_name[0] != '.' ? 1 : 0;
  closedir(d);
  return n - 1;
}

long status_field(const char *name) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(name, 0) == 0)
      return std::strtol(line.c_str() + std::strlen(name), nullptr, 10);
  return -1;
}

guint64 stat_field(GstStructure *s, const char *field) {
  guint64 v = 0;
  gst_structure_get_uint64(s, field, &v);
  return v;
}

struct Series {
  std::vector<double> fds, threads, rss, heap;
};

// Runs `sessions` sessions of `desc`, sampling /proc (and malloc) after each one; `after` is
// called after each session (the leakwatch child takes its sample there).
template <typename After>
Series churn(const std::string &desc, int sessions, After after) {
  Series s;
  for (int i = 0; i < sessions; i++) {
    run_session(desc);
    after();
    s.fds.push_back(fd_count());
    s.threads.push_back(static_cast<double>(status_field("Threads:")));
    s.rss.push_back(static_cast<double>(status_field("VmRSS:")));
    // malloc's bytes in use: a sharper leak signal than RSS (no page or arena effects).
    s.heap.push_back(static_cast<double>(mallinfo2().uordblks) / 1024.0);
  }
  return s;
}

void report_series(const char *what, const Series &s) {
  std::printf("  %s\n", what);
  std::printf("    descriptors: first %.0f last %.0f  slope %+.5f per session\n", s.fds.front(),
              s.fds.back(), theil_sen(s.fds));
  std::printf("    threads:     first %.0f last %.0f  slope %+.5f per session\n", s.threads.front(),
              s.threads.back(), theil_sen(s.threads));
  std::printf(
      "    RSS:         first %.0f KiB last %.0f KiB  slope %+.3f KiB per session "
      "(least squares %+.3f)\n",
      s.rss.front(), s.rss.back(), theil_sen(s.rss), ols(s.rss));
  std::printf(
      "    heap in use: first %.0f KiB last %.0f KiB  slope %+.3f KiB per session "
      "(least squares %+.3f)\n",
      s.heap.front(), s.heap.back(), theil_sen(s.heap), ols(s.heap));
}

GstStructure *pool_stats() {
  GstElement *probe = gst_element_factory_make("vapoolenc", nullptr);
  gst_object_ref_sink(probe);
  GstStructure *stats = nullptr;
  g_object_get(probe, "pool-stats", &stats, nullptr);
  gst_object_unref(probe);
  return stats;
}

GstObject *find_leakwatch() {
  GstObject *found = steady::find_active_tracer("GstLeakwatchTracer");
  return found;
}

void print_checkpoint(GstObject *leakwatch, const char *label) {
  GstStructure *cp = nullptr;
  g_signal_emit_by_name(leakwatch, "checkpoint", &cp);
  guint objects = 0, pipelines = 0;
  gint fds = 0, threads = 0;
  gint64 rss = 0;
  gst_structure_get(cp, "objects", G_TYPE_UINT, &objects, "fds-delta", G_TYPE_INT, &fds,
                    "threads-delta", G_TYPE_INT, &threads, "rss-delta", G_TYPE_INT64, &rss,
                    "pipelines-alive", G_TYPE_UINT, &pipelines, nullptr);
  std::printf(
      "  leakwatch checkpoint %s: %u recorded objects left since the previous one, "
      "descriptors %+d, threads %+d, RSS %+.1f KiB, %u pipelines alive\n",
      label, objects, fds, threads, static_cast<double>(rss) / 1024.0, pipelines);
  gst_structure_free(cp);
}

// The churn under leakwatch (GST_TRACERS set by the parent). Prints its figures, then
// gst_deinit() writes leakwatch's report (and exits 65 if it found leaks: fail-on-leak).
int churn_child(const std::string &pooled, int sessions) {
  GstObject *leakwatch = find_leakwatch();
  if (!leakwatch) {
    std::fprintf(stderr, "churn child: leakwatch is not active (GST_TRACERS)\n");
    return 1;
  }
  guint alerts = 0;
  auto sample = [&] {
    guint raised = 0;
    g_signal_emit_by_name(leakwatch, "sample-now", &raised);
    alerts += raised;
  };
  // Warm-up: plugin loading, the probe, the first (created) session, the task pool's threads.
  churn(pooled, 5, sample);
  print_checkpoint(leakwatch, "after 5 warm-up sessions");
  GstStructure *before = pool_stats();
  Series ours = churn(pooled, sessions, sample);
  print_checkpoint(leakwatch, "at the end");
  GstStructure *after = pool_stats();
  const guint64 created = stat_field(after, "created") - stat_field(before, "created");
  const guint64 reused = stat_field(after, "reused") - stat_field(before, "reused");
  double rate = 0;
  gst_structure_get_double(after, "reuse-rate", &rate);
  std::printf("  pool within the churn: created %" G_GUINT64_FORMAT ", reused %" G_GUINT64_FORMAT
              ", reuse rate %.4f (target >= 0.85)\n",
              created, reused, static_cast<double>(reused) / static_cast<double>(sessions));
  std::printf("  pool overall (vapoolenc pool-stats): created %" G_GUINT64_FORMAT
              ", reused %" G_GUINT64_FORMAT ", destroyed %" G_GUINT64_FORMAT
              ", cleanup failures %" G_GUINT64_FORMAT ", reuse rate %.4f\n",
              stat_field(after, "created"), stat_field(after, "reused"),
              stat_field(after, "destroyed"), stat_field(after, "cleanup-failures"), rate);
  std::printf("  leakwatch alerts raised by sample-now: %u\n", alerts);
  report_series("/proc cross-check in the same child (Theil-Sen over the churn sessions):", ours);
  // Machine-readable for the parent's side-by-side table.
  std::printf("cross-check fds %.6f\ncross-check threads %.6f\ncross-check rss %.6f\n",
              theil_sen(ours.fds), theil_sen(ours.threads), theil_sen(ours.rss));
  std::fflush(stdout);
  gst_structure_free(before);
  gst_structure_free(after);
  gst_object_unref(leakwatch);
  gst_deinit();
  return 0;
}

// Reads leakwatch's JSON report and prints its verdict, alerts and trend slopes per minute and
// per session, next to the child's /proc figures (python3, as the check tests read reports).
// Fails (exit status 1) unless the verdict is clean and no alert was raised.
const char *kReportTable = R"PY(
import json, sys
d = json.load(open(sys.argv[1]))
proc = json.loads(sys.argv[2])
sessions = int(sys.argv[3])
# Samples: 5 warm-up sessions, then one per churn session, then the one taken at gst_deinit().
t = d["samples"]["t_s"]
assert len(t) == 5 + sessions + 1, (len(t), sessions)
first, last = 5, 5 + sessions - 1
per_min = (last - first) / (t[last] - t[first]) * 60.0  # one sample per session
inst = [i for o in d["objects"] for i in o["instances"]]
bad = [p["name"] + "=" + p["verdict"] for p in d["pipelines"] if p["verdict"] != "ok"]
print("  leakwatch report: verdict %s, %d samples over %.1f s (%.0f sessions per minute), "
      "%d pipelines seen, %d with problems, %d objects left, %d alerts"
      % (d["verdict"], d["samples_taken"], d["duration_s"], per_min, len(d["pipelines"]),
         len(bad), len(inst), len(d["alerts"])))
for a in d["alerts"]:
    print("    ALERT %s at +%.1f s: %+.4g per minute, growth %+.4g over %d points"
          % (a["metric"], a["t_s"], a["slope_per_minute"], a["growth"], a["window"]))
series = d["samples"]["series"]
trends = {x["metric"]: x for x in d["trends"]}
def row(metric, unit, scale, cross):
    tr = trends[metric]
    col = series[metric]
    per_session = tr["slope_per_minute"] / per_min * scale
    cross_txt = "" if cross is None else "%+11.5f" % cross
    print("    %-22s %10.1f %10.1f %+14.4g %+13.5f %11s %s" % (
        metric, col[first] * scale, col[last] * scale, tr["slope_per_minute"] * scale, per_session,
        cross_txt, "ALERTING" if tr["alerting"] else ""))
print("  leakwatch trends (Theil-Sen at its widest scale with >= 8 points) and /proc cross-check:")
print("    %-22s %10s %10s %14s %13s %11s" % ("metric", "first", "last", "per minute",
                                              "per session", "/proc"))
row("rss", "KiB", 1 / 1024.0, proc["rss"])
row("fds/total", "", 1, proc["fds"])
for m in sorted(k for k in series if k.startswith("fds/") and k != "fds/total"):
    if max(series[m][first:last + 1]) > 0:
        row(m, "", 1, None)
row("threads/total", "", 1, proc["threads"])
for m in sorted(k for k in series if k.startswith("threads/") and k != "threads/total"):
    if max(series[m][first:last + 1]) > 0:
        row(m, "", 1, None)
print("  (first/last: at the first and last churn session; rss in KiB; /proc: the child's own")
print("   per-session Theil-Sen slope of the same quantity over the churn sessions)")
if d["verdict"] != "clean" or d["alerts"]:
    print("  FAIL: leakwatch's verdict must be clean and it must raise no alert")
    sys.exit(1)
)PY";

int print_report(const std::string &json, const std::map<std::string, double> &proc, int sessions) {
  std::ostringstream o;
  o << "{\"fds\": " << proc.at("fds") << ", \"threads\": " << proc.at("threads")
    << ", \"rss\": " << proc.at("rss") << "}";
  const std::string proc_json = o.str(), n = std::to_string(sessions);
  const gchar *argv[] = {"python3",         "-c",      kReportTable, json.c_str(),
                         proc_json.c_str(), n.c_str(), nullptr};
  gint status = 0;
  GError *error = nullptr;
  if (!g_spawn_sync(nullptr, const_cast<gchar **>(argv), nullptr,
                    static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN),
                    nullptr, nullptr, nullptr, nullptr, &status, &error)) {
    std::fprintf(stderr, "cannot run python3: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  return g_spawn_check_wait_status(status, nullptr) ? 0 : 1;
}

// Re-executes this benchmark with --churn-child under leakwatch; prints what the child and the
// report say. Returns nonzero when the child failed or leakwatch's verdict is not clean.
int churn_under_leakwatch(int sessions, int delay_ms) {
  gchar *dir = g_dir_make_tmp("vapoolenc-bench-XXXXXX", nullptr);
  const std::string json = std::string(dir) + "/leakwatch.json";
  g_free(dir);
  // window=100: the finest scale judges the last 100 sessions; the 10x scale (every 10th
  // sample, 51 points for 500 sessions) spans the whole run and is what the report's trends give.
  const std::string tracers =
      "leakwatch(interval=0,window=100,fail-on-leak=true,summary=true,report=" + json + ")";
  gchar **env = g_get_environ();
  env = g_environ_setenv(env, "GST_TRACERS", tracers.c_str(), TRUE);
  const std::string n = std::to_string(sessions), d = std::to_string(delay_ms);
  // The real path, not /proc/self/exe: thread names (and so leakwatch's groups) come from it.
  gchar *self = g_file_read_link("/proc/self/exe", nullptr);
  const std::string exe = self ? self : "/proc/self/exe";
  g_free(self);
  const gchar *argv[] = {exe.c_str(), "--churn-child", "1",       "--sessions",
                         n.c_str(),   "--delay-ms",    d.c_str(), nullptr};
  gchar *out = nullptr, *err = nullptr;
  gint status = 0;
  GError *error = nullptr;
  gboolean ok = g_spawn_sync(nullptr, const_cast<gchar **>(argv), env, G_SPAWN_DEFAULT, nullptr,
                             nullptr, &out, &err, &status, &error);
  g_strfreev(env);
  if (!ok) {
    std::fprintf(stderr, "cannot re-execute the benchmark: %s\n", error->message);
    return 1;
  }
  std::printf("  child: GST_TRACERS=\"%s\"\n", tracers.c_str());
  std::map<std::string, double> proc;
  std::istringstream lines(out ? out : "");
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("cross-check ", 0) == 0) {
      std::istringstream f(line.substr(12));
      std::string key;
      double v = 0;
      f >> key >> v;
      proc[key] = v;
    } else {
      std::printf("%s\n", line.c_str());
    }
  }
  // leakwatch's own summary (stderr of the child), indented.
  std::istringstream errs(err ? err : "");
  for (std::string line; std::getline(errs, line);)
    std::printf("  | %s\n", line.c_str());
  g_free(out);
  g_free(err);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0 || proc.size() != 3) {
    std::printf("  CHURN CHILD FAILED: exit status %d%s\n", code,
                code == 65 ? " (leakwatch fail-on-leak: leaks found)" : "");
    return 1;
  }
  std::fflush(stdout);
  const int rc = print_report(json, proc, sessions);
  g_remove(json.c_str());
  gchar *dir_of = g_path_get_dirname(json.c_str());
  g_rmdir(dir_of);
  g_free(dir_of);
  return rc;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  int reps = 15, sessions = 500, delay_ms = 50;
  bool child = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--churn-child"))
      child = true;
    else if (!std::strcmp(argv[i], "--reps"))
      reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--sessions"))
      sessions = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--delay-ms"))
      delay_ms = std::atoi(argv[i + 1]);
  }
  GstElement *hw = gst_element_factory_make("fakehwenc", nullptr);
  if (!hw) {
    std::fprintf(stderr, "fakehwenc not found: build with -Dtests=enabled\n");
    return 1;
  }
  gst_object_ref_sink(hw);
  g_object_set(hw, "creation-delay", delay_ms, nullptr);

  const std::string src =
      "videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=640,height=360,"
      "framerate=30/1 ! ";
  const std::string sink = " ! fakesink sync=false";
  std::string pooled = src + "vapoolenc name=enc hardware-factories=fakehwenc" + sink;
  if (const char *e =
          std::getenv("VAPOOLENC_BENCH_POOLED"))  // e.g. "vapoolenc name=enc device=software"
    pooled = src + e + sink;
  if (child) {
    gst_object_unref(hw);  // creation-delay is process-wide; nothing may outlive gst_deinit()
    return churn_child(pooled, sessions);
  }

  std::printf("vapoolenc benchmark: %d repetitions, fakehwenc creation delay %d ms, 640x360 I420\n",
              reps, delay_ms);
  // Warm up: plugin loading, vapoolenc's one-time probe, and one parked session.
  run_session(src + "fakehwenc name=enc" + sink);
  run_session(src + "x264enc name=enc tune=zerolatency speed-preset=ultrafast" + sink);
  run_session(pooled);

  std::vector<double> fresh_hw, fresh_sw, reused;
  bool all_key = true;
  for (int r = 0; r < reps; r++) {
    // Interleaved, so drift on the shared machine hits all three alike.
    fresh_hw.push_back(run_session(src + "fakehwenc name=enc low-delay=true" + sink));
    fresh_sw.push_back(
        run_session(src + "x264enc name=enc tune=zerolatency speed-preset=ultrafast" + sink));
    bool key = false;
    reused.push_back(run_session(pooled, &key));
    all_key = all_key && key;
  }
  const double m_hw = steady::median(fresh_hw), m_sw = steady::median(fresh_sw),
               m_re = steady::median(reused);
  std::printf("\n== session start: PLAYING -> first encoded buffer (median of %d)\n", reps);
  std::printf("  fresh fakehwenc             %8.2f ms\n", m_hw);
  std::printf("  fresh x264enc               %8.2f ms\n", m_sw);
  std::printf("  vapoolenc, parked session   %8.2f ms   (first buffer always a keyframe: %s)\n",
              m_re, all_key ? "yes" : "NO");
  std::printf("  ratio pooled / fresh fakehwenc  %.3f   (target <= 0.2)\n", m_re / m_hw);
  std::printf("  ratio pooled / fresh x264enc    %.3f\n", m_re / m_sw);

  // Churn: ours under leakwatch in a child process, then the anchor (a fresh x264enc pipeline
  // per session, no pool) here, on the same input, so GStreamer's own per-pipeline allocation
  // trend is visible next to ours.
  std::printf("\n== churn: %d sequential vapoolenc sessions (10 frames each) under leakwatch\n",
              sessions);
  std::fflush(stdout);
  const int churn_rc = churn_under_leakwatch(sessions, delay_ms);
  Series anchor = churn(src + "x264enc name=enc tune=zerolatency speed-preset=ultrafast" + sink,
                        sessions, [] {});
  report_series("anchor, fresh x264enc pipeline per session (no pool, no tracer):", anchor);
  gst_object_unref(hw);
  gst_deinit();
  return churn_rc;
}
