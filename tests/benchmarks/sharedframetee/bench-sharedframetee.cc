// Benchmark: `tee` + `queue leaky=downstream` per branch (the anchor) against
// `sharedframetee`, in one process run, on the same paced synthetic stream, for 1, 4, 8 and
// 16 branches, with and without one stalled branch. Per configuration and repetition:
//   - throughput of the live branches: frames each received / frames sent (mean and min),
//   - CPU time per frame sent (getrusage, whole process, user + system),
//   - peak bytes held: most bytes of stream buffers alive at once (every buffer the source
//     made and nobody has freed yet: queues, ring, in-flight pushes).
// Prints medians over the repetitions and the ratios sharedframetee / anchor.
//
// Usage: bench-sharedframetee [frames] [reps] [fps] [frame-bytes] [only-branches]
#include <gst/gst.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Params {
  int frames = 600;
  int reps = 5;
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
  else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
    b->eos = true;
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
  double throughput_mean = 0;  // live branches, frames received / frames sent
  double throughput_min = 0;
  double cpu_us_per_frame = 0;
  double peak_bytes = 0;
};

Result run_once(bool ours, int branches, bool stalled, const Params &p) {
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
  const auto period = std::chrono::nanoseconds(1000000000LL / p.fps);
  auto next = std::chrono::steady_clock::now();
  for (int i = 0; i < p.frames; ++i) {
    gst_pad_push(src, make_frame(i, p.frame_bytes, p.fps));
    next += period;
    std::this_thread::sleep_until(next);  // pacing of the synthetic live source
  }
  gst_pad_push_event(src, gst_event_new_eos());
  // Wait (bounded) until every live branch has its EOS: everything sent has been handled.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < branches; ++i) {
    if (stalled && i == branches - 1)
      continue;
    while (!counters[i].eos && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double cpu1 = cpu_seconds();

  Result r;
  r.cpu_us_per_frame = (cpu1 - cpu0) * 1e6 / p.frames;
  r.peak_bytes = static_cast<double>(g_peak_bytes.load());
  int live = 0;
  r.throughput_min = 1e9;
  for (int i = 0; i < branches; ++i) {
    if (stalled && i == branches - 1)
      continue;
    const double t = static_cast<double>(counters[i].received) / p.frames;
    r.throughput_mean += t;
    r.throughput_min = std::min(r.throughput_min, t);
    ++live;
  }
  if (live > 0)
    r.throughput_mean /= live;
  else
    r.throughput_min = 0;

  {
    std::lock_guard<std::mutex> lk(gate.m);
    gate.open = true;
    gate.cv.notify_all();
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_pad_set_active(src, FALSE);
  gst_object_unref(src);
  gst_object_unref(pipeline);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Summary {
  double tput_mean, tput_min, cpu, peak;
};

Summary summarize(const std::vector<Result> &rs) {
  std::vector<double> a, b, c, d;
  for (const Result &r : rs) {
    a.push_back(r.throughput_mean);
    b.push_back(r.throughput_min);
    c.push_back(r.cpu_us_per_frame);
    d.push_back(r.peak_bytes);
  }
  return {median(a), median(b), median(c), median(d)};
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
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
  std::printf(
      "sharedframetee benchmark: %d frames of %d bytes at %d fps, %d repetitions, "
      "medians\n",
      p.frames, p.frame_bytes, p.fps, p.reps);
  std::printf(
      "anchor: tee ! queue leaky=downstream (defaults) ! fakesink per branch; "
      "ours: sharedframetee (defaults) ! fakesink per branch\n\n");
  std::printf("%-8s %-7s | %-23s | %-23s | %-21s | %-25s\n", "branches", "stalled",
              "live tput mean (a/ours)", "live tput min (a/ours)", "CPU us/frame (a/ours)",
              "peak bytes held (a/ours)");
  std::printf("%s\n", std::string(124, '-').c_str());
  for (bool stalled : {false, true}) {
    for (int branches : {1, 4, 8, 16}) {
      if (only && branches != only)
        continue;
      std::vector<Result> anchor, ours;
      for (int rep = 0; rep < p.reps; ++rep) {
        // Interleave so drift in machine load hits both alike.
        anchor.push_back(run_once(false, branches, stalled, p));
        ours.push_back(run_once(true, branches, stalled, p));
      }
      const Summary a = summarize(anchor), o = summarize(ours);
      std::printf(
          "%-8d %-7s | %10.4f / %-10.4f | %10.4f / %-10.4f | %8.2f / %-8.2f x%.2f | "
          "%9.0f / %-9.0f x%.3f\n",
          branches, stalled ? "yes" : "no", a.tput_mean, o.tput_mean, a.tput_min, o.tput_min, a.cpu,
          o.cpu, a.cpu > 0 ? o.cpu / a.cpu : 0.0, a.peak, o.peak,
          a.peak > 0 ? o.peak / a.peak : 0.0);
      std::fflush(stdout);
    }
  }
  std::printf("\nratios are ours / anchor (lower is better for CPU and bytes)\n");
  return 0;
}
