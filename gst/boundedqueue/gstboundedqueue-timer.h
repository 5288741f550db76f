// A one-shot timer on an element's clock (GstClock async wait), so whatever clock the
// pipeline uses (a GstTestClock in tests) decides when it fires.
#pragma once

#include <gst/gst.h>

#include <mutex>

namespace boundedqueue {

class ClockTimer {
 public:
  // Called on the clock's thread with the clock time at which it fired.
  using Callback = void (*)(GstElement *element, GstClockTime now);

  ClockTimer() = default;
  ClockTimer(const ClockTimer &) = delete;
  ClockTimer &operator=(const ClockTimer &) = delete;
  ~ClockTimer() { cancel(); }

  // Arms the timer for clock time `at` on the element's current clock, replacing a pending
  // one. False (nothing armed) when the element has no clock.
  bool arm(GstElement *element, GstClockTime at, Callback cb);
  // Cancels a pending timer; its callback will not run.
  void cancel();

 private:
  static gboolean fired(GstClock *clock, GstClockTime time, GstClockID id, gpointer data);

  std::mutex mu_;
  GstClockID id_ = nullptr;
};

}  // namespace boundedqueue
