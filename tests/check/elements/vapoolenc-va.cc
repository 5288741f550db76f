// vapoolenc's VA path end to end on vasim, the simulated VA-API device (tests/vasim,
// docs/testing-va.md): the real libva and the real GStreamer VA encoders (vaapih264enc from
// gstreamer-vaapi, vah264enc from the `va` plugin) run inside vapoolenc against a driver that
// counts what they hold. The meson block runs this binary in the vasim environment.
//
// With GST_STEADY_REAL_VA=1 the simulated overrides are dropped at start-up and the same tests
// run on the machine's real VA device: pictures are compared with a PSNR floor, the driver's
// counts are not available (their assertions are skipped, descriptor counts still hold), and
// the fault-injection tests (context cap, failure after N frames) report STEADY-SKIP.
#include "vapoolenc-va-common.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>
#include "steady-stats.h"

int vapoolenc_va_leakwatch_child(const char *scenario);  // vapoolenc-va-leakwatch.cc

namespace {

using namespace vasim_test;
using namespace vapoolenc_va;

// The factory vapoolenc must pick for a device on vasim.
const char *factory_for(const char *device) {
  return std::strcmp(device, "va") == 0 ? "vah264enc" : "vaapih264enc";
}

// gstreamer-vaapi's encoder reconfigures itself on a flush: parking a vaapih264enc session
// (which flushes it) destroys its VA context and creates a new one, so each session costs one
// context creation, paid at release instead of at the next session's start. vah264enc keeps
// its context across the flush. Contexts the driver creates for `sessions` sessions, one
// encoder reused throughout, each session ending in the pool:
long long contexts_for_pooled_sessions(const char *device, guint sessions) {
  return std::strcmp(device, "vaapi") == 0 ? 1 + sessions : 1;
}

// The factory vapoolenc picked, checked: on vasim exactly factory_for(device); on a real device
// any encoder of the device's kind (vah264lpenc may come before vah264enc there).
std::string check_factory(GstElement *p, const char *device) {
  const std::string got = get_string(p, "enc", "encoder");
  const bool vaapi = got.rfind("vaapi", 0) == 0;
  if (!real_va())
    fail_unless(got == factory_for(device), "encoded with '%s'", got.c_str());
  else if (std::strcmp(device, "vaapi") == 0)
    fail_unless(vaapi, "device=vaapi encoded with '%s'", got.c_str());
  else
    fail_unless(got.rfind("va", 0) == 0 && !vaapi, "device=va encoded with '%s'", got.c_str());
  return got;
}

double p90(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() * 9 / 10];
}

// ---------------------------------------------------------------------------------------
// Encoding through vapoolenc: decoded output equals the input, frame for frame, bit for bit;
// then a second session takes the parked encoder and must be just as exact (its first frame
// a keyframe with headers, or the decoder could not give frame 0 back).
// The sinks do not preroll (async=false): vapoolenc installing its encoder makes upstream
// renegotiate, and the tee's allocation query would wait behind the reference branch's
// prerolled buffer while the decoding branch waits for more frames to preroll.

void roundtrip(const char *device) {
  const char *factory = factory_for(device);
  if (!steady_have_factory(factory))
    STEADY_SKIP("%s is not available (no VA device it can use)", factory);
  const std::string props = std::string("device=") + device;
  probe(props);
  Counts counts;  // from here on: the sessions' own counts
  const guint frames[2] = {40, 12};
  for (int round = 0; round < 2; ++round) {
    gchar *desc = g_strdup_printf(
        "videotestsrc num-buffers=%u pattern=%s ! %s ! tee name=t  t. ! queue ! appsink name=ref "
        "sync=false async=false  t. ! queue ! vapoolenc name=enc %s ! h264parse ! avdec_h264 ! "
        "video/x-raw,format=I420 ! appsink name=dec sync=false async=false",
        frames[round], real_va() ? "smpte" : "snow", kCaps, props.c_str());
    GstElement *p = launch(desc);
    g_free(desc);
    Collector ref, dec;
    ref.attach(p, "ref");
    dec.attach(p, "dec");
    gst_element_set_state(p, GST_STATE_PLAYING);
    const std::string err = wait_end(p);
    fail_unless(err.empty(), "round %d: %s", round, err.c_str());
    check_factory(p, device);
    fail_unless_equals_int(get<gboolean>(p, "enc", "reused"), round == 1);
    fail_unless_equals_uint64(get<guint64>(p, "enc", "frames-in"), frames[round]);
    fail_unless_equals_uint64(get<guint64>(p, "enc", "frames-out"), frames[round]);
    fail_unless_equals_uint64(get<guint64>(p, "enc", "frames-lost"), 0);
    std::vector<GstSample *> in = ref.take(), out = dec.take();
    fail_unless_equals_int(in.size(), frames[round]);
    fail_unless_equals_int(out.size(), frames[round]);
    for (guint i = 0; i < frames[round]; ++i)
      expect_same_picture(in[i], out[i], i);
    unref_all(in);
    unref_all(out);
    stop(p);
    if (counts.available())
      g_print("VAPOOLENC-VA roundtrip %s round %d: contexts_created=%lld displays_opened=%lld\n",
              device, round, static_cast<long long>(counts.now().contexts_created),
              static_cast<long long>(counts.now().displays_opened));
  }
  if (counts.available()) {
    const vasim_counts c = counts.now();
    fail_unless_equals_int(c.displays_opened, 1);
    // The second session reused the first's encoder (and so its context, see above).
    fail_unless_equals_int(c.contexts_created, contexts_for_pooled_sessions(device, 2));
    fail_unless_equals_int(c.frames_encoded, frames[0] + frames[1]);
    fail_unless_equals_int(c.contexts, 1);  // parked
  }
  fail_unless_equals_int(count_fds_on(node_path()), 1);
  fail_unless_equals_int(drain_pool(), 1);
  counts.expect_nothing_live();
  fail_unless_equals_int(count_fds_on(node_path()), 0);
}

