// Tests for sharedframetee: exact counts and ordering, lag/resync, sticky events, late join,
// EOS/flush, stall eviction on a test clock, release while blocked, a request/release storm
// (also run under ThreadSanitizer) and a real H.264 stream decoded on three branches.
#include <gst/check/gstcheck.h>
#include <gst/check/gsttestclock.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <random>
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

// ---- ordering and exact counts ----

static void run_order_and_counts(int branches) {
  Tee t;
  g_object_set(t.element, "capacity-buffers", 256u, nullptr);
  std::vector<Sink *> sinks;
  for (int i = 0; i < branches; ++i)
    sinks.push_back(t.add_branch());
  t.play();
  constexpr guint64 kBuffers = 200;
  for (guint64 i = 0; i < kBuffers; ++i)
    t.push(i, i % 10 == 0);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_eos()));
  for (Sink *s : sinks) {
    fail_unless(s->wait([s] { return s->eos == 1; }));
    fail_unless(s->received() == range(0, kBuffers));
    // Sticky events first, EOS last.
    fail_unless_equals_string(s->log.front().c_str(), "ev:stream-start");
    fail_unless_equals_string(s->log.back().c_str(), "ev:eos");
    const Stats st = stats_of(s->tee_pad);
    fail_unless_equals_uint64(st.offered, kBuffers);
    fail_unless_equals_uint64(st.out, kBuffers);
    fail_unless_equals_uint64(st.dropped, 0);
    fail_unless_equals_uint64(st.lag, 0);
    fail_unless_equals_uint64(st.resyncs, 0);
  }
  guint64 in = 0;
  gint pads = 0;
  g_object_get(t.element, "buffers-in", &in, "num-src-pads", &pads, nullptr);
  fail_unless_equals_uint64(in, kBuffers);
  fail_unless_equals_int(pads, branches);
}

GST_START_TEST(test_order_counts_1) {
  run_order_and_counts(1);
}
GST_END_TEST;

GST_START_TEST(test_order_counts_2) {
  run_order_and_counts(2);
}
GST_END_TEST;

GST_START_TEST(test_order_counts_8) {
  run_order_and_counts(8);
}
GST_END_TEST;

// Default capacity (8): pushing in lock-step with the branches loses nothing.
GST_START_TEST(test_lockstep_default_capacity) {
  Tee t;
  std::vector<Sink *> sinks = {t.add_branch(), t.add_branch(), t.add_branch()};
  t.play();
  for (guint64 i = 0; i < 300; ++i) {
    t.push(i, i % 30 == 0);
    for (Sink *s : sinks)
      fail_unless(s->wait([s, i] { return s->offsets.size() == i + 1; }));
  }
  t.sync(sinks);
  for (Sink *s : sinks) {
    fail_unless(s->received() == range(0, 300));
    const Stats st = stats_of(s->tee_pad);
    fail_unless_equals_uint64(st.out, 300);
    fail_unless_equals_uint64(st.dropped, 0);
  }
}
GST_END_TEST;

// With no branch and allow-not-linked, the stream rolls through the ring.
GST_START_TEST(test_no_branches_accepts_data) {
  Tee t;
  g_object_set(t.element, "allow-not-linked", TRUE, nullptr);
  t.play();
  for (guint64 i = 0; i < 50; ++i)
    t.push(i, true);
  guint64 in = 0;
  g_object_get(t.element, "buffers-in", &in, nullptr);
  fail_unless_equals_uint64(in, 50);
}
GST_END_TEST;

// ---- a blocked branch never holds the others back ----

GST_START_TEST(test_blocked_branch_others_get_all) {
  Tee t;
  Sink *a = t.add_branch();
  Sink *blocked = t.add_branch();
  Sink *c = t.add_branch();
  blocked->set_block(true);
  t.play();
  constexpr guint64 kBuffers = 100;
  for (guint64 i = 0; i < kBuffers; ++i) {
    t.push(i, i % 10 == 0);
    if (i == 0)
      fail_unless(blocked->wait([blocked] { return blocked->blocked; }));
    for (Sink *s : {a, c})
      fail_unless(s->wait([s, i] { return s->offsets.size() == i + 1; }));
  }
  t.sync({a, c});
  for (Sink *s : {a, c}) {
    fail_unless(s->received() == range(0, kBuffers));
    fail_unless_equals_uint64(stats_of(s->tee_pad).out, kBuffers);
  }
  // The blocked branch holds buffer 0 in its push and the 8 newest in the ring.
  const Stats b = stats_of(blocked->tee_pad);
  fail_unless_equals_uint64(b.offered, kBuffers);
  fail_unless_equals_uint64(b.out, 0);
  fail_unless_equals_uint64(b.lag, 9);
  fail_unless_equals_uint64(b.dropped, kBuffers - 9);
  assert_accounting(blocked->tee_pad);
}
GST_END_TEST;

