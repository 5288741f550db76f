// A one-shot timer on an element's clock (GstClock async wait), so whatever clock the
// pipeline uses (a GstTestClock in tests) decides when it fires.
#pragma once

#include <gst/gst.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace boundedqueue {

class ClockTimer {
 public:
  // Called on the clock's thread with the clock time at which it fired.
  using Callback = void (*)(GstElement *element, GstClockTime now);

  ClockTimer() = default;
  ClockTimer(const ClockTimer &) = delete;
  ClockTimer &operator=(const ClockTimer &) = delete;
  ~ClockTimer() { stop(); }

  // Arms the timer for clock time `at` on the element's current clock, replacing a pending
  // one. False (nothing armed) when the element has no clock, the timer is stopped, or a
  // cancel() is in progress (a callback cannot re-arm past a cancel).
  bool arm(GstElement *element, GstClockTime at, Callback cb);
  // Cancels a pending timer and waits for a callback already running to return (unless
  // called from that callback): once it returns, no callback runs and nothing is armed.
  void cancel();
  // start() allows arming; stop() refuses it from now on, then cancels as cancel() does.
  // A new timer is stopped.
  void start();
  void stop();

 private:
  static gboolean fired(GstClock *clock, GstClockTime time, GstClockID id, gpointer data);

  std::mutex mu_;
  std::condition_variable idle_cv_;  // running_ dropped to 0
  GstClockID id_ = nullptr;
  bool enabled_ = false;
  int cancelling_ = 0;
  int running_ = 0;
  std::thread::id running_thread_;
};

}  // namespace boundedqueue
