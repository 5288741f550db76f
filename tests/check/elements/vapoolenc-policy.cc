// Unit tests of vapoolenc's slot policy (gst/vapoolenc/vapoolenc-policy.h) without a pipeline:
// a fake SlotHost records what the policy asks of the bin, a private SessionPool holds the
// sessions (plain `identity` elements stand in for encoders), and a stand-in system drives the
// selection. Candidate order and fallback, fixed devices, failover and its accounting, failover
// before EOS, parking decisions, caps changes and interrupted waits.
#include "steady-check.h"

#include <gst/gst.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "vapoolenc-fixture.h"
#include "vapoolenc-policy.h"

namespace {

class FakeHost : public SlotHost {
 public:
  std::set<std::string> fail_open, refuse_caps;
  std::vector<std::string> log;
  std::map<GstElement *, std::string> factory_of;
  GstElement *linked = nullptr;
  std::mutex lock;
  std::condition_variable cv;
  int waiting = 0;

  Created open(const Candidate &c, const SessionKey &key, const Settings &) override {
    add("open " + c.factory);
    Created out;
    if (fail_open.count(c.factory)) {
      out.error = c.factory + " failed to open";
      return out;
    }
    out.element = GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make("identity", nullptr)));
    gst_element_set_state(out.element, GST_STATE_READY);
    std::lock_guard<std::mutex> guard(lock);
    factory_of[out.element] = key.factory;
    return out;
  }
  void link(GstElement *e) override {
    linked = e;
    add("link " + name(e));
  }
  void unlink(GstElement *e) override {
    linked = nullptr;
    add("unlink " + name(e));
  }
  bool give_caps() override {
    const bool ok = refuse_caps.count(name(linked)) == 0;
    add(std::string("caps ") + (ok ? "taken" : "refused"));
    return ok;
  }
  bool force_keyframe() override {
    add("keyframe");
    return true;
  }
  void reset_for_parking(GstElement *e, bool hardware) override {
    add("reset " + name(e) + (hardware ? " hw" : " sw"));
    gst_element_set_state(e, GST_STATE_PAUSED);
  }
  void stop(GstElement *e) override {
    add("stop " + name(e));
    gst_element_set_state(e, GST_STATE_NULL);
  }
  std::string refusal_reason(const Candidate &) override { return ""; }
  void post_waiting(const std::string &factory, const std::string &) override {
    add("waiting " + factory);
    std::lock_guard<std::mutex> guard(lock);
    waiting++;
    cv.notify_all();
  }
  void post_error(const std::string &summary, const std::string &detail, bool busy) override {
    add("error " + summary + ": " + detail + (busy ? " (busy)" : ""));
  }
  void post_failover(const std::string &from, const std::string &to, const std::string &reason,
                     uint64_t lost) override {
    add("failover " + from + "->" + to + " (" + reason + ") lost " + std::to_string(lost));
  }
  void encoder_changed() override { add("encoder changed"); }

  std::string name(GstElement *e) {
    std::lock_guard<std::mutex> guard(lock);
    return e ? factory_of[e] : "none";
  }
  void add(const std::string &what) {
    std::lock_guard<std::mutex> guard(lock);
    log.push_back(what);
  }
  // The log so far, one line per call, and forgets it.
  std::string take() {
    std::lock_guard<std::mutex> guard(lock);
    std::string out;
    for (const auto &l : log)
      out += l + "\n";
    log.clear();
    return out;
  }
};

// hwA, hwB (hardware factories vapoolenc does not know: they serve any device) and swenc.
struct Rig {
  FakeSystem system;
  FakeHost host;
  SessionPool pool;
  SlotPolicy policy{host, pool};
  SlotConfig config;

  explicit Rig(Device device = Device::kAuto, const std::string &hw = "hwA,hwB") {
    system.factories = {"hwA", "hwB", "swenc"};
    config.selection.device = device;
    config.selection.hardware_factories = hw;
    config.selection.software_factory = "swenc";
    config.selection.probe = ProbeMode::kEntrypoints;
    std::string error;
    fail_unless(policy.configure(config, system, &error), "%s", error.c_str());
  }
  ~Rig() {
    policy.dispose();
    pool.shutdown();
  }
};

const char *kCapsA = "I420 160x120 30/1 progressive";
const char *kCapsB = "I420 176x144 30/1 progressive";

}  // namespace