GST_START_TEST(test_vaapi_roundtrip_bit_exact) {
  roundtrip("vaapi");
}
GST_END_TEST;

GST_START_TEST(test_va_roundtrip_bit_exact) {
  roundtrip("va");
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// 200 sequential sessions through vapoolenc, then the same 200 with a plain encoder per
// session, with the modelled context cost (VASIM_CONTEXT_DELAY_MS, 20 ms unless
// VASIM_TEST_CONTEXT_DELAY_MS says otherwise). Figures on VAPOOLENC-VA-* lines.

struct Figures {
  std::string factory;           // the encoder the sessions ran
  std::vector<double> first_ms;  // per session
  std::vector<double> stop_ms;   // taking the session's pipeline to NULL
  int node_fds_max = 0;
  int peak_surfaces_first = 0;  // the driver's surface peak after the first session
  vasim_counts driver{};
};

const guint kSessions = 200;

Figures pool_sessions(const char *device, long delay_ms) {
  const std::string node = node_path();
  Counts counts;
  Figures f;
  for (guint i = 0; i < kSessions; ++i) {
    GstElement *p = launch(session_desc(std::string("vapoolenc device=") + device));
    const double ms = session(p);
    f.first_ms.push_back(ms);
    if (i == 0)
      fail_unless(ms >= delay_ms, "first session: first buffer after %.1f ms < modelled %ld ms", ms,
                  delay_ms);
    f.factory = check_factory(p, device);
    fail_unless_equals_int(get<gboolean>(p, "enc", "reused"), i > 0);
    fail_unless_equals_uint64(get<guint64>(p, "enc", "frames-out"), 3);
    // While the session plays: one live session, nothing parked.
    PoolStats st = pool_stats();
    fail_unless_equals_int(st.active, 1);
    fail_unless_equals_int(st.parked, 0);
    fail_unless_equals_uint64(st.created, 1);
    fail_unless_equals_uint64(st.reused, i);
    const int fds = count_fds_on(node);
    fail_unless_equals_int(fds, 1);  // one display per node, whatever the session count
    f.node_fds_max = std::max(f.node_fds_max, fds);
    if (counts.available()) {
      const vasim_counts c = counts.now();
      fail_unless(c.contexts <= gint32(st.active + st.parked), "session %u: %d contexts, pool %u",
                  i, c.contexts, st.active + st.parked);
      // Surfaces: the pool holds one session here (asserted above) throughout, so the run's
      // peak must be what one session of this encoder holds: checked against the plain run.
    }
    const auto stop_start = std::chrono::steady_clock::now();
    stop(p);
    f.stop_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stop_start)
            .count());
    // Between sessions: the session is parked, still holding its context and the display.
    st = pool_stats();
    fail_unless_equals_int(st.active, 0);
    fail_unless_equals_int(st.parked, 1);
    fail_unless_equals_int(count_fds_on(node), 1);
    if (counts.available()) {
      const vasim_counts c = counts.now();
      fail_unless_equals_int(c.contexts, 1);
      if (i == 0)
        f.peak_surfaces_first = c.peak_surfaces;
    }
  }
  const PoolStats st = pool_stats();
  fail_unless_equals_uint64(st.created, 1);
  fail_unless_equals_uint64(st.reused, kSessions - 1);
  fail_unless(st.reuse_rate == double(kSessions - 1) / kSessions, "reuse-rate %f", st.reuse_rate);
  if (counts.available()) {
    f.driver = counts.now();
    fail_unless_equals_int(f.driver.displays_opened, 1);
    fail_unless_equals_int(f.driver.contexts_created,
                           contexts_for_pooled_sessions(device, kSessions));
    fail_unless_equals_int(f.driver.peak_contexts, 1);
    fail_unless_equals_int(f.driver.frames_encoded, 3 * kSessions);
    fail_unless_equals_int(f.driver.leaked_at_terminate, 0);
  }
  // Shutdown of the pool: everything goes back to zero.
  fail_unless_equals_int(drain_pool(), 1);
  counts.expect_nothing_live();
  fail_unless_equals_int(count_fds_on(node), 0);
  if (counts.available()) {
    fail_unless_equals_int(counts.now().leaked_at_terminate, 0);
    fail_unless_equals_int(counts.now().surfaces_destroyed_in_use, 0);
  }
  return f;
}