// capacity-time bounds the ring by timestamps (40 ms apart here): 200 ms keeps 6 buffers.
GST_START_TEST(test_capacity_time) {
  Tee t;
  g_object_set(t.element, "capacity-buffers", 1000u, "capacity-time",
               static_cast<guint64>(200 * GST_MSECOND), "max-wait", 0, nullptr);
  Sink *blocked = t.add_branch();
  blocked->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(blocked->wait([blocked] { return blocked->blocked; }));
  for (guint64 i = 1; i < 20; ++i)
    t.push(i, true);
  const Stats st = stats_of(blocked->tee_pad);
  fail_unless_equals_uint64(st.offered, 20);
  fail_unless_equals_uint64(st.lag, 1 + 6);  // buffer 0 in its push, 14..19 in the ring
  fail_unless_equals_uint64(st.dropped, 13);
}
GST_END_TEST;

// A fatal flow return on one branch is reported once on the bus; the others go on.
GST_START_TEST(test_fatal_flow_on_one_branch) {
  Tee t;
  Sink *good = t.add_branch();
  Sink *bad = t.add_branch();
  bad->result = GST_FLOW_NOT_NEGOTIATED;
  t.play();
  for (guint64 i = 0; i < 3; ++i) {
    t.push(i, true);
    fail_unless(good->wait([good, i] { return good->offsets.size() == i + 1; }));
  }
  t.sync({good, bad});
  GstMessage *msg = gst_bus_timed_pop_filtered(t.bus, 20 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless(msg != nullptr);
  fail_unless(GST_MESSAGE_SRC(msg) == GST_OBJECT(t.element));
  gst_message_unref(msg);
  fail_unless(gst_bus_pop_filtered(t.bus, GST_MESSAGE_ERROR) == nullptr);  // only once
  fail_unless(bad->received() == range(0, 3));
  const Stats b = stats_of(bad->tee_pad);
  fail_unless_equals_uint64(b.out, 0);
  fail_unless_equals_uint64(b.dropped, 3);
  fail_unless_equals_uint64(stats_of(good->tee_pad).out, 3);
}
GST_END_TEST;

// ---- lag and resync ----

// Blocks the branch on buffer 0, pushes 1..last with keyframes where is_key says, unblocks,
// and waits for `expected`.
// The producer never waits (max-wait=0, the live-producer policy): with the only branch
// blocked, the ring rolls and the branch lags.
static Sink *lag_scenario(Tee &t, guint64 last, const std::function<bool(guint64)> &is_key,
                          const std::vector<guint64> &expected) {
  g_object_set(t.element, "max-wait", 0, nullptr);
  Sink *s = t.add_branch();
  s->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(s->wait([s] { return s->blocked; }));
  for (guint64 i = 1; i <= last; ++i)
    t.push(i, is_key(i));
  s->set_block(false);
  fail_unless(s->wait([s, &expected] { return s->offsets.size() == expected.size(); }));
  t.sync({s});
  fail_unless(s->received() == expected);
  return s;
}

GST_START_TEST(test_lag_resync_keyframe) {
  Tee t;
  // Keyframes at 0, 5, 10, 15; the ring (8) keeps 12..19 while buffer 0 is stuck.
  Sink *s = lag_scenario(t, 19, [](guint64 i) { return i % 5 == 0; }, {0, 15, 16, 17, 18, 19});
  const Stats st = stats_of(s->tee_pad);
  fail_unless_equals_uint64(st.offered, 20);
  fail_unless_equals_uint64(st.out, 6);
  fail_unless_equals_uint64(st.dropped, 14);  // 1..11 evicted, 12..14 skipped
  fail_unless_equals_uint64(st.lag, 0);
  fail_unless_equals_uint64(st.resyncs, 1);
  fail_unless_equals_int(t.key_units(), 0);  // a keyframe was in the ring
}
GST_END_TEST;

GST_START_TEST(test_lag_resync_latest) {
  Tee t;
  gst_util_set_object_arg(G_OBJECT(t.element), "resync", "latest");
  Sink *s = lag_scenario(t, 19, [](guint64 i) { return i % 5 == 0; }, {0, 19});
  const Stats st = stats_of(s->tee_pad);
  fail_unless_equals_uint64(st.offered, 20);
  fail_unless_equals_uint64(st.out, 2);
  fail_unless_equals_uint64(st.dropped, 18);
  fail_unless_equals_uint64(st.resyncs, 1);
}
GST_END_TEST;

// No keyframe left in the ring: the branch waits for the next one and asks upstream, once.
GST_START_TEST(test_lag_resync_waits_for_keyframe) {
  Tee t;
  g_object_set(t.element, "max-wait", 0, nullptr);
  Sink *s = t.add_branch();
  s->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(s->wait([s] { return s->blocked; }));
  for (guint64 i = 1; i <= 19; ++i)
    t.push(i, false);
  s->set_block(false);
  // Buffer 0 completes, the branch skips 12..19 and waits.
  // The request is sent by the branch thread after it accounted for the skip.
  fail_unless(t.wait_key_units(1));
  fail_unless_equals_uint64(stats_of(s->tee_pad).dropped, 19);
  t.push(20, false);  // still a delta: dropped
  t.push(21, true);
  fail_unless(s->wait([s] { return s->offsets.size() == 2; }));
  t.sync({s});
  fail_unless(s->received() == std::vector<guint64>({0, 21}));
  const Stats st = stats_of(s->tee_pad);
  fail_unless_equals_uint64(st.offered, 22);
  fail_unless_equals_uint64(st.out, 2);
  fail_unless_equals_uint64(st.dropped, 20);
  fail_unless_equals_uint64(st.resyncs, 1);
  // Rate-limited: a second lag right away asks nobody again.
  fail_unless_equals_int(t.key_units(), 1);
}
GST_END_TEST;

// A caps change (and a custom serialized event) inside the skipped stretch.
GST_START_TEST(test_caps_change_in_skipped_stretch) {
  Tee t;
  g_object_set(t.element, "max-wait", 0, nullptr);
  Sink *s = t.add_branch();
  s->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(s->wait([s] { return s->blocked; }));
  for (guint64 i = 1; i <= 3; ++i)
    t.push(i, false);
  t.push_caps("video/x-h264, width=(int)640");
  fail_unless(
      gst_pad_push_event(t.src, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
                                                     gst_structure_new_empty("skipped-marker"))));
  for (guint64 i = 4; i <= 19; ++i)
    t.push(i, i % 5 == 0);
  s->set_block(false);
  fail_unless(s->wait([s] { return s->offsets.size() == 6; }));
  t.sync({s});
  fail_unless(s->received() == std::vector<guint64>({0, 15, 16, 17, 18, 19}));
  // Between buffer 0 and buffer 15 the branch got the new caps.
  std::vector<std::string> log;
  {
    std::lock_guard<std::mutex> lk(s->m);
    log = s->log;
  }
  auto at0 = std::find(log.begin(), log.end(), "buf:0");
  auto at15 = std::find(log.begin(), log.end(), "buf:15");
  fail_unless(at0 < at15);
  fail_unless(std::find(at0, at15, "caps:video/x-h264, width=(int)640") != at15);
  fail_unless(std::find(log.begin(), log.end(), "ev:custom:skipped-marker") == log.end());
  // The resync re-offered stream-start and segment, the same objects: not sent twice.
  fail_unless_equals_int(std::count(log.begin(), log.end(), "ev:stream-start"), 1);
  fail_unless_equals_int(std::count(log.begin(), log.end(), "ev:segment"), 1);
  GstCaps *caps = gst_pad_get_current_caps(s->pad);
  GstCaps *expected = gst_caps_from_string("video/x-h264, width=(int)640");
  fail_unless(gst_caps_is_equal(caps, expected));
  gst_caps_unref(caps);
  gst_caps_unref(expected);
  const Stats st = stats_of(s->tee_pad);
  fail_unless_equals_uint64(st.events_skipped, 1);
  fail_unless_equals_uint64(st.resyncs, 1);
}
GST_END_TEST;

