// Threaded stress test of boundedqueue's core for the ThreadSanitizer run (suite 'tsan') and
// the normal suite: a producer, a consumer and a controller that changes the bounds and the
// leaky mode and reads the counters, all at once. Only our own locking is exercised (no
// GStreamer streaming threads, whose GLib synchronisation TSan cannot see).
#include <gst/check/gstcheck.h>
#include <gst/check/gsttestclock.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "boundedqueue-core.h"
#include "gstboundedqueue-timer.h"

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

// ClockTimer::cancel() against a callback running on the clock's thread. The callback reads
// state that the cancelling thread writes once cancel() returns (as the element's PAUSED->READY
// clears what the stall callback reads), and re-arms itself (as the stall timer does while the
// stall goes on). cancel() must wait for a running callback and refuse its re-arm: before, it
// returned at once, so the write raced with the callback's read (a data race ThreadSanitizer
// reports in every round) and a re-arm, holding an element reference, could outlive the
// cancel (seen here as a pending clock id after cancel() in some rounds).
namespace timer_race {

struct Shared {
  boundedqueue::ClockTimer *timer = nullptr;
  int state = 0;  // plain on purpose: written after cancel(), read by the callback
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, proceed = false, finished = false;
};
Shared *shared = nullptr;

void on_fire(GstElement *element, GstClockTime now) {
  Shared *sh = shared;
  {
    std::unique_lock<std::mutex> lk(sh->mu);
    sh->entered = true;
    sh->cv.notify_all();
    sh->cv.wait(lk, [sh] { return sh->proceed; });
  }
  int seen = sh->state;
  (void)seen;
  sh->timer->arm(element, now + 1000 * GST_SECOND, on_fire);  // not due: stays pending
  std::lock_guard<std::mutex> lk(sh->mu);
  sh->finished = true;
  sh->cv.notify_all();
}

}  // namespace timer_race

GST_START_TEST(test_timer_cancel_waits_for_callback) {
  GstElement *bin = gst_bin_new("timer-owner");
  GstClock *clock = gst_test_clock_new_with_start_time(10 * GST_SECOND);
  GstTestClock *tc = GST_TEST_CLOCK(clock);
  gst_element_set_clock(bin, clock);
  boundedqueue::ClockTimer timer;
  timer_race::Shared sh;
  sh.timer = &timer;
  timer_race::shared = &sh;
  timer.start();

  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lk(sh.mu);
      sh.entered = sh.proceed = sh.finished = false;
    }
    fail_unless(timer.arm(bin, GST_SECOND, timer_race::on_fire));  // due at once
    std::thread clock_thread([tc] {
      GstClockID id = nullptr;
      gst_test_clock_wait_for_next_pending_id(tc, nullptr);
      if ((id = gst_test_clock_process_next_clock_id(tc)) != nullptr)
        gst_clock_id_unref(id);
    });
    std::unique_lock<std::mutex> lk(sh.mu);
    sh.cv.wait(lk, [&] { return sh.entered; });  // the callback is running
    sh.proceed = true;
    sh.cv.notify_all();
    lk.unlock();
    timer.cancel();
    sh.state = i;
    lk.lock();
    sh.cv.wait(lk, [&] { return sh.finished; });
    lk.unlock();
    clock_thread.join();
    // Nothing pending after cancel(): the callback's re-arm was refused.
    fail_unless_equals_int(gst_test_clock_peek_id_count(tc), 0);
  }
  timer.stop();
  timer_race::shared = nullptr;
  gst_object_unref(clock);
  gst_object_unref(bin);
}
GST_END_TEST;

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
  tcase_add_test(tc, test_timer_cancel_waits_for_callback);
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
