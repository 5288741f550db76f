// Tests for sharedframetee's leader gating (a branch that keeps up loses nothing, whatever the
// producer's pace), its flow returns, the DRAIN query and stall timing only in PLAYING.
#include <gst/check/gstcheck.h>
#include <gst/check/gsttestclock.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "sharedframetee-fixture.h"
#include "sharedframetee-hub.h"
#include "steady-check.h"

using sftest::assert_accounting;
using sftest::range;
using sftest::Sink;
using sftest::Stats;
using sftest::stats_of;
using sftest::Tee;

// ---- the gating policy on the hub alone ----

struct HubBranch {
  std::shared_ptr<sft::Branch> branch;
  explicit HubBranch(sft::Hub &hub) {
    bool req = false;
    branch = hub.add_branch(nullptr, &req);
    hub.set_running(branch, true);
  }
};

// Takes and completes n deliveries on `b`, returning the buffers' offsets.
static std::vector<guint64> consume(sft::Hub &hub, HubBranch &b, std::size_t n) {
  std::vector<guint64> got;
  sft::Delivery d;
  while (got.size() < n) {
    fail_unless(hub.next(b.branch, &d));
    if (d.item && d.is_buffer)
      got.push_back(GST_BUFFER_OFFSET(GST_BUFFER_CAST(d.item.get())));
    hub.complete(b.branch, GST_FLOW_OK);
  }
  return got;
}

// The producer waits for the leader when the ring is full; a branch that takes nothing (the
// stalled one) never holds the leader back, and loses what the ring let go.
GST_START_TEST(test_hub_leader_gating) {
  sft::Hub hub;
  hub.set_capacity_buffers(4);
  hub.set_follower_wait(0);  // leave the stalled branch behind at once
  HubBranch leader(hub), stalled(hub);
  std::thread producer([&hub] {
    for (guint64 i = 0; i < 20; ++i)
      fail_unless_equals_int(hub.push_buffer(sftest::make_buffer(i, true)), GST_FLOW_OK);
  });
  // 0..3 fill the ring; 4 waits: nobody has taken 0.
  fail_unless(hub.wait_producer_blocked(sftest::kWait));
  fail_unless_equals_uint64(hub.buffers_in(), 5);
  fail_unless(consume(hub, leader, 20) == range(0, 20));
  producer.join();
  fail_unless(hub.producer_waits() >= 1);
  const sft::BranchStats l = hub.stats(leader.branch);
  fail_unless_equals_uint64(l.offered, 20);
  fail_unless_equals_uint64(l.out, 20);
  fail_unless_equals_uint64(l.dropped, 0);
  const sft::BranchStats s = hub.stats(stalled.branch);
  fail_unless_equals_uint64(s.offered, 20);
  fail_unless_equals_uint64(s.held, 4);  // the ring's 4 newest
  fail_unless_equals_uint64(s.dropped, 16);
  fail_unless_equals_uint64(s.out, 0);
}
GST_END_TEST;

// max-wait=0 (live producers): never waits, the ring rolls even past the leader.
GST_START_TEST(test_hub_max_wait_zero_never_waits) {
  sft::Hub hub;
  hub.set_capacity_buffers(4);
  hub.set_max_wait(0);
  HubBranch b(hub);
  for (guint64 i = 0; i < 10; ++i)
    fail_unless_equals_int(hub.push_buffer(sftest::make_buffer(i, true)), GST_FLOW_OK);
  fail_unless_equals_uint64(hub.producer_waits(), 0);
  const sft::BranchStats s = hub.stats(b.branch);
  fail_unless_equals_uint64(s.dropped, 6);
  fail_unless_equals_uint64(s.held, 4);
  // It resumes at the newest keyframe left: 9.
  fail_unless(consume(hub, b, 1) == std::vector<guint64>({9}));
}
GST_END_TEST;

