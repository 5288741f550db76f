#include "boundedqueue-stall.h"

namespace boundedqueue {

GstClockTime StallDetector::on_full(GstClockTime now) {
  if (!enabled() || !GST_CLOCK_TIME_IS_VALID(now))
    return GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID(full_since_)) {
    full_since_ = now;
    posted_ = false;
  }
  if (timer_pending_ || posted_)
    return GST_CLOCK_TIME_NONE;
  timer_pending_ = true;
  return full_since_ + timeout_;
}

StallDetector::Fired StallDetector::on_timer(GstClockTime now) {
  Fired f;
  timer_pending_ = false;
  if (!enabled() || !GST_CLOCK_TIME_IS_VALID(full_since_) || posted_)
    return f;
  if (now >= full_since_ + timeout_) {
    f.post = true;
    f.stalled_for = now - full_since_;
    posted_ = true;
  } else {
    timer_pending_ = true;
    f.rearm_at = full_since_ + timeout_;
  }
  return f;
}

}  // namespace boundedqueue