GST_START_TEST(test_policy_order_and_fallback) {
  Rig rig;
  rig.host.refuse_caps = {"hwA"};
  rig.host.fail_open = {"hwB"};
  fail_unless(rig.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  EXPECT_STR(rig.host.take(),
             "open hwA\nlink hwA\ncaps refused\nunlink hwA\nstop hwA\n"  // refused: destroyed
             "open hwB\n"                                                // failed to open
             "open swenc\nlink swenc\ncaps taken\nkeyframe\nencoder changed\n");
  EXPECT_STR(rig.policy.status().encoder, "swenc");
  fail_unless(rig.policy.serves(kCapsA));
  PoolStats st = rig.pool.stats();
  fail_unless_equals_uint64(st.fallbacks, 1);
  fail_unless_equals_uint64(st.created, 2);  // hwA (refused, destroyed) and swenc
  fail_unless_equals_int(st.active, 1);
}
GST_END_TEST;

// A fixed device tries its own candidates only and never falls back: the first refusal ends it
// with an error naming the encoder and the caps.
GST_START_TEST(test_policy_fixed_device_error) {
  Rig rig(Device::kVa);
  rig.host.refuse_caps = {"hwA"};
  fail_unless(rig.policy.start(kCapsA) == SlotPolicy::Start::kFailed);
  EXPECT_STR(rig.host.take(),
             "open hwA\nlink hwA\ncaps refused\nunlink hwA\nstop hwA\n"
             "error no encoder accepted the input: device=va: hwA refused input caps " +
                 std::string(kCapsA) + "\n");
  fail_unless(!rig.policy.has_session());
  fail_unless_equals_uint64(rig.pool.stats().fallbacks, 0);
}
GST_END_TEST;

// The hardware fails after taking 5 frames of which 3 came out: failover at the next frame,
// 2 frames lost, and in == out + lost + held at every step.
GST_START_TEST(test_policy_failover_accounting) {
  Rig rig;
  fail_unless(rig.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  GstElement *hw = rig.host.linked;
  rig.host.take();
  for (int i = 0; i < 5; i++)
    fail_unless_equals_int(rig.policy.frame_in(), GST_FLOW_OK);
  fail_unless(rig.policy.count_output(3));
  fail_unless(rig.policy.on_child_error(GST_OBJECT(hw), "boom"));
  SlotStatus s = rig.policy.status();
  fail_unless_equals_uint64(s.frames_in, 5);
  fail_unless_equals_uint64(s.frames_held, 2);
  // The next frame finds the failure pending: failover first, then the frame goes to swenc.
  fail_unless_equals_int(rig.policy.frame_in(), GST_FLOW_OK);
  EXPECT_STR(rig.host.take(),
             "unlink hwA\nopen swenc\nlink swenc\nkeyframe\n"
             "failover hwA->swenc (boom) lost 2\nencoder changed\n");
  fail_unless(rig.policy.count_output(1));
  s = rig.policy.status();
  EXPECT_STR(s.encoder, "swenc");
  fail_unless_equals_int(s.failovers, 1);
  fail_unless_equals_uint64(s.frames_in, 6);
  fail_unless_equals_uint64(s.frames_out, 4);
  fail_unless_equals_uint64(s.frames_lost, 2);
  fail_unless_equals_uint64(s.frames_held, 0);
  // The failed session was destroyed, not parked.
  fail_unless(rig.pool.wait_for([](const PoolStats &p) { return p.destroyed == 1; },
                                std::chrono::seconds(10)));
  fail_unless_equals_int(rig.pool.stats().parked, 0);
  // An error from an element that is not the current encoder is not ours to handle.
  GstElement *other = gst_element_factory_make("identity", nullptr);
  gst_object_ref_sink(other);
  fail_unless(!rig.policy.on_child_error(GST_OBJECT(other), "not ours"));
  gst_object_unref(other);
  // Software has no failover: a flow error stays an error.
  fail_unless_equals_int(rig.policy.frame_done(GST_FLOW_ERROR), GST_FLOW_ERROR);
}
GST_END_TEST;

// An error reported only as a message, then EOS: the failover happens before EOS goes on.
GST_START_TEST(test_policy_failover_before_eos) {
  Rig rig;
  fail_unless(rig.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  GstElement *hw = rig.host.linked;
  for (int i = 0; i < 3; i++)
    rig.policy.frame_in();
  fail_unless(rig.policy.count_output(2));
  fail_unless(rig.policy.on_child_error(GST_OBJECT(hw), "late"));
  rig.host.take();
  fail_unless(rig.policy.eos());
  EXPECT_STR(rig.host.take(),
             "unlink hwA\nopen swenc\nlink swenc\nkeyframe\n"
             "failover hwA->swenc (late) lost 1\nencoder changed\n");
  SlotStatus s = rig.policy.status();
  fail_unless_equals_uint64(s.frames_in, s.frames_out + s.frames_lost + s.frames_held);
  fail_unless_equals_uint64(s.frames_lost, 1);
  // A fixed device has no failover: the error is not swallowed and EOS goes on.
  Rig fixed(Device::kVa);
  fail_unless(fixed.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  fail_unless(!fixed.policy.on_child_error(GST_OBJECT(fixed.host.linked), "late"));
  fail_unless(fixed.policy.eos());
  fail_unless_equals_int(fixed.policy.status().failovers, 0);
}
GST_END_TEST;

// Parking: a drained session is reset and parked; a new input format parks the current one
// and takes another; a session that failed is destroyed at release.
GST_START_TEST(test_policy_parking_and_caps_change) {
  Rig rig;
  fail_unless(rig.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  rig.policy.frame_in();
  rig.policy.count_output(1);
  rig.host.take();
  fail_unless(rig.policy.start(kCapsB) == SlotPolicy::Start::kOk);
  EXPECT_STR(rig.host.take(),
             "unlink hwA\nreset hwA hw\n"  // parked
             "open hwA\nlink hwA\ncaps taken\nkeyframe\nencoder changed\n");
  fail_unless_equals_int(rig.pool.stats().parked, 1);
  fail_unless(rig.policy.serves(kCapsB));
  rig.policy.eos();
  rig.policy.release();
  EXPECT_STR(rig.host.take(), "unlink hwA\nreset hwA hw\n");
  fail_unless_equals_int(rig.pool.stats().parked, 2);
  fail_unless(!rig.policy.count_output(1), "no encoder: nothing to count");
  // Same caps again: the parked session is reused.
  fail_unless(rig.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  fail_unless(rig.policy.status().reused);
  // It fails and the bin stops before the next frame: destroyed, not parked.
  fail_unless(rig.policy.on_child_error(GST_OBJECT(rig.host.linked), "boom"));
  rig.host.take();
  rig.policy.release();
  EXPECT_STR(rig.host.take(), "unlink hwA\nstop hwA\n");
  fail_unless_equals_int(rig.pool.stats().parked, 1);
}
GST_END_TEST;

// A wait at max-sessions ends when the policy is interrupted: no error, no fallback.
GST_START_TEST(test_policy_interrupted_wait) {
  Rig holder(Device::kVa, "hwA");
  Rig rig(Device::kVa, "hwA");
  // Both use the holder's pool: one session of hwA at most, held by the holder.
  SlotPolicy waiter(rig.host, holder.pool);
  SlotConfig config = rig.config;
  config.acquire.max_sessions = 1;
  config.acquire.acquire_timeout = std::chrono::seconds(600);
  std::string error;
  fail_unless(waiter.configure(config, rig.system, &error));
  fail_unless(holder.policy.start(kCapsA) == SlotPolicy::Start::kOk);
  SlotPolicy::Start result = SlotPolicy::Start::kOk;
  std::thread t([&] { result = waiter.start(kCapsA); });
  {
    std::unique_lock<std::mutex> lk(rig.host.lock);
    fail_unless(
        rig.host.cv.wait_for(lk, std::chrono::seconds(30), [&] { return rig.host.waiting == 1; }));
  }
  waiter.interrupt();
  t.join();
  fail_unless(result == SlotPolicy::Start::kInterrupted);
  EXPECT_STR(rig.host.take(), "waiting hwA\n");  // no error, nothing opened
  fail_unless_equals_uint64(holder.pool.stats().interrupted, 1);
  // Once resumed, an interrupted policy acquires again (here: still at the limit, so it would
  // wait; a released session ends that wait).
  waiter.resume();
  holder.policy.eos();
  holder.policy.release();
  fail_unless(waiter.start(kCapsA) == SlotPolicy::Start::kOk);
  fail_unless(waiter.status().reused);
  waiter.dispose();
}
GST_END_TEST;

static Suite *vapoolenc_policy_suite() {
  Suite *s = suite_create("vapoolenc-policy");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_policy_order_and_fallback);
  tcase_add_test(tc, test_policy_fixed_device_error);
  tcase_add_test(tc, test_policy_failover_accounting);
  tcase_add_test(tc, test_policy_failover_before_eos);
  tcase_add_test(tc, test_policy_parking_and_caps_change);
  tcase_add_test(tc, test_policy_interrupted_wait);
  return s;
}

GST_CHECK_MAIN(vapoolenc_policy);
