// Threaded stress test of boundedqueue's core for the ThreadSanitizer run (suite 'tsan') and
// the normal suite: a producer, a consumer and a controller that changes the bounds and the
// leaky mode and reads the counters, all at once. Only our own locking is exercised (no
// GStreamer streaming threads, whose GLib synchronisation TSan cannot see).
#include <gst/check/gstcheck.h>

#include <atomic>
#include <thread>
#include <vector>

#include "boundedqueue-core.h"

using boundedqueue::Bounds;
using boundedqueue::Core;
using boundedqueue::Leaky;

namespace {

constexpr guint kBuffers = 60000;
constexpr guint kGop = 10;

GstBuffer *make_buf(guint id) {
  GstBuffer *b = gst_buffer_new_allocate(nullptr, 16 + id % 64, nullptr);
  GST_BUFFER_PTS(b) = id * GST_MSECOND;
  if (id % kGop != 0)
    GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

void run_stress(bool with_blocking_phases) {
  Core core;
  Bounds b;
  b.buffers = 4;
  core.set_bounds(b, false, nullptr);
  core.set_leaky(Leaky::kDownstream);
  core.restart();
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  core.push_event(gst_event_new_segment(&seg));

  std::atomic<bool> producing{true};
  std::vector<guint> delivered;
  std::vector<bool> discont;
  delivered.reserve(kBuffers);

  std::thread consumer([&] {
    for (;;) {
      boundedqueue::Popped p;
      if (!core.pop(p))
        break;
      if (p.item.is_buffer()) {
        delivered.push_back(static_cast<guint>(GST_BUFFER_PTS(p.item.peek_buffer()) / GST_MSECOND));
        discont.push_back(p.item.discont());
      } else if (GST_EVENT_TYPE(p.item.peek_event()) == GST_EVENT_EOS) {
        break;
      }
    }
  });
  std::thread controller([&] {
    guint i = 0;
    while (producing.load()) {
      Bounds nb;
      nb.buffers = 2 + i % 7;
      nb.bytes = (i % 3 == 0) ? 300 : 0;
      core.set_bounds(nb, false, nullptr);
      if (with_blocking_phases)
        core.set_leaky(static_cast<Leaky>(i % 3));
      else
        core.set_leaky(i % 2 ? Leaky::kUpstream : Leaky::kDownstream);
      boundedqueue::Stats s = core.stats();
      fail_unless_equals_uint64(s.in, s.out + s.dropped + s.level.buffers);
      fail_unless(s.level.buffers <= 8 + 1);
      ++i;
      std::this_thread::yield();
    }
    // Leave it in a mode that cannot block, so the producer's last pushes finish.
    core.set_leaky(Leaky::kDownstream);
  });

  for (guint id = 0; id < kBuffers; ++id) {
    boundedqueue::SinkResult r = core.push_buffer(make_buf(id), GST_CLOCK_TIME_NONE);
    fail_unless_equals_int(r.flow, GST_FLOW_OK);
  }
  producing.store(false);
  controller.join();
  core.push_event(gst_event_new_eos());
  consumer.join();

  boundedqueue::Stats s = core.stats();
  fail_unless_equals_uint64(s.in, kBuffers);
  fail_unless_equals_uint64(s.level.buffers, 0);
  fail_unless_equals_uint64(s.out, delivered.size());
  fail_unless_equals_uint64(s.in, s.out + s.dropped);
  // GOP safety under concurrency: a delta unit only ever follows its reference, and the
  // first buffer after any gap carries DISCONT.
  for (std::size_t k = 0; k < delivered.size(); ++k) {
    const guint id = delivered[k];
    const bool follows = k > 0 && delivered[k - 1] + 1 == id;
    if (id % kGop != 0)
      fail_unless(follows, "delta %u delivered after %u", id, k > 0 ? delivered[k - 1] : 0);
    if (k > 0 && !follows)
      fail_unless(discont[k], "buffer %u after a gap lacks DISCONT", id);
    if (k > 0)
      fail_unless(delivered[k - 1] < id, "out of order");
  }
}

}  // namespace

GST_START_TEST(test_stress_leaky_modes) {
  run_stress(false);
}
GST_END_TEST;

GST_START_TEST(test_stress_with_blocking) {
  run_stress(true);
}
GST_END_TEST;

static Suite *boundedqueue_stress_suite(void) {
  Suite *s = suite_create("boundedqueue-stress");
  TCase *tc = tcase_create("stress");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_stress_leaky_modes);
  tcase_add_test(tc, test_stress_with_blocking);
  return s;
}

int main(int argc, char **argv) {
  // This test needs no plugin but the leaks tracer's. Keep gst_init from scanning every system
  // plugin in-process (sanitizer runs set GST_REGISTRY_FORK=no, and some third-party plugins
  // are not TSan-clean), in a registry file of its own so the shared one is left alone.
  const gchar *tracers = g_getenv("GST_STEADY_CORE_TRACERS");
  g_setenv("GST_PLUGIN_SYSTEM_PATH_1_0", tracers ? tracers : "", TRUE);
  g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
  const gchar *root = g_getenv("GST_STEADY_BUILD_ROOT");
  g_autofree gchar *registry =
      g_build_filename(root ? root : g_get_tmp_dir(), "boundedqueue-stress-registry.bin", nullptr);
  g_setenv("GST_REGISTRY_1_0", registry, TRUE);
  gst_check_init(&argc, &argv);
  return gst_check_run_suite(boundedqueue_stress_suite(), "boundedqueue_stress", __FILE__);
}