Figures plain_sessions(const std::string &factory) {
  Counts counts;
  Figures f;
  f.factory = factory;
  for (guint i = 0; i < kSessions; ++i) {
    GstElement *p = launch(session_desc(factory));
    f.first_ms.push_back(session(p));
    // The previous session's descriptor may still be closing on a GStreamer thread.
    const int fds = count_fds_on(node_path());
    fail_unless(fds >= 1 && fds <= 2, "session %u: %d descriptors on the node", i, fds);
    f.node_fds_max = std::max(f.node_fds_max, fds);
    const auto stop_start = std::chrono::steady_clock::now();
    stop(p);
    f.stop_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stop_start)
            .count());
    counts.expect_nothing_live();
  }
  if (counts.available()) {
    f.driver = counts.now();
    fail_unless_equals_int(f.driver.contexts_created, kSessions);
    fail_unless_equals_int(f.driver.displays_opened, kSessions);
  }
  return f;
}

void print_figures(const char *what, const char *device, long delay_ms, const Figures &f,
                   bool pool) {
  std::vector<double> steady(f.first_ms.begin() + (pool ? 1 : 0), f.first_ms.end());
  g_print(
      "VAPOOLENC-VA-%s device=%s encoder=%s sessions=%u context_delay_ms=%ld "
      "first_buffer_ms_first=%.1f first_buffer_ms_median%s=%.2f p90=%.2f "
      "contexts_created=%lld displays_opened=%lld peak_contexts=%d peak_surfaces=%d "
      "frames_encoded=%lld node_fds_max=%d stop_ms_median=%.2f\n",
      what, device, f.factory.c_str(), kSessions, delay_ms, f.first_ms[0], pool ? "_reused" : "",
      steady::median(steady), p90(steady), static_cast<long long>(f.driver.contexts_created),
      static_cast<long long>(f.driver.displays_opened), f.driver.peak_contexts,
      f.driver.peak_surfaces, static_cast<long long>(f.driver.frames_encoded), f.node_fds_max,
      steady::median(f.stop_ms));
}

void sessions_pool_vs_plain(const char *device) {
  const char *factory = factory_for(device);
  if (!steady_have_factory(factory))
    STEADY_SKIP("%s is not available (no VA device it can use)", factory);
  const char *delay_env = g_getenv("VASIM_TEST_CONTEXT_DELAY_MS");
  const long delay_ms = real_va() ? 0 : (delay_env ? std::atol(delay_env) : 20);
  if (!real_va())
    g_setenv("VASIM_CONTEXT_DELAY_MS", std::to_string(delay_ms).c_str(), TRUE);
  probe(std::string("device=") + device);
  const Figures pool = pool_sessions(device, delay_ms);
  const Figures plain = plain_sessions(pool.factory);
  // With one session held at a time, the pool's surfaces peak at what one session holds: the
  // plain run's peak (one session at a time, each on its own), which varies by one with timing
  // for vaapih264enc.
  // No reused vah264enc session raises the peak: surfaces do not accumulate in the pool.
  // (vaapih264enc's peak varies by one or two with timing.)
  if (!real_va() && std::strcmp(device, "va") == 0)
    fail_unless_equals_int(pool.driver.peak_surfaces, pool.peak_surfaces_first);
#if GST_CHECK_VERSION(1, 24, 0)
  // 1.24+ va encoders (seen with vah264enc 1.26.2, never with 1.22): in the pool's first
  // session the encoder briefly holds more surfaces than a plain session (12 against 7), once;
  // no later session raises the peak (checked above). The cause lies inside the va plugin.
  const int first_session_extra = plain.driver.peak_surfaces;
#else
  const int first_session_extra = 0;
#endif
  fail_unless(pool.driver.peak_surfaces <= plain.driver.peak_surfaces + first_session_extra,
              "pool %d > plain %d", pool.driver.peak_surfaces, plain.driver.peak_surfaces);
  print_figures("POOL", device, delay_ms, pool, true);
  print_figures("PLAIN", device, delay_ms, plain, false);
  const PoolStats st = pool_stats();
  const std::vector<double> reused(pool.first_ms.begin() + 1, pool.first_ms.end());
  g_print(
      "VAPOOLENC-VA-RATIO device=%s sessions=%u reuse_rate=%.3f first_buffer_median "
      "pooled/plain=%.3f (%.2f ms / %.2f ms)\n",
      device, kSessions, st.reuse_rate, steady::median(reused) / steady::median(plain.first_ms),
      steady::median(reused), steady::median(plain.first_ms));
  for (double ms : plain.first_ms)
    fail_unless(ms >= delay_ms, "a plain session's first buffer came before its context");
}

