// When a boundedqueue is full, what goes: the drop policy (leaky mode, bounds) and the GOP
// bookkeeping that keeps delta units whose reference was dropped from ever leaving.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <vector>

#include "boundedqueue-store.h"

namespace boundedqueue {

enum class Leaky : int { kNo = 0, kUpstream = 1, kDownstream = 2 };

struct Bounds {
  std::uint64_t buffers = 2;
  std::uint64_t bytes = 0;
  GstClockTime time = 0;
  bool unbounded() const { return buffers == 0 && bytes == 0 && time == 0; }
};

enum class Admit { kEnqueued, kDropped, kWait };

class DropPolicy {
 public:
  // Minimum spacing of keyframe requests while the previous one has not been answered.
  static constexpr std::int64_t kKeyframeRequestIntervalUs = 1000 * 1000;

  const Bounds &bounds() const { return bounds_; }
  void set_bounds(const Bounds &b) { bounds_ = b; }
  Leaky leaky() const { return leaky_; }
  void set_leaky(Leaky l) { leaky_ = l; }
  bool gop_aware() const { return gop_aware_; }
  void set_gop_aware(bool g) { gop_aware_ = g; }

  // No room for one more buffer: some bound is reached.
  bool full(const Store &s) const {
    return (bounds_.buffers && s.buffers() >= bounds_.buffers) ||
           (bounds_.bytes && s.bytes() >= bounds_.bytes) ||
           (bounds_.time && s.time() >= bounds_.time);
  }
  // More than allowed is held (possible only right after the bounds shrank).
  bool over(const Store &s) const {
    return (bounds_.buffers && s.buffers() > bounds_.buffers) ||
           (bounds_.bytes && s.bytes() > bounds_.bytes) ||
           (bounds_.time && s.time() > bounds_.time);
  }

  // Decides the fate of an incoming buffer. kEnqueued: it is now held. kDropped: it (and
  // possibly held buffers) went to `dropped`. kWait (leaky=no only): the caller waits for
  // room and asks again; nothing changed. Held buffers dropped to make room go to `dropped`.
  Admit admit(Store &s, Item &incoming, std::vector<Item> &dropped);
  // After the bounds shrank: applies the leaky mode until nothing is over a bound.
  void shrink(Store &s, std::vector<Item> &dropped);
  // flush-on-eos: every held buffer goes (events stay).
  void drop_all_buffers(Store &s, std::vector<Item> &dropped);
  // A new stream (flush, restart): nothing is broken, nothing pending.
  void reset();

  // True once per GOP-breaking drop when a keyframe request may go upstream now.
  bool take_keyframe_request(std::int64_t now_us);
  bool awaiting_keyframe() const { return awaiting_keyframe_; }
  bool keyframe_wanted() const { return want_keyframe_; }

 private:
  void drop_oldest(Store &s, std::vector<Item> &dropped);
  void drop_newest(Store &s, std::vector<Item> &dropped);
  void gap_at_tail();

  Bounds bounds_;
  Leaky leaky_ = Leaky::kDownstream;
  bool gop_aware_ = true;

  bool awaiting_keyframe_ = false;  // a buffer was dropped; deltas until a keyframe are broken
  bool incoming_discont_ = false;   // the next admitted buffer starts after a gap
  bool want_keyframe_ = false;      // a delta unit lost its reference
  bool request_outstanding_ = false;
  std::int64_t last_request_us_ = 0;
};

}  // namespace boundedqueue