// A bounded max-wait: every branch is blocked, so after max-wait the oldest buffer goes
// anyway and counts as dropped for the branch that had not taken it. (Only the outcome is
// asserted, never how long it took.)
GST_START_TEST(test_hub_max_wait_bounded) {
  sft::Hub hub;
  hub.set_capacity_buffers(2);
  hub.set_max_wait(1);
  HubBranch b(hub);
  for (guint64 i = 0; i < 3; ++i)
    fail_unless_equals_int(hub.push_buffer(sftest::make_buffer(i, true)), GST_FLOW_OK);
  fail_unless_equals_uint64(hub.producer_waits(), 1);
  const sft::BranchStats s = hub.stats(b.branch);
  fail_unless_equals_uint64(s.dropped, 1);
  fail_unless_equals_uint64(s.held, 2);
}
GST_END_TEST;

// Releasing the leader while the producer waits for it: the producer goes on.
GST_START_TEST(test_hub_remove_leader_releases_producer) {
  sft::Hub hub;
  hub.set_capacity_buffers(2);
  HubBranch b(hub);
  std::thread producer([&hub] {
    for (guint64 i = 0; i < 10; ++i)
      hub.push_buffer(sftest::make_buffer(i, true));
  });
  fail_unless(hub.wait_producer_blocked(sftest::kWait));
  std::thread remover([&hub, &b] { hub.remove_branch(b.branch); });
  remover.join();
  producer.join();
  fail_unless_equals_uint64(hub.buffers_in(), 10);
  const sft::BranchStats s = hub.stats(b.branch);
  fail_unless_equals_uint64(s.offered, s.out + s.dropped + s.held);
}
GST_END_TEST;

// ---- the lines from the issue: non-live producers ----

struct Pipeline {
  GstElement *pipeline = nullptr;
  explicit Pipeline(const char *description) {
    GError *error = nullptr;
    pipeline = gst_parse_launch(description, &error);
    fail_unless(pipeline != nullptr, "%s", error ? error->message : "");
  }
  ~Pipeline() {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
  }
  // Plays to EOS; fails on an error or a timeout.
  void run() {
    fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 120 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    fail_unless(msg != nullptr, "timed out");
    fail_unless_equals_int(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
    gst_message_unref(msg);
    gst_object_unref(bus);
  }
  // Every branch of the tee `t` got every one of n buffers.
  void assert_all_delivered(int branches, guint64 n) {
    GstElement *tee = gst_bin_get_by_name(GST_BIN(pipeline), "t");
    guint64 in = 0;
    g_object_get(tee, "buffers-in", &in, nullptr);
    fail_unless_equals_uint64(in, n);
    for (int i = 0; i < branches; ++i) {
      g_autofree gchar *name = g_strdup_printf("src_%d", i);
      GstPad *pad = gst_element_get_static_pad(tee, name);
      fail_unless(pad != nullptr);
      const Stats st = stats_of(pad);
      gst_object_unref(pad);
      fail_unless_equals_uint64(st.offered, n);
      fail_unless_equals_uint64(st.out, n);
      fail_unless_equals_uint64(st.dropped, 0);
      fail_unless_equals_uint64(st.lag, 0);
      // And the sink really got them.
      g_autofree gchar *sink_name = g_strdup_printf("f%d", i);
      GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), sink_name);
      GstSample *last = nullptr;
      g_object_get(sink, "last-sample", &last, nullptr);
      fail_unless(last != nullptr);
      fail_unless_equals_uint64(GST_BUFFER_OFFSET(gst_sample_get_buffer(last)), n - 1);
      gst_sample_unref(last);
      gst_object_unref(sink);
    }
    gst_object_unref(tee);
  }
};

// Two clock-synced sinks behind a non-live source: real-time pace, nothing lost (v1 lost
// all but 2 buffers per branch while the sinks prerolled).
GST_START_TEST(test_nonlive_sync_true_realtime) {
  Pipeline p(
      "videotestsrc num-buffers=20 ! video/x-raw,width=64,height=48,framerate=30/1 ! "
      "sharedframetee name=t t. ! fakesink name=f0 sync=true  t. ! fakesink name=f1 sync=true");
  p.run();
  p.assert_all_delivered(2, 20);
}
GST_END_TEST;