GST_START_TEST(test_vaapi_200_sessions_pool_vs_plain) {
  sessions_pool_vs_plain("vaapi");
}
GST_END_TEST;

// Without gstreamer-vaapi (the Debian 13 leg of scripts/test installs none): device=auto and
// device=va encode with the va plugin, device=vaapi fails saying what is missing.
GST_START_TEST(test_without_gstreamer_vaapi) {
  if (steady_have_factory("vaapih264enc"))
    STEADY_SKIP("gstreamer-vaapi is installed here (the Debian 13 leg runs without it)");
  if (!steady_have_factory("vah264enc") && !steady_have_factory("vah264lpenc"))
    STEADY_SKIP("vah264enc is not available (no VA device it can use)");
  for (const char *device : {"auto", "va"}) {
    GstElement *p = launch(std::string("videotestsrc num-buffers=5 ! ") + kCaps +
                           " ! vapoolenc name=enc device=" + device + " ! fakesink sync=false");
    gst_element_set_state(p, GST_STATE_PLAYING);
    const std::string err = wait_end(p);
    fail_unless(err.empty(), "device=%s: %s", device, err.c_str());
    check_factory(p, "va");
    fail_unless_equals_uint64(get<guint64>(p, "enc", "frames-out"), 5);
    stop(p);
  }
  fail_unless_equals_int(drain_pool(), 1);
  GstElement *p = launch(std::string("videotestsrc num-buffers=5 ! ") + kCaps +
                         " ! vapoolenc name=enc device=vaapi ! fakesink sync=false");
  gst_element_set_state(p, GST_STATE_PLAYING);
  const std::string err = wait_end(p);
  fail_unless(err.find("device=vaapi: the gstreamer-vaapi elements are not installed (no "
                       "vaapih264enc;") == 0,
              "%s", err.c_str());
  stop(p);
}
GST_END_TEST;

GST_START_TEST(test_va_200_sessions_pool_vs_plain) {
  sessions_pool_vs_plain("va");
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// Context exhaustion: vasim capped at 2 contexts.

struct Live {
  GstElement *pipeline = nullptr;
  SrcWatch watch;
};

// Ends a live session the graceful way, EOS first, then stops it. (Stopping a live
// vaapih264enc session mid-stream makes vapoolenc flush it while gstreamer-vaapi's output task
// waits on its coded-buffer queue; vaapi's flush then replaces its encoder under that task and
// GLib reports "g_async_queue_unref: assertion 'queue->waiting_threads == 0' failed", fatal in
// these tests. vah264enc has no such task.)
void end_live(Live &s) {
  gst_element_send_event(s.pipeline, gst_event_new_eos());
  const std::string err = wait_end(s.pipeline, 30 * GST_SECOND);
  fail_unless(err.empty(), "%s", err.c_str());
  stop(s.pipeline);
}

void start_live(Live &s, const std::string &props) {
  s.pipeline = launch("videotestsrc is-live=true ! " + std::string(kCaps) +
                      " ! vapoolenc name=enc " + props + " ! fakesink sync=false");
  s.watch.attach(s.pipeline, "enc");
  gst_element_set_state(s.pipeline, GST_STATE_PLAYING);
}

// A client that goes away mid-stream: the session's pipeline goes to NULL with no EOS.
// gstreamer-vaapi asserts when such an encoder is flushed for parking (fatal here), so
// vapoolenc destroys it instead; a vah264enc session stopped the same way is parked.
static void stop_mid_stream(const char *device, bool expect_parked) {
  if (!steady_have_factory(factory_for(device)))
    STEADY_SKIP("%s is not available (not installed, or no VA device it can use)",
                factory_for(device));
  GstElement *p = launch(std::string("videotestsrc ! ") + kCaps + " ! vapoolenc device=" + device +
                         " name=enc ! appsink name=out sync=false");
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstElement *out = gst_bin_get_by_name(GST_BIN(p), "out");
  for (int i = 0; i < 2; ++i) {  // the session is really encoding
    GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(out));
    fail_unless(sample != nullptr, "no encoded frame %d from %s", i, device);
    gst_sample_unref(sample);
  }
  gst_object_unref(out);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  PoolStats st = pool_stats();
  fail_unless_equals_uint64(st.created, 1);
  fail_unless_equals_int(st.active, 0);
  fail_unless_equals_int(st.parked, expect_parked ? 1 : 0);
  fail_unless_equals_int(drain_pool(), expect_parked ? 1 : 0);
  st = pool_stats();
  fail_unless_equals_uint64(st.destroyed, 1);
  fail_unless_equals_int(st.parked, 0);
}

GST_START_TEST(test_vaapi_stopped_mid_stream_destroyed_not_parked) {
  stop_mid_stream("vaapi", false);
}
GST_END_TEST;

GST_START_TEST(test_va_stopped_mid_stream_parked) {
  stop_mid_stream("va", true);
}
GST_END_TEST;

