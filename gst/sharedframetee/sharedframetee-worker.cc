#include "sharedframetee-worker.h"

#include <gst/video/video.h>

#include <utility>

GST_DEBUG_CATEGORY_STATIC(sft_worker_debug);
#define GST_CAT_DEFAULT sft_worker_debug

namespace sft {

Worker::Worker(std::shared_ptr<Hub> hub, std::shared_ptr<Branch> branch, GstPad *srcpad,
               GstPad *sinkpad)
    : hub_(std::move(hub)), branch_(std::move(branch)), srcpad_(srcpad), sinkpad_(sinkpad) {
  static std::once_flag once;
  std::call_once(once, [] {
    GST_DEBUG_CATEGORY_INIT(sft_worker_debug, "sharedframetee-worker", 0,
                            "sharedframetee branch streaming threads");
  });
}

Worker::~Worker() {
  stop(StopMode::kDeactivate);
}

void Worker::start() {
  std::lock_guard<std::mutex> lk(control_);
  if (thread_.joinable())
    return;
  if (exit_) {
    std::lock_guard<std::mutex> elk(exit_->mutex);
    if (!exit_->exited) {
      GST_WARNING_OBJECT(srcpad_,
                         "not restarting: the previous streaming thread is still "
                         "blocked downstream");
      return;
    }
  }
  if (!hub_->set_running(branch_, true))
    return;
  exit_ = std::make_shared<Exit>();
  thread_ = std::thread(run, hub_, branch_, steady::ObjectRef<GstPad>::share(srcpad_),
                        steady::ObjectRef<GstPad>::share(sinkpad_), exit_);
}

bool Worker::stop(StopMode mode) {
  std::lock_guard<std::mutex> lk(control_);
  hub_->set_running(branch_, false);
  if (!thread_.joinable())
    return true;
  std::thread thread = std::move(thread_);
  if (thread.get_id() == std::this_thread::get_id()) {
    // Called from inside downstream on this branch's own thread: it exits when it returns.
    thread.detach();
    return false;
  }
  steady::ObjectRef<GstPad> peer;
  if (mode == StopMode::kUnblock && hub_->in_flight(branch_)) {
    peer = steady::ObjectRef<GstPad>::adopt(gst_pad_get_peer(srcpad_));
    if (peer) {
      GST_DEBUG_OBJECT(srcpad_, "branch blocked downstream: flushing %" GST_PTR_FORMAT, peer.get());
      gst_pad_send_event(peer.get(), gst_event_new_flush_start());
    }
  }
  bool exited;
  {
    std::unique_lock<std::mutex> elk(exit_->mutex);
    exited = exit_->cv.wait_for(elk, kStopWait, [this] { return exit_->exited; });
  }
  if (!exited) {
    GST_WARNING_OBJECT(srcpad_,
                       "downstream did not return within %lld ms even after a flush; leaving "
                       "its streaming thread behind (it exits when downstream returns)",
                       static_cast<long long>(kStopWait.count()));
    thread.detach();
    return false;
  }
  thread.join();
  if (peer)
    gst_pad_send_event(peer.get(), gst_event_new_flush_stop(FALSE));
  return true;
}

void Worker::run(std::shared_ptr<Hub> hub, std::shared_ptr<Branch> branch,
                 steady::ObjectRef<GstPad> srcpad, steady::ObjectRef<GstPad> sinkpad,
                 std::shared_ptr<Exit> exit) {
  {
    Delivery d;
    while (hub->next(branch, &d)) {
      if (d.request_keyframe) {
        GST_DEBUG_OBJECT(srcpad.get(), "asking upstream for a keyframe");
        gst_pad_push_event(sinkpad.get(), gst_video_event_new_upstream_force_key_unit(
                                              GST_CLOCK_TIME_NONE, TRUE, 0));
      }
      for (auto &event : d.sticky)
        gst_pad_push_event(srcpad.get(), event.release());
      d.sticky.clear();
      GstFlowReturn ret = GST_FLOW_OK;
      if (d.item) {
        if (d.is_buffer)
          ret = gst_pad_push(srcpad.get(), GST_BUFFER_CAST(d.item.release()));
        else
          gst_pad_push_event(srcpad.get(), GST_EVENT_CAST(d.item.release()));
      }
      if (hub->complete(branch, ret)) {
        steady::ObjectRef<GstElement> parent =
            steady::ObjectRef<GstElement>::adopt(gst_pad_get_parent_element(srcpad.get()));
        if (parent) {
          GST_ELEMENT_ERROR(parent.get(), STREAM, FAILED, ("Internal data stream error."),
                            ("branch %s: streaming stopped, reason %s", GST_PAD_NAME(srcpad.get()),
                             gst_flow_get_name(ret)));
        }
      }
    }
  }
  // Drop every reference before saying so: whoever waits may finalize the pad next.
  srcpad.reset();
  sinkpad.reset();
  std::lock_guard<std::mutex> lk(exit->mutex);
  exit->exited = true;
  exit->cv.notify_all();
}

}  // namespace sft