// ---- late join ----

static void run_late_join(bool latest, const std::vector<guint64> &expected) {
  Tee t;
  if (latest)
    gst_util_set_object_arg(G_OBJECT(t.element), "resync", "latest");
  Sink *first = t.add_branch();
  t.play();
  for (guint64 i = 0; i < 10; ++i) {
    t.push(i, i % 5 == 0);  // keyframes 0, 5; the ring keeps 2..9
    fail_unless(first->wait([first, i] { return first->offsets.size() == i + 1; }));
  }
  Sink *late = t.add_branch();
  fail_unless(late->wait([late, &expected] { return late->offsets.size() == expected.size(); }));
  t.sync({late});
  fail_unless(late->received() == expected);
  {
    std::lock_guard<std::mutex> lk(late->m);
    fail_unless_equals_string(late->log[0].c_str(), "ev:stream-start");
    fail_unless_equals_string(late->log[1].c_str(), "caps:video/x-h264, width=(int)320");
    fail_unless_equals_string(late->log[2].c_str(), "ev:segment");
  }
  const Stats st = stats_of(late->tee_pad);
  fail_unless_equals_uint64(st.offered, expected.size());
  fail_unless_equals_uint64(st.out, expected.size());
  fail_unless_equals_uint64(st.dropped, 0);
  fail_unless_equals_uint64(st.resyncs, 0);
  // It then follows the live stream.
  t.push(10, false);
  fail_unless(
      late->wait([late, &expected] { return late->offsets.size() == expected.size() + 1; }));
}

GST_START_TEST(test_late_join_fast_start) {
  run_late_join(false, {5, 6, 7, 8, 9});
}
GST_END_TEST;

GST_START_TEST(test_late_join_latest) {
  run_late_join(true, {9});
}
GST_END_TEST;

// Late join with no keyframe left in the ring: the new pad asks upstream for one (at
// request time) and starts with it.
GST_START_TEST(test_late_join_waits_for_keyframe) {
  Tee t;
  Sink *first = t.add_branch();
  t.play();
  for (guint64 i = 0; i < 10; ++i) {
    t.push(i, i == 0);  // the ring (8) keeps deltas 2..9 only
    fail_unless(first->wait([first, i] { return first->offsets.size() == i + 1; }));
  }
  Sink *late = t.add_branch();
  fail_unless(t.wait_key_units(1));
  t.push(10, false);
  t.push(11, true);
  fail_unless(late->wait([late] { return late->offsets.size() == 1; }));
  t.sync({late, first});
  fail_unless(late->received() == std::vector<guint64>({11}));
  const Stats st = stats_of(late->tee_pad);
  fail_unless_equals_uint64(st.offered, 2);
  fail_unless_equals_uint64(st.out, 1);
  fail_unless_equals_uint64(st.dropped, 1);
  fail_unless(first->received() == range(0, 12));
}
GST_END_TEST;

// ---- EOS and flushing ----

