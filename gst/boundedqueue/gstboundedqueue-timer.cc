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
  {
    std::lock_guard<std::mutex> lk(mu_);
    old = std::exchange(id_, gst_clock_id_ref(id));
  }
  if (old) {
    gst_clock_id_unschedule(old);
    gst_clock_id_unref(old);
  }
  auto *pending = new Pending{steady::ObjectRef<GstElement>::share(element), cb, this};
  GstClockReturn ret = gst_clock_id_wait_async(id, fired, pending, free_pending);
  gst_clock_id_unref(id);
  return ret == GST_CLOCK_OK;
}

void ClockTimer::cancel() {
  GstClockID old = nullptr;
  {
    std::lock_guard<std::mutex> lk(mu_);
    old = std::exchange(id_, nullptr);
  }
  if (old) {
    gst_clock_id_unschedule(old);
    gst_clock_id_unref(old);
  }
}

gboolean ClockTimer::fired(GstClock *clock, GstClockTime time, GstClockID id, gpointer data) {
  auto *pending = static_cast<Pending *>(data);
  GstClockID mine = nullptr;
  {
    std::lock_guard<std::mutex> lk(pending->timer->mu_);
    if (pending->timer->id_ == id)
      mine = std::exchange(pending->timer->id_, nullptr);
  }
  if (!mine)
    return TRUE;  // replaced or cancelled meanwhile
  gst_clock_id_unref(mine);
  pending->cb(pending->element.get(), gst_clock_get_time(clock));
  return TRUE;
}

}  // namespace boundedqueue
