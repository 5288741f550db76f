// Tests for vapoolenc on the streaming thread (issue 12): a wait for a session never holds the
// stream lock against a flush or a state change; probing one device never makes lookups of
// another wait; an encoder error reported only as a message is not lost at EOS; settings
// changed in READY take effect at READY->PAUSED. Hardware is stood in for by `fakehwenc`.
#include "steady-check.h"

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vapoolenc-fixture.h"
#include "vapoolenc-probe.h"

// ---------------------------------------------------------------------------------------------
// probing: per-key, no process-wide lock across a probe

namespace {

// Lets a test hold one probe inside its computation and see who else is waiting.
struct Gate {
  std::mutex lock;
  std::condition_variable cv;
  std::string hold;  // the node whose probes block until `open`
  bool open = false;
  int entered = 0;  // probes of `hold` that started

  void block_if_held(const std::string &node) {
    std::unique_lock<std::mutex> lk(lock);
    if (node != hold)
      return;
    entered++;
    cv.notify_all();
    cv.wait(lk, [&] { return open; });
  }
  void release() {
    std::lock_guard<std::mutex> guard(lock);
    open = true;
    cv.notify_all();
  }
  bool wait_entered(int n) {
    std::unique_lock<std::mutex> lk(lock);
    return cv.wait_for(lk, std::chrono::seconds(30), [&] { return entered >= n; });
  }
};

class GatedBackend : public VaBackend {
 public:
  explicit GatedBackend(Gate *gate) : gate_(gate) {}
  std::vector<std::string> render_nodes() override {
    return {"/dev/dri/renderD128", "/dev/dri/renderD129"};
  }
  NodeInfo query_node(const std::string &path) override {
    gate_->block_if_held(path);
    NodeInfo info;
    info.path = path;
    info.opened = true;
    info.driver = "gated " + path;
    return info;
  }

 private:
  Gate *gate_;
};

// Runs `fn` on a thread and tells whether it returned within 30 s (then joins it either way).
template <typename Fn>
bool returns_while_blocked(Fn fn, Gate *gate) {
  std::mutex lock;
  std::condition_variable cv;
  bool done = false;
  std::thread t([&] {
    fn();
    std::lock_guard<std::mutex> guard(lock);
    done = true;
    cv.notify_all();
  });
  bool returned;
  {
    std::unique_lock<std::mutex> lk(lock);
    returned = cv.wait_for(lk, std::chrono::seconds(30), [&] { return done; });
  }
  gate->release();  // let everything finish, whatever happened
  t.join();
  return returned;
}

}  // namespace

// An encode test blocked on node A (as a slow driver's test pipeline is) leaves lookups of
// node B, already probed, free: they return while A's probe still runs. A second caller for
// A waits for A's answer and does not probe again.
GST_START_TEST(test_probe_other_node_does_not_wait) {
  Gate gate;
  gate.hold = "/dev/dri/renderD128";
  ProbeCache cache(std::make_unique<GatedBackend>(&gate),
                   [&](const std::string &factory, const std::string &node, EncoderKind) {
                     gate.block_if_held(node);
                     EncodeTestResult r;
                     r.ok = true;
                     r.error = factory + " on " + node;  // identifies the answer
                     return r;
                   });
  const std::string a = "/dev/dri/renderD128", b = "/dev/dri/renderD129";
  // B is probed (node query and encode test) and cached first.
  fail_unless(cache.node(b).opened);
  fail_unless(cache.encode_test("vah264enc", b, EncoderKind::kVa).ok);

  std::thread probe_a([&] {
    EncodeTestResult r = cache.encode_test("vah264enc", a, EncoderKind::kVa);
    fail_unless(r.ok);
  });
  std::thread second_a([&] {
    fail_unless(gate.wait_entered(1));
    EncodeTestResult r = cache.encode_test("vah264enc", a, EncoderKind::kVa);
    EXPECT_STR(r.error, "vah264enc on " + a);
  });
  fail_unless(gate.wait_entered(1), "the probe of A did not start");
  const bool b_free = returns_while_blocked(
      [&] {
        EXPECT_STR(cache.encode_test("vah264enc", b, EncoderKind::kVa).error, "vah264enc on " + b);
        fail_unless(cache.node(b).opened);
        // Another factory on B is a new key: it probes without waiting for A either.
        EXPECT_STR(cache.encode_test("vah264lpenc", b, EncoderKind::kVa).error,
                   "vah264lpenc on " + b);
      },
      &gate);
  probe_a.join();
  second_a.join();
  fail_unless(b_free, "lookups on node B waited for the probe of node A");
  ProbeCache::Counts c = cache.counts();
  fail_unless_equals_int(c.encode_tests, 3);  // vah264enc on B and A, vah264lpenc on B
  fail_unless_equals_int(c.node_queries, 1);
  fail_unless_equals_int(gate.entered, 1);  // A's encode test ran once

  // The same for node queries: A's query blocks, B's cached answer does not wait.
  Gate gate2;
  gate2.hold = a;
  ProbeCache nodes(std::make_unique<GatedBackend>(&gate2));
  fail_unless(nodes.node(b).opened);
  std::thread query_a([&] { fail_unless(nodes.node(a).opened); });
  fail_unless(gate2.wait_entered(1));
  const bool node_b_free = returns_while_blocked(
      [&] {
        EXPECT_STR(nodes.node(b).driver, "gated " + b);
        fail_unless_equals_int(nodes.render_nodes().size(), 2);
      },
      &gate2);
  query_a.join();
  fail_unless(node_b_free, "a query of node B waited for the query of node A");
  fail_unless_equals_int(nodes.counts().node_queries, 2);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// a wait at max-sessions ends at a flush or a state change

// The acquire-timeout is far longer than the test: only the flush or the state change can end
// the waits here. What is asserted is why they ended (pool-stats `interrupted`, no error, no
// fallback), never how fast.
static const char *kHeld =
    "device=va hardware-factories=fakehwenc probe=entrypoints max-sessions=1 "
    "acquire-timeout=20000";

static GstElement *waiting_pipeline() {
  GstElement *p = launch(std::string("videotestsrc name=src ! ") + kRaw + " ! vapoolenc name=enc " +
                         kHeld + " ! fakesink name=out");
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_PAUSED), GST_STATE_CHANGE_ASYNC);
  return p;
}