GST_START_TEST(test_context_cap_auto_falls_back_to_software) {
  if (real_va())
    STEADY_SKIP("fault injection needs vasim (GST_STEADY_REAL_VA=1)");
  const char *hw = steady_have_factory("vah264enc") ? "vah264enc" : "vaapih264enc";
  if (!steady_have_factory(hw) || !steady_have_factory("x264enc"))
    STEADY_SKIP("needs a VA encoder and x264enc");
  probe("device=auto");  // every hardware candidate probed while contexts are free
  g_setenv("VASIM_MAX_CONTEXTS", "2", TRUE);
  Counts counts;
  const int kLive = 5;
  Live s[kLive];
  std::vector<std::string> encoders;
  for (Live &l : s) {
    start_live(l, "device=auto");
    fail_unless(l.watch.wait_first(std::chrono::seconds(30)), "a session never encoded");
    encoders.push_back(get_string(l.pipeline, "enc", "encoder"));
  }
  const std::vector<std::string> expect = {hw, hw, "x264enc", "x264enc", "x264enc"};
  for (int i = 0; i < kLive; ++i)
    fail_unless(encoders[i] == expect[i], "session %d: %s, expected %s", i, encoders[i].c_str(),
                expect[i].c_str());
  const PoolStats st = pool_stats();
  fail_unless_equals_uint64(st.fallbacks, kLive - 2);
  fail_unless_equals_int(st.active, kLive);
  const vasim_counts c = counts.now();
  fail_unless_equals_int(c.contexts, 2);
  // Each extra session tried every hardware candidate once before software.
  const int hw_candidates =
      int(steady_have_factory("vah264enc")) + int(steady_have_factory("vaapih264enc"));
  g_print("VAPOOLENC-VA context cap auto: encoders %s,%s,%s,%s,%s fallbacks=%llu refused=%lld\n",
          encoders[0].c_str(), encoders[1].c_str(), encoders[2].c_str(), encoders[3].c_str(),
          encoders[4].c_str(), static_cast<unsigned long long>(st.fallbacks),
          static_cast<long long>(c.contexts_refused));
  fail_unless_equals_int(c.contexts_refused, (kLive - 2) * hw_candidates);
  for (Live &l : s)
    end_live(l);
  drain_pool();
  counts.expect_nothing_live();
}
GST_END_TEST;

void context_cap_fixed(const char *device) {
  if (real_va())
    STEADY_SKIP("fault injection needs vasim (GST_STEADY_REAL_VA=1)");
  const char *factory = factory_for(device);
  if (!steady_have_factory(factory))
    STEADY_SKIP("%s is not available", factory);
  const std::string props = std::string("device=") + device;
  probe(props);
  g_setenv("VASIM_MAX_CONTEXTS", "2", TRUE);
  Counts counts;
  Live s[3];
  for (int i = 0; i < 2; ++i) {
    start_live(s[i], props);
    fail_unless(s[i].watch.wait_first(std::chrono::seconds(30)), "session %d never encoded", i);
  }
  start_live(s[2], props);
  const std::string err = wait_end(s[2].pipeline, 30 * GST_SECOND);
  g_print("VAPOOLENC-VA context cap device=%s: %s\n", device, err.c_str());
  fail_unless(err.find("VA context limit") != std::string::npos, "%s", err.c_str());
  fail_unless(
      err.find("while 2 vapoolenc session(s) held contexts on " + node_path()) != std::string::npos,
      "%s", err.c_str());
  // The driver's own words, caught through libva's error callback on vapoolenc's shared
  // GstVaDisplay (gstreamer-vaapi's display does not pass them on reliably).
  if (std::strcmp(device, "va") == 0)
    fail_unless(
        err.find("context limit reached (VASIM_MAX_CONTEXTS=2, 2 live)") != std::string::npos,
        "the driver's message is missing: %s", err.c_str());
  fail_unless(
      err.find(std::string("device=") + device + ": " + factory + " refused") != std::string::npos,
      "%s", err.c_str());
  fail_unless_equals_int(s[2].watch.count(), 0);
  fail_unless_equals_int(counts.now().contexts, 2);
  fail_unless_equals_uint64(pool_stats().fallbacks, 0);
  stop(s[2].pipeline);  // failed at caps: nothing to drain
  for (int i = 0; i < 2; ++i)
    end_live(s[i]);
  drain_pool();
  counts.expect_nothing_live();
}

GST_START_TEST(test_context_cap_fixed_vaapi_names_limit) {
  context_cap_fixed("vaapi");
}
GST_END_TEST;

