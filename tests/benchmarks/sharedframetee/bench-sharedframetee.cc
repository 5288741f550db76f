// Benchmark: `sharedframetee` against two anchors, `tee ! queue` and `tee ! queue
// leaky=downstream` per branch, in one process run, on the same synthetic stream, for 1, 4,
// 8 and 16 branches, with and without one stalled branch (its sink blocks forever), for three
// producers: unpaced (pushes as fast as the pipeline takes), paced (a steady `fps`) and bursty
// (8 frames at once every 8 frame-times). Per configuration and repetition:
//   - delivered: frames each live branch received / frames sent (minimum over live branches),
//   - frames delivered per branch per CPU second (process user + system time, getrusage),
//     minimum over live branches: higher is better, and it counts only frames delivered,
//   - peak bytes held: most bytes of stream buffers alive at once.
// A `tee ! queue` run that does not finish (a stalled branch fills its queue and blocks the
// producer) is cut after a deadline and reported as blocked, with what it had delivered.
// Prints medians over the repetitions and the ratios ours / anchor.
//
// Usage: bench-sharedframetee [frames] [reps] [fps] [frame-bytes] [only-branches] [only-mode]
//   (defaults 240 3 240 50000 0 all; only-mode is unpaced, paced or bursty)
#include <gst/gst.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include "steady-stats.h"

namespace {

enum class Mode { kUnpaced, kPaced, kBursty };
const char *mode_name(Mode m) {
  return m == Mode::kUnpaced ? "unpaced" : m == Mode::kPaced ? "paced" : "bursty";
}

enum class Variant { kQueue, kLeaky, kOurs };

struct Params {
  int frames = 240;
  int reps = 3;
  int fps = 240;
  int frame_bytes = 50000;
};

// Bytes of stream buffers currently alive, and the peak.
std::atomic<long long> g_alive_bytes{0};
std::atomic<long long> g_peak_bytes{0};

void on_buffer_freed(gpointer data, GstMiniObject *) {
  g_alive_bytes -= GPOINTER_TO_INT(data);
}

GstBuffer *make_frame(int index, int bytes, int fps) {
  GstBuffer *buf = gst_buffer_new_allocate(nullptr, bytes, nullptr);
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(index, GST_SECOND, fps);
  GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, fps);
  GST_BUFFER_OFFSET(buf) = index;
  if (index % 30 != 0)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  const long long now = (g_alive_bytes += bytes);
  long long peak = g_peak_bytes.load();
  while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {
  }
  gst_mini_object_weak_ref(GST_MINI_OBJECT_CAST(buf), on_buffer_freed, GINT_TO_POINTER(bytes));
  return buf;
}

// Signalled when a live branch gets its EOS or the producer finishes: the main thread waits
// on it instead of polling, so its waiting costs no CPU in the figures.
struct Done {
  std::mutex m;
  std::condition_variable cv;
  void notify() {
    std::lock_guard<std::mutex> lk(m);
    cv.notify_all();
  }
};
Done *g_done = nullptr;

struct Branch {
  std::atomic<long long> received{0};
  std::atomic<bool> eos{false};
};

struct Gate {  // blocks the stalled branch until teardown
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
};

