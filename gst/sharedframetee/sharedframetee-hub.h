// The hub: the shared ring plus one cursor per branch, and the lag/resync and leader-gating
// policy, in plain C++ so tests drive it without a pipeline.
//
// Lock discipline: one std::mutex (mutex_) guards everything here: the ring, every Branch's
// fields, the watchdog state. It is a leaf lock: no GStreamer call that can call back into
// the element (pushes, events, messages) is made while holding it. Under it only leaf locks of
// others are taken: the clock's (gst_clock_get_time, gst_clock_id_unschedule) and, when a
// ring item is released (on purpose under it, see evict_oldest_locked), a buffer pool's. The
// upstream thread waits in push_buffer()/drain() on producer_cv_, branch tasks in next() on
// their cv_ (woken and sent away by flush_start(), set_flushing(), set_running(false),
// remove_branch(), eviction: a task's stream lock is never waited for while a loop sits
// there), the watchdog in watchdog_wait() on watchdog_cv_; all with mutex_ released. Order
// with the src pads' stream locks: a branch task holds its pad's stream lock whenever it
// takes mutex_; mutex_ is never held while a stream lock is taken.
//
// Gating: when the ring is over capacity, its oldest buffer leaves only once every *gating*
// branch has taken it; until then the producer waits. Gating branches are those taking
// buffers (linked, running, neither removed nor evicted) that are not left behind. The leader
// (furthest ahead) is waited for at most max-wait (kWaitForever: unbounded; 0: never wait for
// anyone, the oldest buffer is evicted at once, as a live producer needs). A branch behind the
// leader that has held the producer up for follower-wait in total since it last caught up
// (found nothing to read) is left behind: it lags and resyncs as in v1, and gates again once
// it has caught up. So a branch that keeps up loses nothing whatever the producer's pace, a
// slow or stalled branch delays the others by follower-wait at most each time it catches up,
// and a non-live pipeline runs at the pace of the branches that keep up. With no eligible
// branch the ring rolls.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
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
  bool eos_returned_ = false;  // its last push returned GST_FLOW_EOS (until a flush)
  bool behind_ = false;        // left behind: does not gate the producer until it catches up
  // How long it has held the producer up since it last caught up (found nothing to read).
  std::chrono::steady_clock::duration held_up_{0};
  std::uint64_t blocking_wait_ = 0;  // the producer wait it was holding up (see push_buffer)
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
  static constexpr std::int64_t kWaitForever = -1;

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
  // How long (ms) the producer waits for the leader when the ring is full; kWaitForever or
  // 0 (never: evict the oldest buffer at once).
  void set_max_wait(std::int64_t ms);
  std::int64_t max_wait() const;
  // How long (ms) the producer waits for a branch behind the leader before leaving it behind.
  void set_follower_wait(std::int64_t ms);
  std::int64_t follower_wait() const;
  // When false, a push_buffer() with no linked branch returns GST_FLOW_NOT_LINKED.
  void set_allow_not_linked(bool allow);
  bool allow_not_linked() const;
  // Stall timing runs only while playing: a push blocked in PAUSED (a prerolling sink) is no
  // stall. Entering PLAYING restarts the timing of the pushes in flight.
  void set_playing(bool playing);

  // Upstream side.
  // Takes the reference. Waits for the leader when the ring is full (see above). Returns
  // what upstream should see, as tee aggregates it: FLUSHING while flushing, NOT_LINKED when
  // no branch is linked (unless allowed), EOS once every linked branch returned EOS, else OK.
  GstFlowReturn push_buffer(GstBuffer *buffer);
  void push_event(GstEvent *event);  // serialized events; takes the reference
  // DRAIN: waits (like push_buffer) until the leader has taken every buffer in the ring, then
  // drops them all (what a lagging branch had not read counts as dropped for it). False when
  // interrupted by a flush.
  bool drain();
  void flush_start();  // empties the ring; branches stop taking items; wakes the producer
  void set_flushing(bool flushing);  // sink pad (de)activation: wakes and refuses the producer
  void flush_stop_begin();           // empties the ring again, forgets the segment
  void flush_stop_end();             // branches take items again
  void reset();                      // back to an empty stream (PAUSED->READY)

  std::uint64_t buffers_in() const;
  std::uint64_t buffers_held() const;
  std::uint64_t bytes_held() const;
  std::uint64_t peak_bytes_held() const;
  std::uint64_t keyframe_requests() const;
  // Times the producer waited for the leader (a diagnostic, and a sync point for tests).
  std::uint64_t producer_waits() const;
  // Blocks until the producer is waiting for the leader or timeout passes; true when it is.
  bool wait_producer_blocked(std::chrono::milliseconds timeout);

  // Branch side. add_branch() starts the branch like a late joiner (sticky events, then
  // the newest keyframe or the newest buffer); *request_keyframe tells the caller to ask
  // upstream for one.
  std::shared_ptr<Branch> add_branch(GstObject *owner, bool *request_keyframe);
  void remove_branch(const std::shared_ptr<Branch> &branch);
  void set_linked(const std::shared_ptr<Branch> &branch, bool linked);
  // Returns false when the branch was removed or evicted.
  bool set_running(const std::shared_ptr<Branch> &branch, bool running);
  // Blocks until there is something to push (true) or the branch must stop: not running,
  // removed, evicted, or the hub is flushing (false; its task then pauses). The references
  // of the previous delivery in *delivery are dropped first, under the mutex.
  bool next(const std::shared_ptr<Branch> &branch, Delivery *delivery);
  // Like next() but never blocks: false when there is nothing to push right now.
  bool try_next(const std::shared_ptr<Branch> &branch, Delivery *delivery);
  // Reports how the push of the last delivery ended. Returns true the first time a fatal
  // flow return is seen for this branch (the caller posts the error once).
  bool complete(const std::shared_ptr<Branch> &branch, GstFlowReturn ret);
  // complete(), then drops the references of *delivery under the mutex (the task's loop).
  bool complete(const std::shared_ptr<Branch> &branch, GstFlowReturn ret, Delivery *delivery);
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
  bool over_capacity_locked() const;
  bool leader_took_oldest_locked() const;
  bool all_took_oldest_locked() const;
  void leave_behind_locked(std::uint64_t wait, std::chrono::steady_clock::duration waited);
  bool eligible(const Branch &b) const { return active(b) && b.linked_ && b.running_; }
  // Waits (ms < 0: unbounded) until done() or flushing; true when done() holds and not
  // flushing, false on flushing or when ms passed.
  bool wait_for_leader_locked(Lock &lk, const std::function<bool()> &done, std::int64_t ms);
  GstFlowReturn flow_locked() const;
  void wake_producer_locked();
  void enforce_capacity_locked();
  void evict_oldest_buffer_locked();
  void evict_oldest_locked();
  using Waiters = std::vector<std::shared_ptr<Branch>>;
  void collect_waiters_locked(Waiters *waiters);
  static void notify(const Waiters &waiters);
  void drop_ring_locked();
  bool want_keyframe_locked();
  void resync_locked(Branch &b, Delivery *d);
  void start_push_locked(Branch &b, Delivery *d);
  bool prepare_locked(Branch &b, Delivery *d);
  bool complete_locked(Branch &b, GstFlowReturn ret);
  bool next_locked(Branch &b, Lock &lk, Delivery *delivery);

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
  bool playing_ = false;
  bool allow_not_linked_ = false;
  std::int64_t max_wait_ms_ = kWaitForever;
  std::int64_t follower_wait_ms_ = 1000;
  bool producer_waiting_ = false;  // the producer waits in push_buffer()/drain()
  int upstream_waiters_ = 0;       // threads waiting on producer_cv_
  std::uint64_t producer_waits_ = 0;
  std::condition_variable producer_cv_;
  std::condition_variable producer_blocked_cv_;  // wait_producer_blocked()

  GstClockTime stall_timeout_ = 0;
  steady::ObjectRef<GstClock> clock_;
  std::condition_variable watchdog_cv_;
  bool watchdog_idle_ = false;
  bool watchdog_stop_ = false;
  std::uint64_t watchdog_generation_ = 0;
  GstClockID watchdog_id_ = nullptr;
};

}  // namespace sft