GST_START_TEST(test_context_cap_fixed_va_names_limit) {
  context_cap_fixed("va");
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// Encoding fails after 5 frames (VASIM_FAIL_AFTER_FRAMES): vapoolenc fails over to x264enc.
// Exact accounting: frames in == frames out + frames lost, checked against what an
// independent probe saw enter and leave, timestamp by timestamp.

// Running times of the buffers leaving a pad (x264enc shifts its timestamps and segment by
// 1000 hours; running time is what stays comparable).
struct Timestamps {
  std::mutex lock;
  std::vector<GstClockTime> pts;
  static GstPadProbeReturn probe(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    auto *self = static_cast<Timestamps *>(data);
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
    // A picture (1.24+ va encoders flag the one carrying SPS/PPS as HEADER too; it has a PTS).
    if (!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_HEADER) || GST_BUFFER_PTS_IS_VALID(b)) {
      GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
      fail_unless(ev != nullptr, "a buffer without a segment");
      const GstSegment *segment = nullptr;
      gst_event_parse_segment(ev, &segment);
      const GstClockTime t =
          gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(b));
      gst_event_unref(ev);
      std::lock_guard<std::mutex> g(self->lock);
      self->pts.push_back(t);
    }
    return GST_PAD_PROBE_OK;
  }
  void attach(GstElement *pipeline, const char *element, const char *pad_name) {
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), element);
    GstPad *pad = gst_element_get_static_pad(e, pad_name);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, probe, this, nullptr);
    gst_object_unref(pad);
    gst_object_unref(e);
  }
};

void failover(const char *factory, bool hw_pushes_all_good_frames) {
  if (real_va())
    STEADY_SKIP("fault injection needs vasim (GST_STEADY_REAL_VA=1)");
  if (!steady_have_factory(factory) || !steady_have_factory("x264enc"))
    STEADY_SKIP("needs %s and x264enc", factory);
  const std::string props = std::string("hardware-factories=") + factory;
  probe(props);
  g_setenv("VASIM_FAIL_AFTER_FRAMES", "5", TRUE);
  Counts counts;
  const guint kFrames = 30;
  GstElement *p = launch("videotestsrc name=src num-buffers=" + std::to_string(kFrames) + " ! " +
                         kCaps + " ! vapoolenc name=enc " + props +
                         " ! h264parse name=parse ! avdec_h264 name=dec ! fakesink sync=false");
  Timestamps in, out, decoded;
  in.attach(p, "src", "src");
  out.attach(p, "parse", "sink");  // what really left the bin
  decoded.attach(p, "dec", "src");
  GstBus *bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstStructure *failover = nullptr;
  guint warnings = 0;
  std::string error;
  for (bool done = false; !done;) {
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING |
                                    GST_MESSAGE_ELEMENT));
    fail_unless(m != nullptr, "no EOS within 60 s");
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
      done = true;
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      error = e->message;
      g_error_free(e);
      done = true;
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
      ++warnings;
    } else if (s && gst_structure_has_name(s, "vapoolenc-failover")) {
      fail_unless(failover == nullptr, "two failovers");
      failover = gst_structure_copy(s);
    }
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  fail_unless(error.empty(), "%s", error.c_str());
  fail_unless(failover != nullptr, "no vapoolenc-failover message");
  fail_unless_equals_int(warnings, 1);
  fail_unless_equals_string(gst_structure_get_string(failover, "from"), factory);
  fail_unless_equals_string(gst_structure_get_string(failover, "to"), "x264enc");
  guint64 lost_msg = 0;
  fail_unless(gst_structure_get_uint64(failover, "frames-lost", &lost_msg));
  g_print("VAPOOLENC-VA failover %s: reason '%s'\n", factory,
          gst_structure_get_string(failover, "reason"));
  gst_structure_free(failover);

  const guint64 f_in = get<guint64>(p, "enc", "frames-in");
  const guint64 f_out = get<guint64>(p, "enc", "frames-out");
  const guint64 f_lost = get<guint64>(p, "enc", "frames-lost");
  g_print(
      "VAPOOLENC-VA failover %s: in=%llu out=%llu lost=%llu (downstream saw %zu, decoded %zu)\n",
      factory, static_cast<unsigned long long>(f_in), static_cast<unsigned long long>(f_out),
      static_cast<unsigned long long>(f_lost), out.pts.size(), decoded.pts.size());
  fail_unless_equals_uint64(f_in, kFrames);
  fail_unless_equals_uint64(f_in, f_out + f_lost);
  fail_unless_equals_uint64(lost_msg, f_lost);
  fail_unless_equals_int(get<guint>(p, "enc", "failovers"), 1);
  fail_unless(get_string(p, "enc", "encoder") == "x264enc");
  // What vapoolenc says went out is what went out, and all of it decodes.
  fail_unless_equals_int(in.pts.size(), kFrames);
  fail_unless_equals_uint64(out.pts.size(), f_out);
  fail_unless_equals_uint64(decoded.pts.size(), f_out);
  // Lost frames are exactly the input timestamps that never came out.
  // (Encoders may round a timestamp by a nanosecond: match within a millisecond.)
  std::set<GstClockTime> missing(in.pts.begin(), in.pts.end());
  for (GstClockTime t : out.pts) {
    auto it = missing.lower_bound(t > GST_MSECOND ? t - GST_MSECOND : 0);
    fail_unless(it != missing.end() && *it <= t + GST_MSECOND,
                "output timestamp %" GST_TIME_FORMAT " was never input (or came out twice)",
                GST_TIME_ARGS(t));
    missing.erase(it);
  }
  fail_unless_equals_uint64(missing.size(), f_lost);
  // What the hardware took: the driver saw 5 frames encoded and the 6th fail, so the encoder
  // was handed the first 6 input frames (the 7th went to x264enc). Of the 5 it encoded it
  // pushed the first `pushed` (in order) before the bin unlinked it; the coded frames still
  // queued in it went down with it. So the loss follows from what it had queued:
  // lost = 6 - pushed, and the lost frames are exactly input frames pushed..5.
  // vah264enc pushes every good frame before it reports the failure (pushed = 5, lost = 1);
  // vaapih264enc's output thread may not have pushed any of them yet (0 <= pushed <= 5).
  const vasim_counts c = counts.now();
  fail_unless_equals_int(c.frames_encoded, 5);
  fail_unless_equals_int(c.frames_failed, 1);
  const guint hw_in = c.frames_encoded + c.frames_failed;
  std::vector<GstClockTime> sorted_in(in.pts.begin(), in.pts.end());
  std::sort(sorted_in.begin(), sorted_in.end());
  guint pushed = 0;  // output frames among the hardware's inputs
  for (GstClockTime t : out.pts)
    pushed += t + GST_MSECOND < sorted_in[hw_in] ? 1 : 0;
  g_print("VAPOOLENC-VA failover %s: hardware took %u, pushed %u, lost %llu\n", factory, hw_in,
          pushed, static_cast<unsigned long long>(f_lost));
  fail_unless_equals_uint64(f_lost, hw_in - pushed);
  guint k = pushed;
  for (GstClockTime t : missing) {  // ascending: exactly input frames pushed..hw_in-1
    fail_unless(k < hw_in, "a frame after the hardware's was lost");
    fail_unless(t == sorted_in[k], "lost frame %u is not input frame %u", k, k);
    k++;
  }
  fail_unless_equals_int(k, hw_in);
  if (hw_pushes_all_good_frames)
    fail_unless_equals_uint64(f_lost, 1);
  stop(p);
  // The failed hardware session was destroyed, not parked; the software one is parked.
  const PoolStats st = pool_stats();
  fail_unless_equals_int(st.parked, 1);
  fail_unless_equals_int(drain_pool(), 1);
  counts.expect_nothing_live();
  fail_unless_equals_int(count_fds_on(node_path()), 0);
}