// A non-live source into several fast branches: every buffer on every branch.
GST_START_TEST(test_nonlive_fast_branches) {
  Pipeline p(
      "videotestsrc num-buffers=2000 ! video/x-raw,width=16,height=16,framerate=30/1 ! "
      "sharedframetee name=t t. ! fakesink name=f0 sync=false t. ! fakesink name=f1 sync=false "
      "t. ! fakesink name=f2 sync=false t. ! fakesink name=f3 sync=false");
  p.run();
  p.assert_all_delivered(4, 2000);
}
GST_END_TEST;

// Non-live x264 into three decoding branches: every frame decoded on every branch.
GST_START_TEST(test_x264_nonlive_three_branches) {
  for (const char *f : {"x264enc", "avdec_h264", "h264parse", "videotestsrc"}) {
    if (!steady_have_factory(f))
      STEADY_SKIP("element %s not available", f);
  }
  Pipeline p(
      "videotestsrc num-buffers=120 ! video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc speed-preset=ultrafast key-int-max=15 ! h264parse ! sharedframetee name=t "
      "t. ! avdec_h264 output-corrupt=false ! fakesink name=f0 sync=false "
      "t. ! avdec_h264 output-corrupt=false ! fakesink name=f1 sync=false "
      "t. ! avdec_h264 output-corrupt=false ! fakesink name=f2 sync=false");
  p.run();
  GstElement *tee = gst_bin_get_by_name(GST_BIN(p.pipeline), "t");
  for (int i = 0; i < 3; ++i) {
    g_autofree gchar *name = g_strdup_printf("src_%d", i);
    GstPad *pad = gst_element_get_static_pad(tee, name);
    const Stats st = stats_of(pad);
    gst_object_unref(pad);
    fail_unless_equals_uint64(st.offered, 120);
    fail_unless_equals_uint64(st.out, 120);
    fail_unless_equals_uint64(st.dropped, 0);
    g_autofree gchar *sink_name = g_strdup_printf("f%d", i);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p.pipeline), sink_name);
    guint64 rendered = 0;
    GstStructure *stats = nullptr;
    g_object_get(sink, "stats", &stats, nullptr);
    gst_structure_get_uint64(stats, "rendered", &rendered);
    gst_structure_free(stats);
    gst_object_unref(sink);
    fail_unless_equals_uint64(rendered, 120);  // every frame decoded
  }
  gst_object_unref(tee);
}
GST_END_TEST;

// A bursty producer (16 buffers at once, twice the ring) into three branches.
GST_START_TEST(test_bursty_producer) {
  Tee t;
  std::vector<Sink *> sinks = {t.add_branch(), t.add_branch(), t.add_branch()};
  t.play();
  constexpr guint64 kBursts = 20, kBurst = 16;
  for (guint64 b = 0; b < kBursts; ++b) {
    for (guint64 i = 0; i < kBurst; ++i)
      t.push(b * kBurst + i, i == 0);
    t.sync(sinks);
  }
  for (Sink *s : sinks) {
    fail_unless(s->received() == range(0, kBursts * kBurst));
    const Stats st = stats_of(s->tee_pad);
    fail_unless_equals_uint64(st.offered, kBursts * kBurst);
    fail_unless_equals_uint64(st.out, kBursts * kBurst);
    fail_unless_equals_uint64(st.dropped, 0);
    assert_accounting(s->tee_pad);
  }
}
GST_END_TEST;

// ---- flow returns, as tee aggregates them ----

GST_START_TEST(test_flow_not_linked) {
  Tee t;
  t.play();
  fail_unless_equals_int(t.try_push(0, true), GST_FLOW_NOT_LINKED);  // no branch
  GstPad *unlinked = gst_element_request_pad_simple(t.element, "src_%u");
  fail_unless_equals_int(t.try_push(1, true), GST_FLOW_NOT_LINKED);  // none linked
  g_object_set(t.element, "allow-not-linked", TRUE, nullptr);
  fail_unless_equals_int(t.try_push(2, true), GST_FLOW_OK);
  gst_element_release_request_pad(t.element, unlinked);
  gst_object_unref(unlinked);
}
GST_END_TEST;

