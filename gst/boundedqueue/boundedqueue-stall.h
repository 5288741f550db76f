// Stall detection: "the queue filled up and the consumer has taken nothing since, for
// stall-timeout" (drops that lower the level do not end it). Pure logic on
// clock times handed in by the element, so a GstTestClock drives it in tests.
#pragma once

#include <gst/gst.h>

namespace boundedqueue {

class StallDetector {
 public:
  struct Fired {
    bool post = false;                            // post boundedqueue-stalled now
    GstClockTime stalled_for = 0;                 // how long it has been full
    GstClockTime rearm_at = GST_CLOCK_TIME_NONE;  // arm a new timer for this time
  };

  GstClockTime timeout() const { return timeout_; }
  void set_timeout(GstClockTime t) { timeout_ = t; }
  bool enabled() const { return timeout_ != 0; }
  bool timer_pending() const { return timer_pending_; }

  // The queue became full at `now`. Returns when to arm a timer, or NONE when a timer is
  // already pending (it re-checks when it fires) or detection is off.
  GstClockTime on_full(GstClockTime now);
  // The consumer took something: the current stall (if any) is over.
  void on_not_full() { full_since_ = GST_CLOCK_TIME_NONE; }
  // The pending timer fired at `now`.
  Fired on_timer(GstClockTime now);
  // A timer could not be armed or was cancelled.
  void timer_cancelled() { timer_pending_ = false; }
  void reset() {
    full_since_ = GST_CLOCK_TIME_NONE;
    posted_ = false;
  }

 private:
  GstClockTime timeout_ = 0;
  GstClockTime full_since_ = GST_CLOCK_TIME_NONE;
  bool timer_pending_ = false;
  bool posted_ = false;  // posted for the current stall already
};

}  // namespace boundedqueue
