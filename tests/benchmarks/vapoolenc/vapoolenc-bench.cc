// Benchmark for vapoolenc, in one run:
//  1. Session start: time from PLAYING to the first encoded buffer for a fresh fakehwenc (with
//     its modelled context-creation delay), a fresh x264enc, and vapoolenc taking a parked
//     fakehwenc session from the pool. Medians over repetitions, and ratios.
//  2. Churn: N sequential vapoolenc sessions; reuse rate, and robust (Theil-Sen) slopes of the
//     descriptor count, thread count and RSS sampled from /proc after every session.
//
//   bench-vapoolenc [--reps N] [--sessions N] [--delay-ms N]
// VAPOOLENC_BENCH_POOLED replaces the pooled encoder description (it must name the encoder
// element "enc"), to compare variants.
#include <gst/gst.h>

#include <dirent.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Theil-Sen: the median of the slopes between all pairs of samples (robust to outliers).
double theil_sen(const std::vector<double> &y) {
  std::vector<double> slopes;
  const size_t stride = y.size() > 400 ? 2 : 1;  // bounds the pair count
  for (size_t i = 0; i < y.size(); i += stride)
    for (size_t j = i + stride; j < y.size(); j += stride)
      slopes.push_back((y[j] - y[i]) / static_cast<double>(j - i));
  return slopes.empty() ? 0 : median(slopes);
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

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  int reps = 15, sessions = 500, delay_ms = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps"))
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
  const double m_hw = median(fresh_hw), m_sw = median(fresh_sw), m_re = median(reused);
  std::printf("\n== session start: PLAYING -> first encoded buffer (median of %d)\n", reps);
  std::printf("  fresh fakehwenc             %8.2f ms\n", m_hw);
  std::printf("  fresh x264enc               %8.2f ms\n", m_sw);
  std::printf("  vapoolenc, parked session   %8.2f ms   (first buffer always a keyframe: %s)\n",
              m_re, all_key ? "yes" : "NO");
  std::printf("  ratio pooled / fresh fakehwenc  %.3f   (target <= 0.2)\n", m_re / m_hw);
  std::printf("  ratio pooled / fresh x264enc    %.3f\n", m_re / m_sw);

  // Churn: ours, then the anchor (a fresh x264enc pipeline per session, no pool) on the same
  // input, so GStreamer's own per-pipeline allocation trend is visible next to ours.
  struct Series {
    std::vector<double> fds, threads, rss, heap;
  };
  auto churn = [&](const std::string &desc) {
    Series s;
    for (int i = 0; i < sessions; i++) {
      run_session(desc);
      s.fds.push_back(fd_count());
      s.threads.push_back(static_cast<double>(status_field("Threads:")));
      s.rss.push_back(static_cast<double>(status_field("VmRSS:")));
      // malloc's bytes in use: a sharper leak signal than RSS (no page or arena effects).
      s.heap.push_back(static_cast<double>(mallinfo2().uordblks) / 1024.0);
    }
    return s;
  };
  Series ours = churn(pooled);
  GstElement *probe = gst_element_factory_make("vapoolenc", nullptr);
  gst_object_ref_sink(probe);
  GstStructure *stats = nullptr;
  g_object_get(probe, "pool-stats", &stats, nullptr);
  double rate = 0;
  gst_structure_get_double(stats, "reuse-rate", &rate);
  std::printf("\n== churn: %d sequential vapoolenc sessions (10 frames each)\n", sessions);
  std::printf("  pool: created %" G_GUINT64_FORMAT ", reused %" G_GUINT64_FORMAT
              ", destroyed %" G_GUINT64_FORMAT ", cleanup failures %" G_GUINT64_FORMAT
              ", reuse rate %.4f (target >= 0.85; includes the warm-up and start runs)\n",
              stat_field(stats, "created"), stat_field(stats, "reused"),
              stat_field(stats, "destroyed"), stat_field(stats, "cleanup-failures"), rate);
  Series anchor = churn(src + "x264enc name=enc tune=zerolatency speed-preset=ultrafast" + sink);
  auto report = [](const char *what, const Series &s) {
    std::printf("  %s\n", what);
    std::printf("    descriptors: first %.0f last %.0f  slope %+.5f per session\n", s.fds.front(),
                s.fds.back(), theil_sen(s.fds));
    std::printf("    threads:     first %.0f last %.0f  slope %+.5f per session\n",
                s.threads.front(), s.threads.back(), theil_sen(s.threads));
    std::printf(
        "    RSS:         first %.0f KiB last %.0f KiB  slope %+.3f KiB per session "
        "(least squares %+.3f)\n",
        s.rss.front(), s.rss.back(), theil_sen(s.rss), ols(s.rss));
    std::printf(
        "    heap in use: first %.0f KiB last %.0f KiB  slope %+.3f KiB per session "
        "(least squares %+.3f)\n",
        s.heap.front(), s.heap.back(), theil_sen(s.heap), ols(s.heap));
  };
  report("vapoolenc (pooled fakehwenc):", ours);
  report("anchor, fresh x264enc pipeline per session (no pool):", anchor);
  gst_structure_free(stats);
  gst_object_unref(probe);
  gst_object_unref(hw);
  gst_deinit();
  return 0;
}