GST_START_TEST(test_flow_eos_when_every_branch_eos) {
  Tee t;
  Sink *a = t.add_branch();
  Sink *b = t.add_branch();
  a->result = GST_FLOW_EOS;
  t.play();
  t.push(0, true);
  t.sync({a, b});
  fail_unless_equals_int(t.try_push(1, true), GST_FLOW_OK);  // b still takes buffers
  t.sync({a, b});
  {
    std::lock_guard<std::mutex> lk(b->m);
    b->result = GST_FLOW_EOS;
  }
  t.sync({a, b});
  fail_unless_equals_int(t.try_push(2, true), GST_FLOW_OK);  // b's EOS not returned yet
  t.sync({a, b});
  fail_unless_equals_int(t.try_push(3, true), GST_FLOW_EOS);
  // A flush forgets the EOS returns.
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_start()));
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_stop(TRUE)));
  {
    std::lock_guard<std::mutex> lk(a->m);
    a->result = GST_FLOW_OK;
  }
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_segment(&segment)));
  fail_unless_equals_int(t.try_push(4, true), GST_FLOW_OK);
  for (Sink *s : {a, b})
    assert_accounting(s->tee_pad);
}
GST_END_TEST;

// Waits (bounded) until the element's producer-waits counter reaches n. The counter has no
// notification, so this polls, yielding; it waits for a state, not for time.
static bool wait_producer_waits(GstElement *tee, guint64 n) {
  const auto deadline = std::chrono::steady_clock::now() + sftest::kWait;
  guint64 waits = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    g_object_get(tee, "producer-waits", &waits, nullptr);
    if (waits >= n)
      return true;
    std::this_thread::yield();
  }
  return false;
}

// A producer waiting for the leader returns FLUSHING when a flush starts.
GST_START_TEST(test_flow_flushing_wakes_waiting_producer) {
  Tee t;
  Sink *s = t.add_branch();
  s->set_block(true);
  t.play();
  std::vector<GstFlowReturn> rets;
  std::thread producer([&t, &rets] {
    for (guint64 i = 0; i < 10; ++i) {
      rets.push_back(t.try_push(i, true));
      if (rets.back() != GST_FLOW_OK)
        break;
    }
  });
  fail_unless(s->wait([s] { return s->blocked; }));
  // Buffer 0 is in the push; 1..8 fit the ring (0 left it once taken); 9 waits.
  fail_unless(wait_producer_waits(t.element, 1));
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_start()));
  producer.join();
  // Whichever push the flush met, it returned FLUSHING, and the producer never got past
  // buffer 9 (it cannot: the branch holds buffer 1 in the ring).
  fail_unless(rets.size() <= 10);
  fail_unless_equals_int(rets.back(), GST_FLOW_FLUSHING);
  for (std::size_t i = 0; i + 1 < rets.size(); ++i)
    fail_unless_equals_int(rets[i], GST_FLOW_OK);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_stop(TRUE)));
  assert_accounting(s->tee_pad);
}
GST_END_TEST;

// A flush racing a push in flight: a buffer probe on the tee's src pad holds buffer 0 inside
// its push (the branch thread took it before the flush). FLUSH_START returns only once that
// push has returned, so buffer 0 can never reach the sink after the FLUSH_STOP.
struct Held {
  std::mutex m;
  std::condition_variable cv;
  bool in_probe = false;
  bool release = false;
};

