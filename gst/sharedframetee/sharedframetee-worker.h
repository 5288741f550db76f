// The streaming thread of one branch: takes deliveries from the hub and pushes them on the
// branch's src pad. Stopping never waits for downstream forever (see stop()).
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "sharedframetee-hub.h"

namespace sft {

class Worker {
 public:
  // How long stop() waits for the thread to leave downstream before leaving it behind.
  static constexpr std::chrono::milliseconds kStopWait{1000};

  enum class StopMode {
    kDeactivate,  // pad deactivation: downstream is going down already
    kUnblock,     // release or eviction: flush the peer so a blocked push returns
  };

  // srcpad and sinkpad are not owned: the worker lives inside srcpad, and the thread takes
  // its own references while it runs.
  Worker(std::shared_ptr<Hub> hub, std::shared_ptr<Branch> branch, GstPad *srcpad, GstPad *sinkpad);
  ~Worker();
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  // Starts the thread (no-op when running, removed or evicted, or when a thread left behind
  // by an earlier stop() is still inside downstream).
  void start();
  // Stops the thread. With kUnblock, a push stuck downstream is interrupted by sending
  // FLUSH_START to the peer (and FLUSH_STOP once the thread is out). Waits at most
  // kStopWait; if downstream still has not returned, the thread is detached: it keeps its
  // own references to the pad and the buffer it pushes, and exits as soon as downstream
  // returns. Returns true when the thread was joined. Safe from any thread, including the
  // branch's own streaming thread (then it only detaches).
  bool stop(StopMode mode);

 private:
  struct Exit {
    std::mutex mutex;
    std::condition_variable cv;
    bool exited = false;
  };
  static void run(std::shared_ptr<Hub> hub, std::shared_ptr<Branch> branch,
                  steady::ObjectRef<GstPad> srcpad, steady::ObjectRef<GstPad> sinkpad,
                  std::shared_ptr<Exit> exit);

  std::shared_ptr<Hub> hub_;
  std::shared_ptr<Branch> branch_;
  GstPad *srcpad_;
  GstPad *sinkpad_;
  std::mutex control_;  // serialises start() and stop()
  std::thread thread_;
  std::shared_ptr<Exit> exit_;
};

}  // namespace sft
