// The streaming thread of one branch: a GstTask on the branch's src pad (so it runs under the
// pad's stream lock and posts stream-status messages like any pad task) whose loop takes one
// delivery from the hub and pushes it.
//
// Lifetime: started when the pad is activated, paused around a flush (FLUSH_START returns
// only once the push in flight has), stopped and joined on deactivation, release and
// eviction. Stopping from another thread first flushes the peer when a push is in flight, so
// a blocked downstream returns; a downstream that ignores FLUSH_START blocks the join, as it
// would with queue or tee (such an element is broken). Stopping from the branch's own
// streaming thread (a probe or sink that releases its own pad) cannot join itself: the task
// is only paused there and is joined when the pad is finalized.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "sharedframetee-hub.h"

namespace sft {

class Worker {
 public:
  enum class StopMode {
    kDeactivate,  // pad deactivation: downstream is going down already
    kUnblock,     // release or eviction: flush the peer so a blocked push returns
  };

  // srcpad and sinkpad are not owned: the worker lives inside srcpad, which outlives its
  // task (the pad's finalize stops it first), and sinkpad belongs to the element.
  Worker(std::shared_ptr<Hub> hub, std::shared_ptr<Branch> branch, GstPad *srcpad, GstPad *sinkpad);
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  // Pad activation: starts the task (no-op when the branch was removed or evicted).
  void start();
  // Deactivation, release, eviction: stops the task and joins it (see above). Safe from any
  // thread, including the branch's own streaming thread (then it only pauses the task).
  void stop(StopMode mode);
  // FLUSH_START, after the hub is flushing and FLUSH_START went downstream: waits for the
  // push in flight (it returns FLUSHING) and leaves the task paused.
  void flush_pause();
  // FLUSH_STOP, after it went downstream: restarts the task if the pad is still active.
  void flush_resume();

 private:
  static void loop(gpointer user_data);
  bool on_own_thread() const;

  std::shared_ptr<Hub> hub_;
  std::shared_ptr<Branch> branch_;
  GstPad *srcpad_;
  GstPad *sinkpad_;
  // Set (release) at the end of the constructor, read (acquire) by every loop iteration: the
  // task pool hands the task to a pool thread through GStreamer's own (for ThreadSanitizer
  // invisible) synchronisation, this orders the fields above before their use there.
  std::atomic<bool> constructed_{false};
  std::mutex control_;   // guards active_; never held while waiting for the stream lock
  bool active_ = false;  // between start() and stop()
};

}  // namespace sft