GST_START_TEST(test_eos_to_all_branches) {
  Tee t;
  std::vector<Sink *> sinks;
  for (int i = 0; i < 8; ++i)
    sinks.push_back(t.add_branch());
  Sink *slow = sinks[3];
  slow->set_block(true);
  t.play();
  for (guint64 i = 0; i < 6; ++i)
    t.push(i, i == 0);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_eos()));
  for (Sink *s : sinks) {
    if (s != slow)
      fail_unless(s->wait([s] { return s->eos == 1; }));
  }
  // The blocked branch gets its EOS after what it still had to deliver.
  fail_unless_equals_int(slow->eos, 0);
  slow->set_block(false);
  fail_unless(slow->wait([slow] { return slow->eos == 1; }));
  for (Sink *s : sinks) {
    fail_unless(s->received() == range(0, 6));
    std::lock_guard<std::mutex> lk(s->m);
    fail_unless_equals_string(s->log.back().c_str(), "ev:eos");
  }
}
GST_END_TEST;

GST_START_TEST(test_flush_to_all_branches) {
  Tee t;
  std::vector<Sink *> sinks;
  for (int i = 0; i < 4; ++i)
    sinks.push_back(t.add_branch());
  Sink *blocked = sinks[1];
  blocked->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(blocked->wait([blocked] { return blocked->blocked; }));
  for (guint64 i = 1; i < 5; ++i)
    t.push(i, false);
  for (Sink *s : sinks) {
    if (s != blocked)
      fail_unless(s->wait([s] { return s->offsets.size() == 5; }));
  }
  fail_unless_equals_uint64(stats_of(blocked->tee_pad).lag, 5);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_start()));
  for (Sink *s : sinks)
    fail_unless(s->wait([s] { return s->flush_starts == 1; }));
  // The blocked push returned FLUSHING (its sink honours flushing): the ring is empty.
  fail_unless(blocked->wait([blocked] { return !blocked->blocked; }));
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_stop(TRUE)));
  for (Sink *s : sinks)
    fail_unless(s->wait([s] { return s->flush_stops == 1; }));
  t.sync(sinks);
  const Stats b = stats_of(blocked->tee_pad);
  fail_unless_equals_uint64(b.offered, 5);
  fail_unless_equals_uint64(b.out, 0);
  fail_unless_equals_uint64(b.dropped, 5);
  // After the flush, data flows to everyone again.
  blocked->set_block(false);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  fail_unless(gst_pad_push_event(t.src, gst_event_new_segment(&segment)));
  t.push(100, true);
  for (Sink *s : sinks) {
    fail_unless(s->wait([s] { return !s->offsets.empty() && s->offsets.back() == 100; }));
    assert_accounting(s->tee_pad);
  }
}
GST_END_TEST;

// ---- eviction on stall, driven by a test clock ----

// Test-clock time only moves when the test moves it, so every push so far started at 0, the
// live branch's too, and one of its pushes is always the last one in flight. Move the clock
// to `at` between two markers: the live branch's push in flight then started at `at`, not
// at 0, and only the stuck branch is due at the deadline.
static void settle_at(Tee &t, Sink *live, GstClock *clock, GstClockTime at) {
  t.sync({live});
  gst_test_clock_set_time(GST_TEST_CLOCK(clock), at);
  t.sync({live});
}

GST_START_TEST(test_stall_eviction_test_clock) {
  Tee t;
  GstClock *clock = gst_test_clock_new();
  gst_element_set_clock(t.element, clock);
  g_object_set(t.element, "stall-timeout", 1000u, nullptr);
  Sink *live = t.add_branch();
  Sink *stuck = t.add_branch();
  stuck->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(stuck->wait([stuck] { return stuck->blocked; }));
  for (guint64 i = 1; i < 5; ++i)
    t.push(i, false);
  fail_unless(live->wait([live] { return live->offsets.size() == 5; }));
  settle_at(t, live, clock, 600 * GST_MSECOND);
  // The watchdog waits for time 1 s (push started at 0); crank the clock there.
  fail_unless(gst_test_clock_crank(GST_TEST_CLOCK(clock)));
  GstMessage *msg = gst_bus_timed_pop_filtered(t.bus, 20 * GST_SECOND, GST_MESSAGE_ELEMENT);
  fail_unless(msg != nullptr, "no eviction message");
  const GstStructure *s = gst_message_get_structure(msg);
  fail_unless(gst_structure_has_name(s, "sharedframetee-branch-evicted"));
  GstPad *pad = nullptr;
  guint64 stalled_for = 0, dropped = 0;
  fail_unless(gst_structure_get(s, "pad", GST_TYPE_PAD, &pad, "stalled-for", G_TYPE_UINT64,
                                &stalled_for, "buffers-dropped", G_TYPE_UINT64, &dropped, nullptr));
  fail_unless(pad == stuck->tee_pad);
  fail_unless_equals_uint64(stalled_for, GST_SECOND);
  fail_unless_equals_uint64(dropped, 5);  // buffer 0 in the stuck push + 1..4
  gst_object_unref(pad);
  gst_message_unref(msg);
  // Its thread stopped (the flush released the sink), its pad is inactive.
  fail_unless(stuck->wait([stuck] { return !stuck->blocked && stuck->flush_starts == 1; }));
  fail_if(gst_pad_is_active(stuck->tee_pad));
  const Stats st = stats_of(stuck->tee_pad);
  fail_unless(st.evicted);
  fail_unless_equals_uint64(st.offered, st.out + st.dropped + st.lag);
  fail_unless_equals_uint64(st.lag, 0);
  // The live branch is untouched and keeps receiving.
  t.push(5, true);
  fail_unless(live->wait([live] { return live->offsets.size() == 6; }));
  t.release(stuck);
  gint pads = 0;
  g_object_get(t.element, "num-src-pads", &pads, nullptr);
  fail_unless_equals_int(pads, 1);
  gst_element_set_state(t.element, GST_STATE_NULL);
  gst_object_unref(clock);
}
GST_END_TEST;