static GstPadProbeReturn hold_probe(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *h = static_cast<Held *>(data);
  if (GST_BUFFER_OFFSET(GST_PAD_PROBE_INFO_BUFFER(info)) != 0)
    return GST_PAD_PROBE_OK;
  std::unique_lock<std::mutex> lk(h->m);
  h->in_probe = true;
  h->cv.notify_all();
  h->cv.wait(lk, [h] { return h->release; });
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_flush_waits_for_push_in_flight) {
  Tee t;
  Sink *s = t.add_branch();
  Held held;
  gst_pad_add_probe(s->tee_pad, GST_PAD_PROBE_TYPE_BUFFER, hold_probe, &held, nullptr);
  t.play();
  t.push(0, true);
  {
    std::unique_lock<std::mutex> lk(held.m);
    fail_unless(held.cv.wait_for(lk, sftest::kWait, [&held] { return held.in_probe; }));
  }
  std::thread flusher([&t] {
    fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_start()));
    fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_stop(TRUE)));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    fail_unless(gst_pad_push_event(t.src, gst_event_new_segment(&segment)));
    t.push(1, true);
  });
  // FLUSH_START went downstream before the element waits for the push in flight.
  fail_unless(s->wait([s] { return s->flush_starts == 1; }));
  {
    std::lock_guard<std::mutex> lk(held.m);
    held.release = true;
    held.cv.notify_all();
  }
  flusher.join();
  t.sync({s});
  std::vector<std::string> log;
  {
    std::lock_guard<std::mutex> lk(s->m);
    log = s->log;
  }
  auto stop = std::find(log.begin(), log.end(), "ev:flush-stop");
  fail_unless(stop != log.end());
  fail_unless(std::find(stop, log.end(), "buf:0") == log.end(), "buffer 0 after FLUSH_STOP");
  fail_unless(s->received() == std::vector<guint64>({1}));  // 0 returned FLUSHING
  const Stats st = stats_of(s->tee_pad);
  fail_unless_equals_uint64(st.out, 1);
  fail_unless_equals_uint64(st.dropped, 1);
  assert_accounting(s->tee_pad);
}
GST_END_TEST;

// ---- DRAIN with an upstream pool of exactly capacity-buffers buffers ----

GST_START_TEST(test_drain_returns_pool_buffers) {
  constexpr guint kCapacity = 4;
  Tee t;
  g_object_set(t.element, "capacity-buffers", kCapacity, nullptr);
  Sink *s = t.add_branch();
  t.play();
  GstBufferPool *pool = gst_buffer_pool_new();
  GstStructure *config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, nullptr, 64, kCapacity, kCapacity);
  fail_unless(gst_buffer_pool_set_config(pool, config));
  fail_unless(gst_buffer_pool_set_active(pool, TRUE));
  GstBufferPoolAcquireParams params = {};
  params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  for (guint64 i = 0; i < kCapacity; ++i) {
    GstBuffer *buf = nullptr;
    fail_unless_equals_int(gst_buffer_pool_acquire_buffer(pool, &buf, &params), GST_FLOW_OK);
    GST_BUFFER_OFFSET(buf) = i;
    fail_unless_equals_int(gst_pad_push(t.src, buf), GST_FLOW_OK);
  }
  // The ring keeps every one of them (for late joiners) although the branch took them all.
  GstQuery *drain = gst_query_new_drain();
  fail_unless(gst_pad_peer_query(t.src, drain));
  gst_query_unref(drain);
  // Every buffer is back in the pool.
  std::vector<GstBuffer *> again;
  for (guint i = 0; i < kCapacity; ++i) {
    GstBuffer *buf = nullptr;
    fail_unless_equals_int(gst_buffer_pool_acquire_buffer(pool, &buf, &params), GST_FLOW_OK);
    again.push_back(buf);
  }
  for (GstBuffer *buf : again)
    gst_buffer_unref(buf);
  fail_unless(s->received() == range(0, kCapacity));
  const Stats st = stats_of(s->tee_pad);
  fail_unless_equals_uint64(st.out, kCapacity);
  fail_unless_equals_uint64(st.dropped, 0);
  assert_accounting(s->tee_pad);
  gst_buffer_pool_set_active(pool, FALSE);
  gst_object_unref(pool);
}
GST_END_TEST;

