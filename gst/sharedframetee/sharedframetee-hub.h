// The hub: the shared ring plus one cursor per branch, and the lag/resync policy. All
// methods are thread-safe (one std::mutex). The upstream side never blocks here except for
// that mutex; branch threads block in next() until they have something to push.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sharedframetee-ring.h"
#include "steady-ptr.h"

namespace sft {

enum class ResyncMode { kKeyframe, kLatest };

// Counters of one branch, read atomically. At every moment:
//   offered == out + dropped + held
struct BranchStats {
  std::uint64_t offered = 0;         // buffers that entered the ring at or after the branch's start
  std::uint64_t out = 0;             // buffers pushed downstream with GST_FLOW_OK
  std::uint64_t dropped = 0;         // skipped on lag, evicted, refused downstream, flushed
  std::uint64_t held = 0;            // buffers still to deliver (ring + the one being pushed)
  std::uint64_t resyncs = 0;         // times the branch skipped ahead after lagging
  std::uint64_t events_skipped = 0;  // non-sticky serialized events skipped on lag
  bool evicted = false;
};

// One branch: a cursor into the ring and its counters. Fields are guarded by the hub mutex.
class Branch {
 public:
  explicit Branch(GstObject *owner) : owner_(owner) {}

 private:
  friend class Hub;
  GstObject *owner_;  // the src pad (not owned; cleared on removal)
  Seq cursor_ = 0;
  bool linked_ = true;
  bool running_ = false;
  bool removed_ = false;
  bool evicted_ = false;
  bool lagging_ = false;
  bool waiting_keyframe_ = false;
  bool need_sticky_ = false;
  bool in_flight_ = false;
  bool in_flight_buffer_ = false;
  bool waiting_ = false;
  bool error_reported_ = false;
  GstClockTime push_started_ = GST_CLOCK_TIME_NONE;
  BranchStats stats_;
  std::condition_variable cv_;
};

// What a branch thread pushes next: first the sticky events (when resuming), then the item.
struct Delivery {
  std::vector<steady::MiniRef<GstEvent>> sticky;
  steady::MiniRef<GstMiniObject> item;
  bool is_buffer = false;
  bool request_keyframe = false;  // ask upstream for a keyframe (already rate-limited)
};

struct StalledBranch {
  steady::ObjectRef<GstObject> owner;
  GstClockTime stalled_for = 0;
  std::uint64_t buffers_dropped = 0;
};

class Hub {
 public:
  static constexpr std::uint64_t kMaxEventsHeld = 256;

  Hub() = default;
  Hub(const Hub &) = delete;
  Hub &operator=(const Hub &) = delete;

  // Configuration (any time).
  void set_capacity_buffers(std::uint64_t n);
  std::uint64_t capacity_buffers() const;
  void set_capacity_time(GstClockTime t);
  GstClockTime capacity_time() const;
  void set_resync_mode(ResyncMode mode);
  ResyncMode resync_mode() const;
  void set_request_keyframe(bool enable);
  bool request_keyframe() const;
  void set_keyframe_request_interval(std::chrono::milliseconds interval);
  void set_stall_timeout(GstClockTime timeout);
  GstClockTime stall_timeout() const;
  void set_clock(GstClock *clock);

  // Upstream side.
  void push_buffer(GstBuffer *buffer);  // takes the reference
  void push_event(GstEvent *event);     // serialized events; takes the reference
  void flush_start();                   // empties the ring; branches stop taking items
  void flush_stop_begin();              // empties the ring again, forgets the segment
  void flush_stop_end();                // branches take items again
  void reset();                         // back to an empty stream (PAUSED->READY)

  std::uint64_t buffers_in() const;
  std::uint64_t buffers_held() const;
  std::uint64_t bytes_held() const;
  std::uint64_t peak_bytes_held() const;
  std::uint64_t keyframe_requests() const;

  // Branch side. add_branch() starts the branch like a late joiner (sticky events, then
  // the newest keyframe or the newest buffer); *request_keyframe tells the caller to ask
  // upstream for one.
  std::shared_ptr<Branch> add_branch(GstObject *owner, bool *request_keyframe);
  void remove_branch(const std::shared_ptr<Branch> &branch);
  void set_linked(const std::shared_ptr<Branch> &branch, bool linked);
  // Returns false when the branch was removed or evicted.
  bool set_running(const std::shared_ptr<Branch> &branch, bool running);
  // Blocks until there is something to push (true) or the branch must stop (false).
  bool next(const std::shared_ptr<Branch> &branch, Delivery *delivery);
  // Like next() but never blocks: false when there is nothing to push right now.
  bool try_next(const std::shared_ptr<Branch> &branch, Delivery *delivery);
  // Reports how the push of the last delivery ended. Returns true the first time a fatal
  // flow return is seen for this branch (the caller posts the error once).
  bool complete(const std::shared_ptr<Branch> &branch, GstFlowReturn ret);
  bool in_flight(const std::shared_ptr<Branch> &branch) const;
  BranchStats stats(const std::shared_ptr<Branch> &branch) const;
  std::size_t num_branches() const;

  // Stall watchdog (see sharedframetee-watchdog.h).
  // Blocks until a deadline exists; false when the watchdog must stop.
  bool watchdog_wait(GstClockTime *deadline, steady::ObjectRef<GstClock> *clock,
                     std::uint64_t *generation);
  // Publishes the clock id being waited on, unless something changed since generation.
  bool watchdog_arm(GstClockID id, std::uint64_t generation);
  void watchdog_disarm();
  // Wakes the watchdog so it recomputes its deadline (or stops when stop is true).
  void watchdog_poke(bool stop = false);
  void watchdog_restart();
  // Evicts every branch stalled in a push for stall-timeout or longer at clock time now.
  std::vector<StalledBranch> collect_stalled(GstClockTime now);

 private:
  using Lock = std::unique_lock<std::mutex>;
  bool active(const Branch &b) const { return !b.removed_ && !b.evicted_; }
  std::uint64_t held_locked(const Branch &b) const;
  void enforce_capacity_locked(std::vector<Item> *graveyard);
  void evict_oldest_buffer_locked(std::vector<Item> *graveyard);
  void evict_oldest_locked(std::vector<Item> *graveyard);
  void wake_branches_locked();
  void drop_ring_locked();
  bool want_keyframe_locked();
  void resync_locked(Branch &b, Delivery *d);
  void start_push_locked(Branch &b, Delivery *d);
  bool prepare_locked(Branch &b, Delivery *d);

  mutable std::mutex mutex_;
  Ring ring_;
  std::vector<std::shared_ptr<Branch>> branches_;
  std::uint64_t capacity_buffers_ = 8;
  GstClockTime capacity_time_ = 0;
  ResyncMode resync_ = ResyncMode::kKeyframe;
  bool request_keyframe_ = true;
  std::chrono::milliseconds keyframe_interval_{1000};
  bool keyframe_requested_ever_ = false;
  std::chrono::steady_clock::time_point last_keyframe_request_;
  std::uint64_t keyframe_requests_ = 0;
  bool flushing_ = false;

  GstClockTime stall_timeout_ = 0;
  steady::ObjectRef<GstClock> clock_;
  std::condition_variable watchdog_cv_;
  bool watchdog_idle_ = false;
  bool watchdog_stop_ = false;
  std::uint64_t watchdog_generation_ = 0;
  GstClockID watchdog_id_ = nullptr;
};

}  // namespace sft