// The usual application pattern: release the evicted pad right from a bus sync handler,
// on the watchdog's thread.
static GstBusSyncReply release_evicted(GstBus *, GstMessage *msg, gpointer element) {
  const GstStructure *s = gst_message_get_structure(msg);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT &&
      gst_structure_has_name(s, "sharedframetee-branch-evicted")) {
    GstPad *pad = nullptr;
    gst_structure_get(s, "pad", GST_TYPE_PAD, &pad, nullptr);
    gst_element_release_request_pad(GST_ELEMENT(element), pad);
    gst_object_unref(pad);
  }
  return GST_BUS_PASS;
}

GST_START_TEST(test_stall_eviction_release_in_sync_handler) {
  Tee t;
  GstClock *clock = gst_test_clock_new();
  gst_element_set_clock(t.element, clock);
  g_object_set(t.element, "stall-timeout", 500u, nullptr);
  gst_bus_set_sync_handler(t.bus, release_evicted, t.element, nullptr);
  Sink *live = t.add_branch();
  Sink *stuck = t.add_branch();
  stuck->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(stuck->wait([stuck] { return stuck->blocked; }));
  settle_at(t, live, clock, 300 * GST_MSECOND);
  fail_unless(gst_test_clock_crank(GST_TEST_CLOCK(clock)));
  GstMessage *msg = gst_bus_timed_pop_filtered(t.bus, 20 * GST_SECOND, GST_MESSAGE_ELEMENT);
  fail_unless(msg != nullptr);
  gst_message_unref(msg);
  // Released by the handler before the message reached the queue.
  gint pads = 0;
  g_object_get(t.element, "num-src-pads", &pads, nullptr);
  fail_unless_equals_int(pads, 1);
  fail_if(gst_pad_is_linked(stuck->pad));
  for (auto it = t.sinks.begin(); it != t.sinks.end(); ++it) {
    if (it->get() == stuck) {
      t.sinks.erase(it);
      break;
    }
  }
  t.push(1, true);
  fail_unless(live->wait([live] { return live->offsets.size() == 2; }));
  gst_bus_set_sync_handler(t.bus, nullptr, nullptr, nullptr);
  gst_element_set_state(t.element, GST_STATE_NULL);
  gst_object_unref(clock);
}
GST_END_TEST;

// ---- release while blocked ----

GST_START_TEST(test_release_blocked_branch_playing) {
  Tee t;
  Sink *live = t.add_branch();
  Sink *stuck = t.add_branch();
  stuck->set_block(true);
  t.play();
  t.push(0, true);
  fail_unless(stuck->wait([stuck] { return stuck->blocked; }));
  // Keep the sink pad alive past the release to look at what it saw.
  GstPad *stuck_sink = GST_PAD(gst_object_ref(stuck->pad));
  Sink *stuck_copy = stuck;
  int flush_starts = 0, flush_stops = 0;
  std::thread releaser([&] {
    // Run from another thread than the test's, as an application would.
    gst_element_release_request_pad(t.element, stuck_copy->tee_pad);
  });
  releaser.join();
  {
    std::lock_guard<std::mutex> lk(stuck->m);
    flush_starts = stuck->flush_starts;
    flush_stops = stuck->flush_stops;
  }
  fail_unless_equals_int(flush_starts, 1);  // unblocked by a flush...
  fail_unless_equals_int(flush_stops, 1);   // ...and left usable again
  fail_if(gst_pad_is_linked(stuck_sink));
  gint pads = 0;
  g_object_get(t.element, "num-src-pads", &pads, nullptr);
  fail_unless_equals_int(pads, 1);
  // Forget it in the fixture (already released).
  for (auto it = t.sinks.begin(); it != t.sinks.end(); ++it) {
    if (it->get() == stuck) {
      t.sinks.erase(it);
      break;
    }
  }
  gst_object_unref(stuck_sink);
  for (guint64 i = 1; i < 20; ++i) {
    t.push(i, false);
    fail_unless(live->wait([live, i] { return live->offsets.size() == i + 1; }));
  }
  fail_unless(live->received() == range(0, 20));
}
GST_END_TEST;

