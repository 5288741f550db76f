#include "sharedframetee-worker.h"

#include <gst/video/video.h>

#include <utility>

GST_DEBUG_CATEGORY_STATIC(sft_worker_debug);
#define GST_CAT_DEFAULT sft_worker_debug

namespace sft {

namespace {
// The worker whose loop this thread is running, if any: stop() from inside downstream of its
// own branch must not join itself.
thread_local const Worker *tls_running = nullptr;
}  // namespace

Worker::Worker(std::shared_ptr<Hub> hub, std::shared_ptr<Branch> branch, GstPad *srcpad,
               GstPad *sinkpad)
    : hub_(std::move(hub)), branch_(std::move(branch)), srcpad_(srcpad), sinkpad_(sinkpad) {
  static std::once_flag once;
  std::call_once(once, [] {
    GST_DEBUG_CATEGORY_INIT(sft_worker_debug, "sharedframetee-worker", 0,
                            "sharedframetee branch streaming tasks");
  });
  constructed_.store(true, std::memory_order_release);
}

bool Worker::on_own_thread() const {
  return tls_running == this;
}

void Worker::start() {
  std::lock_guard<std::mutex> lk(control_);
  active_ = true;
  if (!hub_->set_running(branch_, true))
    return;
  if (!gst_pad_start_task(srcpad_, loop, this, nullptr))
    GST_ERROR_OBJECT(srcpad_, "could not start the branch's streaming task");
}

void Worker::stop(StopMode mode) {
  {
    std::lock_guard<std::mutex> lk(control_);
    active_ = false;
  }
  // The loop leaves the hub's wait and pauses itself; a push in flight finishes first.
  hub_->set_running(branch_, false);
  if (on_own_thread()) {
    // Inside downstream on this branch's own thread: the task parks once this iteration
    // returns; the pad's finalize joins it.
    gst_pad_pause_task(srcpad_);
    return;
  }
  steady::ObjectRef<GstPad> peer;
  if (mode == StopMode::kUnblock && hub_->in_flight(branch_)) {
    peer = steady::ObjectRef<GstPad>::adopt(gst_pad_get_peer(srcpad_));
    if (peer) {
      GST_DEBUG_OBJECT(srcpad_, "branch blocked downstream: flushing %" GST_PTR_FORMAT, peer.get());
      gst_pad_send_event(peer.get(), gst_event_new_flush_start());
    }
  }
  // Takes the stream lock (waits for the push in flight), then joins the thread.
  gst_pad_stop_task(srcpad_);
  if (peer)
    gst_pad_send_event(peer.get(), gst_event_new_flush_stop(FALSE));
}

void Worker::flush_pause() {
  // The hub is flushing: the loop's wait returns and it pauses itself; this waits for the
  // stream lock, so for the push in flight, which returns FLUSHING now that the pad is.
  gst_pad_pause_task(srcpad_);
}

void Worker::flush_resume() {
  std::lock_guard<std::mutex> lk(control_);
  if (!active_ || !hub_->set_running(branch_, true))
    return;
  gst_pad_start_task(srcpad_, loop, this, nullptr);
}

void Worker::loop(gpointer user_data) {
  auto *self = static_cast<Worker *>(user_data);
  if (!self->constructed_.load(std::memory_order_acquire))
    return;  // never: the task is started after construction
  Hub &hub = *self->hub_;
  GstPad *srcpad = self->srcpad_;
  Delivery d;
  if (!hub.next(self->branch_, &d)) {
    // Stopped, flushing, removed or evicted: park until restarted (or stopped).
    GST_DEBUG_OBJECT(srcpad, "pausing the branch's task");
    gst_pad_pause_task(srcpad);
    return;
  }
  tls_running = self;
  if (d.request_keyframe) {
    GST_DEBUG_OBJECT(srcpad, "asking upstream for a keyframe");
    gst_pad_push_event(self->sinkpad_,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  // Push new references; the delivery's own are dropped by the hub under its mutex (see
  // Hub::evict_oldest_locked for why).
  for (auto &event : d.sticky)
    gst_pad_push_event(srcpad, gst_event_ref(event.get()));
  GstFlowReturn ret = GST_FLOW_OK;
  if (d.item) {
    if (d.is_buffer)
      ret = gst_pad_push(srcpad, gst_buffer_ref(GST_BUFFER_CAST(d.item.get())));
    else
      gst_pad_push_event(srcpad, gst_event_ref(GST_EVENT_CAST(d.item.get())));
  }
  tls_running = nullptr;
  if (hub.complete(self->branch_, ret, &d)) {
    steady::ObjectRef<GstElement> parent =
        steady::ObjectRef<GstElement>::adopt(gst_pad_get_parent_element(srcpad));
    if (parent) {
      GST_ELEMENT_ERROR(parent.get(), STREAM, FAILED, ("Internal data stream error."),
                        ("branch %s: streaming stopped, reason %s", GST_PAD_NAME(srcpad),
                         gst_flow_get_name(ret)));
    }
  }
}

}  // namespace sft