// ---- stall timing only in PLAYING ----

// A push blocked while PAUSED (a prerolling or paused sink) is no stall, however long it
// lasts: timing starts when the element enters PLAYING.
GST_START_TEST(test_paused_longer_than_stall_timeout) {
  Tee t;
  GstClock *clock = gst_test_clock_new();
  gst_element_set_clock(t.element, clock);
  g_object_set(t.element, "stall-timeout", 1000u, nullptr);
  Sink *s = t.add_branch();
  s->set_block(true);
  fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_PAUSED),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_stream_start("paused")));
  t.push_caps("video/x-h264, width=(int)320");
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_segment(&segment)));
  t.push(0, true);
  fail_unless(s->wait([s] { return s->blocked; }));
  // Five stall-timeouts in PAUSED.
  gst_test_clock_set_time(GST_TEST_CLOCK(clock), 5 * GST_SECOND);
  fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_SUCCESS);
  // The watchdog now waits for 5 s + 1 s: the push's timing started in PLAYING.
  fail_unless(
      gst_test_clock_timed_wait_for_multiple_pending_ids(GST_TEST_CLOCK(clock), 1, 20000, nullptr));
  GstClockID id = nullptr;
  fail_unless(gst_test_clock_peek_next_pending_id(GST_TEST_CLOCK(clock), &id));
  fail_unless_equals_uint64(gst_clock_id_get_time(id), 6 * GST_SECOND);
  gst_clock_id_unref(id);
  fail_unless(gst_bus_pop_filtered(t.bus, GST_MESSAGE_ELEMENT) == nullptr);
  fail_unless(!stats_of(s->tee_pad).evicted);
  // Back to PAUSED, and long again: still nothing.
  fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_PAUSED),
                         GST_STATE_CHANGE_SUCCESS);
  gst_test_clock_set_time(GST_TEST_CLOCK(clock), 60 * GST_SECOND);
  fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(
      gst_test_clock_timed_wait_for_multiple_pending_ids(GST_TEST_CLOCK(clock), 1, 20000, nullptr));
  fail_unless(gst_test_clock_peek_next_pending_id(GST_TEST_CLOCK(clock), &id));
  fail_unless_equals_uint64(gst_clock_id_get_time(id), 61 * GST_SECOND);
  gst_clock_id_unref(id);
  fail_unless(!stats_of(s->tee_pad).evicted);
  // A real stall in PLAYING is still evicted, timed from PLAYING.
  fail_unless(gst_test_clock_crank(GST_TEST_CLOCK(clock)));
  GstMessage *msg = gst_bus_timed_pop_filtered(t.bus, 20 * GST_SECOND, GST_MESSAGE_ELEMENT);
  fail_unless(msg != nullptr);
  guint64 stalled_for = 0;
  fail_unless(
      gst_structure_get_uint64(gst_message_get_structure(msg), "stalled-for", &stalled_for));
  fail_unless_equals_uint64(stalled_for, GST_SECOND);
  gst_message_unref(msg);
  gst_element_set_state(t.element, GST_STATE_NULL);
  gst_object_unref(clock);
}
GST_END_TEST;