// Stream-status ENTER/LEAVE messages on the bus so far, as "<pad>:enter" / "<pad>:leave",
// each with the pad's task as its object.
static std::vector<std::string> pop_task_status(GstBus *bus) {
  std::vector<std::string> out;
  while (GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_STREAM_STATUS)) {
    GstStreamStatusType type;
    GstElement *owner = nullptr;
    gst_message_parse_stream_status(msg, &type, &owner);
    const GValue *object = gst_message_get_stream_status_object(msg);
    if (type == GST_STREAM_STATUS_TYPE_ENTER || type == GST_STREAM_STATUS_TYPE_LEAVE) {
      fail_unless(object && G_VALUE_HOLDS(object, GST_TYPE_TASK), "no task in stream-status");
      out.push_back(std::string(GST_MESSAGE_SRC_NAME(msg)) +
                    (type == GST_STREAM_STATUS_TYPE_ENTER ? ":enter" : ":leave"));
    }
    gst_message_unref(msg);
  }
  return out;
}

// A downstream that ignores flushing (a broken element): release flushes it, then joins the
// branch's task, which waits for the push in flight, as queue or tee would. Release returns
// once downstream does; no thread is left behind and nothing leaks.
static void on_finalized(gpointer data, GObject *) {
  auto *flag = static_cast<std::pair<std::mutex, std::pair<std::condition_variable, bool>> *>(data);
  std::lock_guard<std::mutex> lk(flag->first);
  flag->second.second = true;
  flag->second.first.notify_all();
}

GST_START_TEST(test_release_downstream_ignores_flush) {
  std::pair<std::mutex, std::pair<std::condition_variable, bool>> finalized;
  finalized.second.second = false;
  Tee t;
  auto owned = std::make_unique<Sink>();
  Sink *stuck = owned.get();
  stuck->honour_flush = false;
  stuck->set_block(true);
  stuck->tee_pad = gst_element_request_pad_simple(t.element, "src_%u");
  fail_unless_equals_int(gst_pad_link(stuck->tee_pad, stuck->pad), GST_PAD_LINK_OK);
  t.play();
  t.push(0, true);
  fail_unless(stuck->wait([stuck] { return stuck->blocked; }));
  g_object_weak_ref(G_OBJECT(stuck->tee_pad), on_finalized, &finalized);
  GstPad *tee_pad = stuck->tee_pad;
  stuck->tee_pad = nullptr;
  std::atomic<bool> released{false};
  std::thread releaser([&] {
    gst_element_release_request_pad(t.element, tee_pad);
    released = true;
  });
  // The release flushed the peer (ignored): it now waits for the push, which cannot return
  // before the test lets the sink go.
  fail_unless(stuck->wait([stuck] { return stuck->flush_starts == 1; }));
  fail_if(released.load(), "release returned while its task was still downstream");
  stuck->set_block(false);
  releaser.join();
  fail_unless_equals_int(stuck->flush_stops, 1);
  // The task was joined before the pad left the element: its thread left (LEAVE posted).
  fail_unless(pop_task_status(t.bus) == std::vector<std::string>({"src_0:enter", "src_0:leave"}));
  gst_object_unref(tee_pad);
  std::lock_guard<std::mutex> lk(finalized.first);
  fail_unless(finalized.second.second, "pad still alive after release and unref");
}
GST_END_TEST;

// Every branch runs on its src pad's task: stream-status ENTER when it starts and LEAVE when
// it is released or the element goes down, with the task as the message's object.
GST_START_TEST(test_stream_status_per_branch) {
  Tee t;
  Sink *a = t.add_branch();
  Sink *b = t.add_branch();
  Sink *c = t.add_branch();
  t.play();
  t.push(0, true);
  t.sync({a, b, c});
  std::vector<std::string> st = pop_task_status(t.bus);
  std::sort(st.begin(), st.end());
  fail_unless(st == std::vector<std::string>({"src_0:enter", "src_1:enter", "src_2:enter"}));
  // A flush pauses and restarts the tasks: their threads stay.
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_start()));
  fail_unless(gst_pad_push_event(t.src, gst_event_new_flush_stop(TRUE)));
  t.sync({a, b, c});
  fail_unless(pop_task_status(t.bus).empty());
  t.release(b);
  fail_unless(pop_task_status(t.bus) == std::vector<std::string>({"src_1:leave"}));
  gst_element_set_state(t.element, GST_STATE_NULL);
  st = pop_task_status(t.bus);
  std::sort(st.begin(), st.end());
  fail_unless(st == std::vector<std::string>({"src_0:leave", "src_2:leave"}));
  // Back to PLAYING: new tasks for the remaining branches (they entered before pushing).
  t.play();
  t.push(1, true);
  t.sync({a, c});
  st = pop_task_status(t.bus);
  std::sort(st.begin(), st.end());
  fail_unless(st == std::vector<std::string>({"src_0:enter", "src_2:enter"}));
}
GST_END_TEST;

