#include "gstboundedqueue-timer.h"

#include <steady-ptr.h>

#include <utility>

namespace boundedqueue {

namespace {

struct Pending {
  steady::ObjectRef<GstElement> element;
  ClockTimer::Callback cb;
  ClockTimer *timer;
};

void free_pending(gpointer data) {
  delete static_cast<Pending *>(data);
}

}  // namespace

bool ClockTimer::arm(GstElement *element, GstClockTime at, Callback cb) {
  auto clock = steady::ObjectRef<GstClock>::adopt(gst_element_get_clock(element));
  if (!clock)
    return false;
  GstClockID id = gst_clock_new_single_shot_id(clock.get(), at);
  GstClockID old = nullptr;
  GstClockReturn ret = GST_CLOCK_UNSCHEDULED;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (enabled_ && cancelling_ == 0) {
      old = std::exchange(id_, gst_clock_id_ref(id));
      // Scheduled under the lock, so a cancel() or stop() after it finds and unschedules it.
      auto *pending = new Pending{steady::ObjectRef<GstElement>::share(element), cb, this};
      ret = gst_clock_id_wait_async(id, fired, pending, free_pending);
    }
  }
  if (old) {
    gst_clock_id_unschedule(old);
    gst_clock_id_unref(old);
  }
  gst_clock_id_unref(id);
  return ret == GST_CLOCK_OK;
}

void ClockTimer::cancel() {
  GstClockID old = nullptr;
  std::unique_lock<std::mutex> lk(mu_);
  ++cancelling_;
  old = std::exchange(id_, nullptr);
  lk.unlock();
  if (old) {
    gst_clock_id_unschedule(old);
    gst_clock_id_unref(old);
  }
  lk.lock();
  // A callback cancelling its own timer (a sync bus handler that stops the pipeline) must
  // not wait for itself.
  idle_cv_.wait(lk,
                [this] { return running_ == 0 || running_thread_ == std::this_thread::get_id(); });
  --cancelling_;
}

void ClockTimer::start() {
  std::lock_guard<std::mutex> lk(mu_);
  enabled_ = true;
}

void ClockTimer::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    enabled_ = false;
  }
  cancel();
}

gboolean ClockTimer::fired(GstClock *clock, GstClockTime time, GstClockID id, gpointer data) {
  auto *pending = static_cast<Pending *>(data);
  ClockTimer *timer = pending->timer;
  GstClockID mine = nullptr;
  {
    std::lock_guard<std::mutex> lk(timer->mu_);
    if (timer->id_ != id || !timer->enabled_ || timer->cancelling_ > 0)
      return TRUE;  // replaced, stopped or cancelled meanwhile
    mine = std::exchange(timer->id_, nullptr);
    ++timer->running_;
    timer->running_thread_ = std::this_thread::get_id();
  }
  gst_clock_id_unref(mine);
  pending->cb(pending->element.get(), gst_clock_get_time(clock));
  std::lock_guard<std::mutex> lk(timer->mu_);
  if (--timer->running_ == 0)
    timer->running_thread_ = std::thread::id();
  timer->idle_cv_.notify_all();
  return TRUE;
}

}  // namespace boundedqueue
