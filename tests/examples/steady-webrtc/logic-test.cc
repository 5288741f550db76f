// Unit tests of steady-webrtc's plain C++ parts: the keyframe gate's coalescing and counting,
// and the painted timestamp's round trip (including what a receiver must refuse).
#include <gst/check/gstcheck.h>

#include <cstdint>
#include <vector>

#include "keyframe-gate.h"
#include "stamp.h"

using steady_webrtc::KeyframeGate;
using steady_webrtc::Stamp;

namespace {

void check_accounting(const KeyframeGate &gate) {
  fail_unless_equals_uint64(gate.requests(),
                            gate.forwarded() + gate.coalesced() + (gate.pending() ? 1 : 0));
}

}  // namespace

GST_START_TEST(test_gate_first_request_goes_at_once) {
  KeyframeGate gate(500);
  fail_unless(gate.request(1000));
  fail_unless_equals_uint64(gate.forwarded(), 1);
  fail_if(gate.pending());
  check_accounting(gate);
}
GST_END_TEST;

GST_START_TEST(test_gate_storm_is_coalesced) {
  // A request every 10 ms for 2 s: the encoder is asked at 0, then once per 500 ms.
  KeyframeGate gate(500);
  std::vector<std::int64_t> asked;
  for (std::int64_t t = 0; t < 2000; t += 10) {
    if (gate.request(t))
      asked.push_back(t);
    if (gate.poll(t))
      asked.push_back(t);
    check_accounting(gate);
  }
  const std::vector<std::int64_t> expected = {0, 500, 1000, 1500};
  fail_unless(asked == expected, "asked %zu times", asked.size());
  fail_unless_equals_uint64(gate.requests(), 200);
  fail_unless_equals_uint64(gate.forwarded(), 4);
  fail_unless(gate.pending());
  fail_unless_equals_uint64(gate.coalesced(), 195);
}
GST_END_TEST;

GST_START_TEST(test_gate_keyframe_satisfies_pending) {
  KeyframeGate gate(500);
  fail_unless(gate.request(0));
  fail_if(gate.request(100));  // pending, due at 500
  fail_unless(gate.pending());
  gate.keyframe_seen(200);  // the encoder's own keyframe answers it
  fail_if(gate.pending());
  fail_if(gate.poll(600));  // nothing left to send
  fail_unless_equals_uint64(gate.forwarded(), 1);
  fail_unless_equals_uint64(gate.coalesced(), 1);
  check_accounting(gate);
  fail_unless(gate.request(600));  // the interval is over: at once again
  check_accounting(gate);
}
GST_END_TEST;

GST_START_TEST(test_gate_zero_interval_passes_all) {
  KeyframeGate gate(0);
  for (int i = 0; i < 10; ++i)
    fail_unless(gate.request(5));
  fail_unless_equals_uint64(gate.forwarded(), 10);
  check_accounting(gate);
}
GST_END_TEST;

GST_START_TEST(test_stamp_round_trip) {
  for (int width : {320, 640, 1280}) {
    const int height = width * 9 / 16, stride = width + 16;
    std::vector<std::uint8_t> luma(static_cast<std::size_t>(stride) * height, 90);
    std::vector<std::uint8_t> u(static_cast<std::size_t>(stride / 2) * height / 2, 0);
    std::vector<std::uint8_t> v(u.size(), 255);
    Stamp stamp;
    stamp.ms = 0xdeadbeefu;
    stamp.frame = 0x1234;
    steady_webrtc::paint_stamp(stamp, luma.data(), stride, width, height, u.data(), v.data(),
                               stride / 2);
    auto read = steady_webrtc::read_stamp(luma.data(), stride, width, height);
    fail_unless(read.has_value(), "width %d", width);
    fail_unless_equals_int(read->ms, 0xdeadbeefu);
    fail_unless_equals_int(read->frame, 0x1234);
    fail_unless_equals_int(u[0], 128);  // the blocks are grey levels: neutral chroma
    fail_unless_equals_int(v[0], 128);
    // A block flipped (a half-decoded or corrupt picture) fails the check half.
    const int side = steady_webrtc::stamp_block(width);
    for (int y = 0; y < side; ++y)
      for (int x = 31 * side; x < 32 * side; ++x)
        luma[static_cast<std::size_t>(y) * stride + x] ^= 0xff;
    fail_if(steady_webrtc::read_stamp(luma.data(), stride, width, height).has_value());
  }
}
GST_END_TEST;

GST_START_TEST(test_stamp_too_small_is_refused) {
  std::vector<std::uint8_t> luma(32 * 8, 0);
  fail_if(steady_webrtc::read_stamp(luma.data(), 32, 32, 8).has_value());  // 1-pixel blocks
}
GST_END_TEST;

GST_START_TEST(test_stamp_ms_diff_wraps) {
  fail_unless_equals_int(steady_webrtc::stamp_ms_diff(5u, 0xfffffffbu), 10);
  fail_unless_equals_int(steady_webrtc::stamp_ms_diff(0xfffffffbu, 5u), -10);
}
GST_END_TEST;

static Suite *steady_webrtc_logic_suite() {
  Suite *s = suite_create("steady-webrtc-logic");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_gate_first_request_goes_at_once);
  tcase_add_test(tc, test_gate_storm_is_coalesced);
  tcase_add_test(tc, test_gate_keyframe_satisfies_pending);
  tcase_add_test(tc, test_gate_zero_interval_passes_all);
  tcase_add_test(tc, test_stamp_round_trip);
  tcase_add_test(tc, test_stamp_too_small_is_refused);
  tcase_add_test(tc, test_stamp_ms_diff_wraps);
  return s;
}

GST_CHECK_MAIN(steady_webrtc_logic);