GstPadProbeReturn count_probe(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *b = static_cast<Branch *>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
    ++b->received;
  else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
    b->eos = true;
    g_done->notify();
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn stall_probe(GstPad *, GstPadProbeInfo *, gpointer data) {
  auto *g = static_cast<Gate *>(data);
  std::unique_lock<std::mutex> lk(g->m);
  g->cv.wait(lk, [g] { return g->open; });
  return GST_PAD_PROBE_OK;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

struct Result {
  double delivered_min = 0;  // live branches, frames received / frames sent
  double per_cpu_min = 0;    // live branches, frames received per CPU second
  double peak_bytes = 0;
  bool blocked = false;
};

Result run_once(Variant variant, int branches, bool stalled, Mode mode, const Params &p) {
  const bool ours = variant == Variant::kOurs;
  GstElement *pipeline = gst_pipeline_new(nullptr);
  GstElement *fan = gst_element_factory_make(ours ? "sharedframetee" : "tee", nullptr);
  if (!fan) {
    std::fprintf(stderr, "element %s missing\n", ours ? "sharedframetee" : "tee");
    std::exit(1);
  }
  gst_bin_add(GST_BIN(pipeline), fan);
  std::vector<Branch> counters(branches);
  Gate gate;
  for (int i = 0; i < branches; ++i) {
    GstElement *sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(pipeline), sink);
    if (ours) {
      gst_element_link(fan, sink);
    } else {
      GstElement *queue = gst_element_factory_make("queue", nullptr);
      if (variant == Variant::kLeaky)
        gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
      gst_bin_add(GST_BIN(pipeline), queue);
      gst_element_link_many(fan, queue, sink, nullptr);
    }
    GstPad *pad = gst_element_get_static_pad(sink, "sink");
    const bool is_stalled = stalled && i == branches - 1;
    if (is_stalled)
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, stall_probe, &gate, nullptr);
    else
      gst_pad_add_probe(pad,
                        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                     GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                        count_probe, &counters[i], nullptr);
    gst_object_unref(pad);
  }
  GstPad *src = gst_pad_new("src", GST_PAD_SRC);
  GstPad *fan_sink = gst_element_get_static_pad(fan, "sink");
  gst_pad_link_full(src, fan_sink, GST_PAD_LINK_CHECK_NOTHING);
  gst_object_unref(fan_sink);
  gst_pad_set_active(src, TRUE);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE);

  g_alive_bytes = 0;
  g_peak_bytes = 0;
  gst_pad_push_event(src, gst_event_new_stream_start("bench"));
  GstCaps *caps = gst_caps_from_string("video/x-h264, stream-format=byte-stream, alignment=au");
  gst_pad_push_event(src, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(src, gst_event_new_segment(&segment));

  const double cpu0 = cpu_seconds();
  std::atomic<bool> produced{false};
  std::thread producer([&] {
    const auto period = std::chrono::nanoseconds(1000000000LL / p.fps);
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < p.frames; ++i) {
      gst_pad_push(src, make_frame(i, p.frame_bytes, p.fps));
      if (mode == Mode::kPaced || (mode == Mode::kBursty && i % 8 == 7)) {
        next += mode == Mode::kPaced ? period : 8 * period;
        std::this_thread::sleep_until(next);
      }
    }
    gst_pad_push_event(src, gst_event_new_eos());
    produced = true;
    g_done->notify();
  });
  // Wait (bounded) until every live branch has its EOS: everything sent has been handled.
  // The bound is generous against the paced duration; only a blocked pipeline reaches it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1) +
                        std::chrono::milliseconds(2000LL * p.frames / p.fps);
  bool done;
  {
    std::unique_lock<std::mutex> lk(g_done->m);
    done = g_done->cv.wait_until(lk, deadline, [&] {
      if (!produced.load())
        return false;
      for (int i = 0; i < branches; ++i) {
        if (!(stalled && i == branches - 1) && !counters[i].eos.load())
          return false;
      }
      return true;
    });
  }
  const double cpu = cpu_seconds() - cpu0;

  Result r;
  r.blocked = !done;
  r.peak_bytes = static_cast<double>(g_peak_bytes.load());
  r.delivered_min = 1e9;
  r.per_cpu_min = 1e18;
  int live = 0;
  for (int i = 0; i < branches; ++i) {
    if (stalled && i == branches - 1)
      continue;
    const double got = static_cast<double>(counters[i].received);
    r.delivered_min = std::min(r.delivered_min, got / p.frames);
    r.per_cpu_min = std::min(r.per_cpu_min, cpu > 0 ? got / cpu : 0.0);
    ++live;
  }
  if (live == 0)
    r.delivered_min = r.per_cpu_min = 0;

  {
    std::lock_guard<std::mutex> lk(gate.m);
    gate.open = true;
    gate.cv.notify_all();
  }
  producer.join();
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_pad_set_active(src, FALSE);
  gst_object_unref(src);
  gst_object_unref(pipeline);
  return r;
}