static void expect_waiting(GstElement *p) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
  gchar *what = nullptr;
  if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *e = nullptr;
    gst_message_parse_error(m, &e, &what);
    g_free(what);
    what = g_strdup(e->message);
    g_error_free(e);
  }
  fail_unless(m != nullptr && gst_message_has_name(m, "vapoolenc-waiting"),
              "expected vapoolenc-waiting, got %s", what ? what : "nothing");
  g_free(what);
  gst_message_unref(m);
  gst_object_unref(bus);
}

// Pops (and so discards) every message: call when nothing else is expected from `p`.
static void expect_no_error(GstElement *p) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(m == nullptr, "unexpected error %" GST_PTR_FORMAT, m);
  gst_object_unref(bus);
}

GST_START_TEST(test_flush_and_stop_end_the_wait) {
  GstElement *a = waiting_pipeline();  // holds the one session
  fail_unless_equals_int(gst_element_get_state(a, nullptr, nullptr, 30 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);
  EXPECT_STR(get_str(a, "enc", "encoder"), "fakehwenc");

  // b waits at max-sessions inside its caps event, holding its sink pad's stream lock.
  GstElement *b = waiting_pipeline();
  expect_waiting(b);
  // A flushing seek: the source pushes FLUSH_START, then takes its stream lock, which the
  // waiting thread holds. The seek returns once the wait has ended.
  GstElement *src = child(b, "src");
  fail_unless(gst_element_send_event(
      src, gst_event_new_seek(1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET, 0,
                              GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE)));
  gst_object_unref(src);
  fail_unless_equals_uint64(stat_u64(b, "interrupted"), 1);
  fail_unless_equals_uint64(stat_u64(b, "fallbacks"), 0);
  EXPECT_STR(get_str(b, "enc", "encoder"), "");
  // After the flush the source sends its caps again: b waits again (no error in between), and
  // takes a's session when a's user leaves.
  expect_waiting(b);
  fail_unless_equals_uint64(stat_u64(b, "limit-waits"), 2);
  gst_element_set_state(a, GST_STATE_NULL);
  fail_unless_equals_int(gst_element_get_state(b, nullptr, nullptr, 30 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);
  EXPECT_STR(get_str(b, "enc", "encoder"), "fakehwenc");
  fail_unless(get_prop<gboolean>(b, "enc", "reused"));

  // c waits behind b; stopping c (PAUSED->READY deactivates its sink pad, which waits for the
  // streaming thread) ends the wait instead of waiting for acquire-timeout.
  GstElement *c = waiting_pipeline();
  expect_waiting(c);
  fail_unless_equals_int(gst_element_set_state(c, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_uint64(stat_u64(b, "interrupted"), 2);
  expect_no_error(c);
  EXPECT_STR(get_str(c, "enc", "encoder"), "");
  fail_unless_equals_uint64(stat_u64(b, "fallbacks"), 0);
  fail_unless_equals_uint64(stat_u64(b, "active"), 1);  // b's session only
  fail_unless_equals_int(fake_live(), 1);
  expect_no_error(b);
  for (GstElement *p : {a, b, c}) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// an encoder error is never lost at EOS

// The hardware fails on frame 11 of 11 and says so only with an ERROR message (its chain
// returns OK, as an encoder whose output thread finds the failure): EOS follows at once. The
// bin fails over before it forwards EOS: the failover is posted, the frame is counted lost.
GST_START_TEST(test_failover_before_eos) {
  require("avdec_h264");
  GstElement *hw = fake_hw();
  g_object_set(hw, "fail-after", 10, "fail-async", TRUE, nullptr);
  const int kFrames = 11;
  GstElement *p = launch(h264_pipeline(kFrames, "hardware-factories=fakehwenc probe=entrypoints"));
  Tap tap;
  attach_tap(p, &tap);
  std::vector<GstStructure *> elements;
  std::vector<std::string> warnings;
  EXPECT_STR(run(p, &elements, &warnings), "");
  GstStructure *failover = nullptr;
  for (GstStructure *s : elements)
    if (gst_structure_has_name(s, "vapoolenc-failover"))
      failover = s;
  fail_unless(failover != nullptr, "the error was lost: no vapoolenc-failover before EOS");
  EXPECT_STR(gst_structure_get_string(failover, "from"), "fakehwenc");
  EXPECT_STR(gst_structure_get_string(failover, "to"), "x264enc");
  guint64 lost = 99;
  fail_unless(gst_structure_get_uint64(failover, "frames-lost", &lost));
  fail_unless_equals_uint64(lost, 1);
  for (GstStructure *s : elements)
    gst_structure_free(s);
  fail_unless_equals_int(warnings.size(), 1);
  fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-in"), kFrames);
  fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-out"), kFrames - 1);
  fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-lost"), 1);
  fail_unless_equals_int(get_prop<guint>(p, "enc", "failovers"), 1);
  EXPECT_STR(get_str(p, "enc", "encoder"), "x264enc");
  fail_unless_equals_int(tap.keyframes.size(), kFrames - 1);
  fail_unless_equals_int(tap.decoded, kFrames - 1);
  gst_object_unref(p);

  // A fixed device has no failover: the error reaches the bus before EOS would.
  p = launch(h264_pipeline(kFrames, "device=va hardware-factories=fakehwenc probe=entrypoints"));
  const std::string err = run(p);
  fail_unless(err.find("simulated hardware failure after 10 frames") != std::string::npos, "%s",
              err.c_str());
  gst_object_unref(p);
  gst_object_unref(hw);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// settings changed in READY take effect at READY->PAUSED

static void on_element_added(GstBin *, GstElement *e, gpointer data) {
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(e), "target-bitrate"))
    return;  // not fakehwenc
  guint bitrate = 0, gop = 0;
  g_object_get(e, "target-bitrate", &bitrate, "gop-size", &gop, nullptr);
  *static_cast<std::string *>(data) = std::to_string(bitrate) + "/" + std::to_string(gop);
}

GST_START_TEST(test_settings_changed_in_ready) {
  GstElement *p = launch(h264_pipeline(3, "hardware-factories=fakehwenc bitrate=500"));
  GstElement *enc = child(p, "enc");
  std::string seen;
  g_signal_connect(enc, "element-added", G_CALLBACK(on_element_added), &seen);
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_set(enc, "bitrate", 700, "key-int-max", 15, nullptr);
  EXPECT_STR(run(p), "");
  EXPECT_STR(seen, "700000/15");  // fakehwenc's units: bit/s, frames

  // A changed selection too: device=software set in READY.
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_set(enc, "device", 4 /* software */, nullptr);
  EXPECT_STR(run(p), "");
  EXPECT_STR(get_str(p, "enc", "encoder"), "x264enc");

  // A wrong value set in READY fails READY->PAUSED with the same error as at NULL->READY.
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_set(enc, "codec", "h266", nullptr);
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(m != nullptr);
  GError *e = nullptr;
  gst_message_parse_error(m, &e, nullptr);
  fail_unless(g_error_matches(e, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  fail_unless(g_str_has_prefix(e->message, "unknown codec 'h266'"), "%s", e->message);
  g_error_free(e);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(enc);
  gst_object_unref(p);
}
GST_END_TEST;

static Suite *vapoolenc_stream_suite() {
  Suite *s = suite_create("vapoolenc-stream");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_probe_other_node_does_not_wait);
  tcase_add_test(tc, test_flush_and_stop_end_the_wait);
  tcase_add_test(tc, test_failover_before_eos);
  tcase_add_test(tc, test_settings_changed_in_ready);
  return s;
}

GST_CHECK_MAIN(vapoolenc_stream);
