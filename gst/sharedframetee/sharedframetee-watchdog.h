// Stall watchdog: one thread per element that waits on the element clock (so a GstTestClock
// drives it) until the earliest moment a branch could have been stuck in one push for
// stall-timeout, then evicts the branches that are.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "sharedframetee-hub.h"

namespace sft {

class Watchdog {
 public:
  // Called on the watchdog thread, without any lock held, for each evicted branch.
  using OnEvict = std::function<void(StalledBranch &)>;

  Watchdog(std::shared_ptr<Hub> hub, OnEvict on_evict);
  ~Watchdog();
  Watchdog(const Watchdog &) = delete;
  Watchdog &operator=(const Watchdog &) = delete;

  void start();
  void stop();

 private:
  void run();

  std::shared_ptr<Hub> hub_;
  OnEvict on_evict_;
  std::mutex control_;
  std::thread thread_;
};

}  // namespace sft