// Releasing a pad from inside its own branch's streaming thread must not deadlock.
GST_START_TEST(test_release_from_own_thread) {
  std::pair<std::mutex, std::pair<std::condition_variable, bool>> finalized;
  finalized.second.second = false;
  Tee t;
  auto owned = std::make_unique<Sink>();
  Sink *s = owned.get();
  s->tee_pad = gst_element_request_pad_simple(t.element, "src_%u");
  fail_unless_equals_int(gst_pad_link(s->tee_pad, s->pad), GST_PAD_LINK_OK);
  g_object_set(t.element, "allow-not-linked", TRUE, nullptr);  // pushes after the release
  GstElement *element = t.element;
  std::atomic<bool> released{false};
  s->on_buffer = [element, &released](Sink &sink) {
    if (!released.exchange(true))
      gst_element_release_request_pad(element, sink.tee_pad);
  };
  t.play();
  t.push(0, true);
  fail_unless(s->wait([&] { return released.load(); }));
  gint pads = -1;
  fail_unless(s->wait([&] {
    g_object_get(element, "num-src-pads", &pads, nullptr);
    return pads == 0;
  }));
  t.push(1, true);
  // The task could not join itself: it was paused, and the pad's finalize joins it. Its
  // stream-status messages hold the pad: drop them, as a bus watch would consume them.
  gst_bus_set_flushing(t.bus, TRUE);
  gst_bus_set_flushing(t.bus, FALSE);
  GstPad *tee_pad = s->tee_pad;
  s->tee_pad = nullptr;
  g_object_weak_ref(G_OBJECT(tee_pad), on_finalized, &finalized);
  gst_object_unref(tee_pad);
  std::unique_lock<std::mutex> lk(finalized.first);
  fail_unless(
      finalized.second.first.wait_for(lk, sftest::kWait, [&] { return finalized.second.second; }));
}
GST_END_TEST;

// ---- the hub alone: the accounting equation after every step of a random schedule ----

GST_START_TEST(test_hub_accounting_random) {
  auto hub = std::make_shared<sft::Hub>();
  hub->set_capacity_buffers(4);
  hub->set_max_wait(0);  // one thread plays producer and branches: it must never wait
  std::mt19937 rng(1234);
  bool req = false;
  std::vector<std::shared_ptr<sft::Branch>> branches;
  for (int i = 0; i < 3; ++i) {
    branches.push_back(hub->add_branch(nullptr, &req));
    hub->set_running(branches.back(), true);
  }
  std::vector<bool> in_flight(branches.size(), false);
  for (int step = 0; step < 20000; ++step) {
    const int op = rng() % 10;
    if (op < 4) {
      hub->push_buffer(sftest::make_buffer(step, rng() % 4 == 0));
    } else if (op == 4) {
      hub->push_event(
          gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("x")));
    } else {
      const std::size_t b = rng() % branches.size();
      if (in_flight[b]) {
        hub->complete(branches[b], rng() % 8 ? GST_FLOW_OK : GST_FLOW_FLUSHING);
        in_flight[b] = false;
      } else {
        sft::Delivery d;
        if (hub->try_next(branches[b], &d) && d.item)
          in_flight[b] = true;
        else if (hub->in_flight(branches[b]))
          hub->complete(branches[b], GST_FLOW_OK);  // a keyframe request only
      }
    }
    for (const auto &b : branches) {
      const sft::BranchStats s = hub->stats(b);
      fail_unless(s.offered == s.out + s.dropped + s.held, "step %d", step);
    }
  }
}
GST_END_TEST;

// ---- request/release storm (also the ThreadSanitizer run) ----

GST_START_TEST(test_stress_request_release) {
  Tee t;
  Sink *steady_a = t.add_branch();
  Sink *steady_b = t.add_branch();
  t.play();
  std::atomic<bool> stop{false};
  std::thread pusher([&] {
    guint64 i = 0;
    while (!stop.load()) {
      fail_unless_equals_int(gst_pad_push(t.src, sftest::make_buffer(i, i % 5 == 0)), GST_FLOW_OK);
      if (i % 97 == 0)
        fail_unless(gst_pad_push_event(t.src, gst_event_new_tag(gst_tag_list_new_empty())));
      ++i;
    }
  });
  constexpr int kThreads = 3;
  constexpr int kIterations = 700;
  std::vector<std::thread> workers;
  for (int w = 0; w < kThreads; ++w) {
    workers.emplace_back([&t, w] {
      for (int it = 0; it < kIterations; ++it) {
        Sink sink;
        sink.block = (it + w) % 4 == 1;  // blocked downstream when released
        sink.tee_pad = gst_element_request_pad_simple(t.element, "src_%u");
        fail_unless(sink.tee_pad != nullptr);
        fail_unless_equals_int(gst_pad_link(sink.tee_pad, sink.pad), GST_PAD_LINK_OK);
        if (it % 8 == 0)
          fail_unless(sink.wait([&sink] { return !sink.offsets.empty(); }));
        assert_accounting(sink.tee_pad);
        gst_element_release_request_pad(t.element, sink.tee_pad);
        assert_accounting(sink.tee_pad);
      }
    });
  }
  for (auto &w : workers)
    w.join();
  stop = true;
  pusher.join();
  gint pads = 0;
  g_object_get(t.element, "num-src-pads", &pads, nullptr);
  fail_unless_equals_int(pads, 2);
  // No lost EOS, ordering intact on the branches that stayed.
  fail_unless(gst_pad_push_event(t.src, gst_event_new_eos()));
  for (Sink *s : {steady_a, steady_b}) {
    fail_unless(s->wait([s] { return s->eos == 1; }));
    std::vector<guint64> got = s->received();
    fail_unless(std::is_sorted(got.begin(), got.end()));
    fail_unless(std::adjacent_find(got.begin(), got.end()) == got.end());
    // EOS is pushed after the last buffer's push completed: the counters are final.
    const Stats st = stats_of(s->tee_pad);
    fail_unless_equals_uint64(st.out, got.size());
    fail_unless_equals_uint64(st.offered, st.out + st.dropped);
  }
}
GST_END_TEST;

