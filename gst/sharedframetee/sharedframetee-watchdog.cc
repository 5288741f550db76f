#include "sharedframetee-watchdog.h"

#include <utility>

namespace sft {

Watchdog::Watchdog(std::shared_ptr<Hub> hub, OnEvict on_evict)
    : hub_(std::move(hub)), on_evict_(std::move(on_evict)) {}

Watchdog::~Watchdog() {
  stop();
}

void Watchdog::start() {
  std::lock_guard<std::mutex> lk(control_);
  if (thread_.joinable())
    return;
  hub_->watchdog_restart();
  thread_ = std::thread([this] { run(); });
}

void Watchdog::stop() {
  std::lock_guard<std::mutex> lk(control_);
  if (!thread_.joinable())
    return;
  hub_->watchdog_poke(true);
  thread_.join();
}

void Watchdog::run() {
  GstClockTime deadline;
  steady::ObjectRef<GstClock> clock;
  std::uint64_t generation;
  while (hub_->watchdog_wait(&deadline, &clock, &generation)) {
    GstClockID id = gst_clock_new_single_shot_id(clock.get(), deadline);
    if (hub_->watchdog_arm(id, generation)) {
      gst_clock_id_wait(id, nullptr);
      hub_->watchdog_disarm();
    }
    gst_clock_id_unref(id);
    std::vector<StalledBranch> stalled = hub_->collect_stalled(gst_clock_get_time(clock.get()));
    for (StalledBranch &s : stalled)
      on_evict_(s);
  }
}

}  // namespace sft