// READY <-> PAUSED <-> PLAYING cycles with branches attached: nobody is evicted, no
// message, data flows after each cycle and the accounting holds.
GST_START_TEST(test_state_cycles_evict_nobody) {
  Tee t;
  GstClock *clock = gst_test_clock_new();
  gst_element_set_clock(t.element, clock);
  g_object_set(t.element, "stall-timeout", 100u, nullptr);
  std::vector<Sink *> sinks = {t.add_branch(), t.add_branch()};
  guint64 next = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    t.play();
    for (int i = 0; i < 5; ++i, ++next)
      t.push(next, i == 0);
    t.sync(sinks);
    fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_PAUSED),
                           GST_STATE_CHANGE_SUCCESS);
    // A paused sink holds one push for a long time: no stall.
    sinks[0]->set_block(true);
    t.push(next++, true);
    fail_unless(sinks[0]->wait([&sinks] { return sinks[0]->blocked; }));
    gst_test_clock_advance_time(GST_TEST_CLOCK(clock), 10 * GST_SECOND);
    sinks[0]->set_block(false);
    t.sync(sinks);
    fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_PLAYING),
                           GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int(gst_element_set_state(t.element, GST_STATE_READY),
                           GST_STATE_CHANGE_SUCCESS);
    gst_test_clock_advance_time(GST_TEST_CLOCK(clock), 10 * GST_SECOND);
  }
  fail_unless(gst_bus_pop_filtered(t.bus, GST_MESSAGE_ELEMENT) == nullptr);
  for (Sink *s : sinks) {
    fail_unless(s->received() == range(0, next));
    const Stats st = stats_of(s->tee_pad);
    fail_unless(!st.evicted);
    fail_unless_equals_uint64(st.out, next);
    assert_accounting(s->tee_pad);
  }
  gst_element_set_state(t.element, GST_STATE_NULL);
  gst_object_unref(clock);
}
GST_END_TEST;

// ---- every branch blocked: release from any thread lets the producer go on ----

GST_START_TEST(test_release_blocked_leader_from_other_thread) {
  Tee t;
  g_object_set(t.element, "allow-not-linked", TRUE, nullptr);
  Sink *a = t.add_branch();
  Sink *b = t.add_branch();
  a->set_block(true);
  b->set_block(true);
  t.play();
  std::thread producer([&t] {
    for (guint64 i = 0; i < 30; ++i)
      fail_unless_equals_int(t.try_push(i, true), GST_FLOW_OK);
  });
  fail_unless(a->wait([a] { return a->blocked; }));
  fail_unless(b->wait([b] { return b->blocked; }));
  GstPad *pad_a = GST_PAD(gst_object_ref(a->tee_pad));
  GstPad *pad_b = GST_PAD(gst_object_ref(b->tee_pad));
  std::thread releaser([&t, pad_a] { gst_element_release_request_pad(t.element, pad_a); });
  releaser.join();
  // b, the leader now, still blocked: the producer waits for it (or has finished if b's
  // release comes first); releasing it from yet another thread lets the producer finish.
  std::thread releaser_b([&t, pad_b] { gst_element_release_request_pad(t.element, pad_b); });
  releaser_b.join();
  producer.join();
  for (GstPad *pad : {pad_a, pad_b}) {
    assert_accounting(pad);
    gst_object_unref(pad);
  }
  t.sinks.clear();
  guint64 in = 0;
  g_object_get(t.element, "buffers-in", &in, nullptr);
  fail_unless_equals_uint64(in, 30);
}
GST_END_TEST;

static Suite *sharedframetee_gating_suite() {
  Suite *s = suite_create("sharedframetee-gating");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_hub_leader_gating);
  tcase_add_test(tc, test_hub_max_wait_zero_never_waits);
  tcase_add_test(tc, test_hub_max_wait_bounded);
  tcase_add_test(tc, test_hub_remove_leader_releases_producer);
  tcase_add_test(tc, test_nonlive_sync_true_realtime);
  tcase_add_test(tc, test_nonlive_fast_branches);
  tcase_add_test(tc, test_x264_nonlive_three_branches);
  tcase_add_test(tc, test_bursty_producer);
  tcase_add_test(tc, test_flow_not_linked);
  tcase_add_test(tc, test_flow_eos_when_every_branch_eos);
  tcase_add_test(tc, test_flow_flushing_wakes_waiting_producer);
  tcase_add_test(tc, test_flush_waits_for_push_in_flight);
  tcase_add_test(tc, test_drain_returns_pool_buffers);
  tcase_add_test(tc, test_paused_longer_than_stall_timeout);
  tcase_add_test(tc, test_state_cycles_evict_nobody);
  tcase_add_test(tc, test_release_blocked_leader_from_other_thread);
  return s;
}

GST_CHECK_MAIN(sharedframetee_gating);