GST_START_TEST(test_vaapi_failover_exact_accounting) {
  failover("vaapih264enc", false);
}
GST_END_TEST;

GST_START_TEST(test_va_failover_exact_accounting) {
  failover("vah264enc", true);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// leakwatch over the sessions, in a child process (tracers are chosen at gst_init): this
// binary re-runs itself with --leakwatch-child=SCENARIO (vapoolenc-va-leakwatch.cc).

struct Child {
  int status = -1;
  std::string out, err, report;
};

Child run_child(const char *scenario) {
  gchar *report = g_build_filename(g_get_tmp_dir(), "vapoolenc-va-leakwatch-XXXXXX", nullptr);
  const int fd = g_mkstemp(report);
  fail_unless(fd >= 0);
  close(fd);
  gchar **env = g_get_environ();
  gchar *tracers = g_strdup_printf("leakwatch(interval=0,grace=0,report=%s)", report);
  env = g_environ_setenv(env, "GST_TRACERS", tracers, TRUE);
  env = g_environ_unsetenv(env, "GST_DEBUG");
  g_free(tracers);
  gchar *self = g_file_read_link("/proc/self/exe", nullptr);
  gchar *arg = g_strdup_printf("--leakwatch-child=%s", scenario);
  gchar *argv[] = {self, arg, nullptr};
  gchar *out = nullptr, *err = nullptr;
  Child c;
  GError *error = nullptr;
  fail_unless(g_spawn_sync(nullptr, argv, env, G_SPAWN_DEFAULT, nullptr, nullptr, &out, &err,
                           &c.status, &error),
              "cannot run %s: %s", self, error ? error->message : "?");
  c.out = out ? out : "";
  c.err = err ? err : "";
  gchar *text = nullptr;
  if (g_file_get_contents(report, &text, nullptr, nullptr))
    c.report = text;
  g_free(text);
  g_free(out);
  g_free(err);
  g_free(arg);
  g_free(self);
  g_strfreev(env);
  unlink(report);
  g_free(report);
  return c;
}

bool has(const std::string &text, const std::string &what) {
  return text.find(what) != std::string::npos;
}

// The leakwatch summary lines (stderr carries other output too).
std::string summary_of(const std::string &err) {
  std::string lines;
  size_t pos = 0;
  while (pos < err.size()) {
    size_t end = err.find('\n', pos);
    if (end == std::string::npos)
      end = err.size();
    const std::string line = err.substr(pos, end - pos);
    if (line.rfind("leakwatch", 0) == 0 || line.rfind("  ", 0) == 0)
      lines += line + "\n";
    pos = end + 1;
  }
  return lines;
}

GST_START_TEST(test_leakwatch_pool_churn_clean) {
  if (!steady_have_factory("vaapih264enc"))
    STEADY_SKIP("vaapih264enc is not available (no VA device it can use)");
  const Child c = run_child("pool-churn");
  const std::string summary = summary_of(c.err);
  g_print("child stdout:\n%s\nleakwatch summary:\n%s", c.out.c_str(), summary.c_str());
  fail_unless(g_spawn_check_wait_status(c.status, nullptr), "child failed:\n%s\n%s", c.out.c_str(),
              c.err.c_str());
  fail_unless(has(c.out, "CHILD pool-churn ok"), "%s", c.out.c_str());
  // The render-node descriptor is reported as such: the first session's checkpoint shows one
  // drm-render descriptor more, every later one none, and the drain one less.
  fail_unless(has(c.out, "baseline drm-render=+1"), "%s", c.out.c_str());
  fail_unless(has(c.out, "drained drm-render=-1"), "%s", c.out.c_str());
  fail_unless(has(c.report, "\"fds/drm-render\""), "no drm-render series in the report");
  fail_unless(has(summary, "leakwatch: verdict: clean"), "%s", summary.c_str());
  fail_unless(has(summary, "leakwatch: objects: nothing left alive"), "%s", summary.c_str());
  fail_unless(!has(summary, "drm-render 0 ->"), "%s", summary.c_str());
  // A parked encoder left its session's pipeline when it was parked: no pipeline (warm-up,
  // 40 sessions, the probe's two) is reported as outlived by it.
  fail_unless(has(summary, "leakwatch: pipelines: 43 seen, 0 with problems"), "%s",
              summary.c_str());
  fail_unless(!has(summary, "outlived it"), "%s", summary.c_str());
  fail_unless(has(c.report, "\"verdict\": \"clean\"") || has(c.report, "\"verdict\":\"clean\""),
              "report verdict not clean");
}
GST_END_TEST;

GST_START_TEST(test_leakwatch_plain_sessions_names_leak) {
  if (!steady_have_factory("vaapih264enc"))
    STEADY_SKIP("vaapih264enc is not available (no VA device it can use)");
  const Child c = run_child("plain-leak");
  const std::string summary = summary_of(c.err);
  g_print("child stdout:\n%s\nleakwatch summary:\n%s", c.out.c_str(), summary.c_str());
  fail_unless(g_spawn_check_wait_status(c.status, nullptr), "child failed:\n%s\n%s", c.out.c_str(),
              c.err.c_str());
  fail_unless(has(c.out, "CHILD plain-leak ok"), "%s", c.out.c_str());
  fail_unless(has(summary, "leakwatch: verdict: LEAKS FOUND"), "%s", summary.c_str());
  // The leaked session is named: its pipeline, its encoder, its display and its descriptor.
  fail_unless(has(summary, "leaked-session"), "%s", summary.c_str());
  fail_unless(has(summary, "GstVaapiDisplay"), "%s", summary.c_str());
  fail_unless(has(summary, "vaapih264enc-leaked"), "%s", summary.c_str());
  fail_unless(has(summary, "drm-render 0 -> 1"), "%s", summary.c_str());
  fail_unless(has(c.report, "alive-at-exit"), "no alive-at-exit verdict in the report");
}
GST_END_TEST;

Suite *vapoolenc_va_suite() {
  Suite *s = suite_create("vapoolenc-va");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_vaapi_roundtrip_bit_exact);
  tcase_add_test(tc, test_va_roundtrip_bit_exact);
  tcase_add_test(tc, test_vaapi_stopped_mid_stream_destroyed_not_parked);
  tcase_add_test(tc, test_va_stopped_mid_stream_parked);
  tcase_add_test(tc, test_context_cap_auto_falls_back_to_software);
  tcase_add_test(tc, test_context_cap_fixed_vaapi_names_limit);
  tcase_add_test(tc, test_context_cap_fixed_va_names_limit);
  tcase_add_test(tc, test_vaapi_failover_exact_accounting);
  tcase_add_test(tc, test_va_failover_exact_accounting);
  tcase_add_test(tc, test_leakwatch_pool_churn_clean);
  tcase_add_test(tc, test_leakwatch_plain_sessions_names_leak);
  tcase_add_test(tc, test_vaapi_200_sessions_pool_vs_plain);
  tcase_add_test(tc, test_va_200_sessions_pool_vs_plain);
  tcase_add_test(tc, test_without_gstreamer_vaapi);
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc == 2 && g_str_has_prefix(argv[1], "--leakwatch-child="))
    return vapoolenc_va_leakwatch_child(argv[1] + std::strlen("--leakwatch-child="));
  vasim_test::use_real_va_if_asked();
  vasim_test::reset_private_registry();
  gst_check_init(&argc, &argv);
  Suite *s = vapoolenc_va_suite();
  return gst_check_run_suite(s, "vapoolenc-va", __FILE__);
}
