#include "keyframe-gate.h"

namespace steady_webrtc {

void KeyframeGate::forward(std::int64_t now_ms) {
  last_forwarded_ms_ = now_ms;
  forwarded_once_ = true;
  ++forwarded_;
}

bool KeyframeGate::request(std::int64_t now_ms) {
  ++requests_;
  if (pending_) {
    ++coalesced_;  // joins the pending request
    return false;
  }
  if (!forwarded_once_ || now_ms - last_forwarded_ms_ >= min_interval_ms_) {
    forward(now_ms);
    return true;
  }
  pending_ = true;  // counted when it is forwarded or satisfied
  return false;
}

void KeyframeGate::keyframe_seen(std::int64_t) {
  if (pending_) {
    pending_ = false;
    ++coalesced_;
  }
}

bool KeyframeGate::poll(std::int64_t now_ms) {
  if (!pending_ || now_ms - last_forwarded_ms_ < min_interval_ms_)
    return false;
  pending_ = false;
  forward(now_ms);
  return true;
}

}  // namespace steady_webrtc