// ---- a real H.264 stream on three branches, one throttled ----

struct Counter {
  std::atomic<guint64> n{0};
};

static GstPadProbeReturn count_probe(GstPad *, GstPadProbeInfo *, gpointer data) {
  ++static_cast<Counter *>(data)->n;
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_x264_three_branches_one_throttled) {
  for (const char *f : {"x264enc", "avdec_h264", "h264parse", "videotestsrc"}) {
    if (!steady_have_factory(f))
      STEADY_SKIP("element %s not available", f);
  }
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(
      "videotestsrc num-buffers=240 ! video/x-raw,width=320,height=240,framerate=30/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 bframes=0 ! "
      "h264parse config-interval=-1 ! sharedframetee name=t "
      "t.src_0 ! avdec_h264 name=d0 output-corrupt=false ! fakesink sync=false "
      "t.src_1 ! avdec_h264 name=d1 output-corrupt=false ! fakesink sync=false "
      "t.src_2 ! identity sleep-time=100000 ! avdec_h264 name=d2 output-corrupt=false ! "
      "fakesink sync=false",
      &error);
  fail_unless(pipeline != nullptr, "%s", error ? error->message : "");
  Counter in[3], out[3];
  for (int i = 0; i < 3; ++i) {
    g_autofree gchar *name = g_strdup_printf("d%d", i);
    GstElement *dec = gst_bin_get_by_name(GST_BIN(pipeline), name);
    GstPad *sink = gst_element_get_static_pad(dec, "sink");
    GstPad *src = gst_element_get_static_pad(dec, "src");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &in[i], nullptr);
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &out[i], nullptr);
    gst_object_unref(sink);
    gst_object_unref(src);
    gst_object_unref(dec);
  }
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  int errors = 0, warnings = 0;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 120 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING));
    fail_unless(msg != nullptr, "timed out");
    const GstMessageType type = GST_MESSAGE_TYPE(msg);
    if (type == GST_MESSAGE_ERROR)
      ++errors;
    else if (type == GST_MESSAGE_WARNING)
      ++warnings;
    gst_message_unref(msg);
    if (type != GST_MESSAGE_WARNING)
      break;
  }
  fail_unless_equals_int(errors, 0);
  fail_unless_equals_int(warnings, 0);
  GstElement *tee = gst_bin_get_by_name(GST_BIN(pipeline), "t");
  guint64 buffers_in = 0;
  g_object_get(tee, "buffers-in", &buffers_in, nullptr);
  fail_unless_equals_uint64(buffers_in, 240);
  for (int i = 0; i < 3; ++i) {
    g_autofree gchar *name = g_strdup_printf("src_%d", i);
    GstPad *pad = gst_element_get_static_pad(tee, name);
    const Stats st = stats_of(pad);
    gst_object_unref(pad);
    // Every frame handed to the decoder decoded: no branch ever saw a broken GOP.
    fail_unless(in[i].n.load() > 0);
    fail_unless_equals_uint64(in[i].n.load(), out[i].n.load());
    fail_unless_equals_uint64(st.out, in[i].n.load());
    fail_unless_equals_uint64(st.offered, st.out + st.dropped + st.lag);
    fail_unless_equals_uint64(st.lag, 0);
    if (i == 2) {
      // The throttled branch really lagged and resynchronised.
      fail_unless(st.dropped > 0);
      fail_unless(st.resyncs > 0);
    }
  }
  gst_object_unref(tee);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite *sharedframetee_suite() {
  Suite *s = suite_create("sharedframetee");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_order_counts_1);
  tcase_add_test(tc, test_order_counts_2);
  tcase_add_test(tc, test_order_counts_8);
  tcase_add_test(tc, test_lockstep_default_capacity);
  tcase_add_test(tc, test_no_branches_accepts_data);
  tcase_add_test(tc, test_blocked_branch_others_get_all);
  tcase_add_test(tc, test_capacity_time);
  tcase_add_test(tc, test_fatal_flow_on_one_branch);
  tcase_add_test(tc, test_lag_resync_keyframe);
  tcase_add_test(tc, test_lag_resync_latest);
  tcase_add_test(tc, test_lag_resync_waits_for_keyframe);
  tcase_add_test(tc, test_caps_change_in_skipped_stretch);
  tcase_add_test(tc, test_late_join_fast_start);
  tcase_add_test(tc, test_late_join_latest);
  tcase_add_test(tc, test_late_join_waits_for_keyframe);
  tcase_add_test(tc, test_eos_to_all_branches);
  tcase_add_test(tc, test_flush_to_all_branches);
  tcase_add_test(tc, test_stall_eviction_test_clock);
  tcase_add_test(tc, test_stall_eviction_release_in_sync_handler);
  tcase_add_test(tc, test_release_blocked_branch_playing);
  tcase_add_test(tc, test_release_downstream_ignores_flush);
  tcase_add_test(tc, test_stream_status_per_branch);
  tcase_add_test(tc, test_release_from_own_thread);
  tcase_add_test(tc, test_hub_accounting_random);
  tcase_add_test(tc, test_stress_request_release);
  tcase_add_test(tc, test_x264_three_branches_one_throttled);
  return s;
}

GST_CHECK_MAIN(sharedframetee);
