// Keyframe requests (PLI/FIR from any peer, arriving as upstream force-key-unit events) on
// their way to the one encoder every peer shares: coalesced and rate-limited, so one peer
// asking every 10 ms cannot turn everyone's stream into keyframes. Plain C++, no GStreamer;
// times are milliseconds of any monotonic clock.
//
// A request is forwarded at once when the last forwarded one is at least min_interval old.
// Otherwise it becomes the one pending request (later ones join it), due min_interval after
// the last forwarded one; a keyframe the encoder makes on its own meanwhile satisfies it.
#pragma once

#include <cstdint>

namespace steady_webrtc {

class KeyframeGate {
 public:
  explicit KeyframeGate(std::int64_t min_interval_ms) : min_interval_ms_(min_interval_ms) {}

  // A peer asks for a keyframe; true: ask the encoder now.
  bool request(std::int64_t now_ms);
  // The encoder produced a keyframe (asked for or not): a pending request is satisfied.
  void keyframe_seen(std::int64_t now_ms);
  // Called periodically; true: the pending request is due, ask the encoder now.
  bool poll(std::int64_t now_ms);

  std::uint64_t requests() const { return requests_; }
  std::uint64_t forwarded() const { return forwarded_; }
  // Requests that never reached the encoder on their own: they joined a pending one, or were
  // the pending one and a keyframe satisfied them. Each request counts once:
  // requests == forwarded + coalesced + (pending ? 1 : 0).
  std::uint64_t coalesced() const { return coalesced_; }
  bool pending() const { return pending_; }

 private:
  void forward(std::int64_t now_ms);

  std::int64_t min_interval_ms_;
  std::int64_t last_forwarded_ms_ = 0;
  bool forwarded_once_ = false;
  bool pending_ = false;
  std::uint64_t requests_ = 0;
  std::uint64_t forwarded_ = 0;
  std::uint64_t coalesced_ = 0;
};

}  // namespace steady_webrtc