struct Summary {
  double delivered, per_cpu, peak;
  int blocked;
};

Summary summarize(const std::vector<Result> &rs) {
  std::vector<double> a, b, c;
  int blocked = 0;
  for (const Result &r : rs) {
    a.push_back(r.delivered_min);
    b.push_back(r.per_cpu_min);
    c.push_back(r.peak_bytes);
    blocked += r.blocked ? 1 : 0;
  }
  return {steady::median(a), steady::median(b), steady::median(c), blocked};
}

std::string delivered_cell(const Summary &s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f%s", s.delivered, s.blocked ? " BLOCKED" : "");
  return buf;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  Done done;
  g_done = &done;
  Params p;
  if (argc > 1)
    p.frames = std::atoi(argv[1]);
  if (argc > 2)
    p.reps = std::atoi(argv[2]);
  if (argc > 3)
    p.fps = std::atoi(argv[3]);
  if (argc > 4)
    p.frame_bytes = std::atoi(argv[4]);
  const int only = argc > 5 ? std::atoi(argv[5]) : 0;
  const char *only_mode = argc > 6 ? argv[6] : nullptr;
  std::printf(
      "sharedframetee benchmark: %d frames of %d bytes, paced at %d fps (bursty: 8 frames "
      "every 8 frame-times), %d repetitions, medians\n",
      p.frames, p.frame_bytes, p.fps, p.reps);
  std::printf(
      "q: tee ! queue ! fakesink per branch; leaky: tee ! queue leaky=downstream ! fakesink; "
      "ours: sharedframetee ! fakesink (all defaults)\n");
  std::printf(
      "delivered: min over live branches of frames received / sent; per CPU s: min over live "
      "branches of frames received per process CPU second\n\n");
  std::printf("%-7s %-3s %-5s | %-33s | %-26s | %-11s | %-22s\n", "mode", "br", "stall",
              "delivered min (q / leaky / ours)", "per CPU s (q / leaky / ours)", "ours/q ours/lk",
              "peak bytes (q/lk/ours)");
  std::printf("%s\n", std::string(130, '-').c_str());
  for (Mode mode : {Mode::kUnpaced, Mode::kPaced, Mode::kBursty}) {
    if (only_mode && std::strcmp(only_mode, mode_name(mode)) != 0)
      continue;
    for (bool stalled : {false, true}) {
      for (int branches : {1, 4, 8, 16}) {
        if ((only && branches != only) || (stalled && branches == 1))
          continue;  // one stalled branch alone: no live branch to measure
        std::vector<Result> q, lk, ours;
        for (int rep = 0; rep < p.reps; ++rep) {
          // Interleave so drift in machine load hits all alike.
          // A blocked `tee ! queue` blocks every repetition alike: measured once.
          if (q.empty() || !q.front().blocked)
            q.push_back(run_once(Variant::kQueue, branches, stalled, mode, p));
          lk.push_back(run_once(Variant::kLeaky, branches, stalled, mode, p));
          ours.push_back(run_once(Variant::kOurs, branches, stalled, mode, p));
        }
        const Summary a = summarize(q), l = summarize(lk), o = summarize(ours);
        std::printf(
            "%-7s %-3d %-5s | %-10s / %-10s / %-9s | %7.0f / %7.0f / %7.0f | x%-5.2f x%-5.2f | "
            "%.0f / %.0f / %.0f\n",
            mode_name(mode), branches, stalled ? "yes" : "no", delivered_cell(a).c_str(),
            delivered_cell(l).c_str(), delivered_cell(o).c_str(), a.per_cpu, l.per_cpu, o.per_cpu,
            a.per_cpu > 0 ? o.per_cpu / a.per_cpu : 0.0,
            l.per_cpu > 0 ? o.per_cpu / l.per_cpu : 0.0, a.peak, l.peak, o.peak);
        std::fflush(stdout);
      }
    }
  }
  std::printf(
      "\nratios are ours / anchor (higher is better); BLOCKED: the producer never "
      "finished (a stalled branch's queue filled), cut at the deadline\n");
  return 0;
}
