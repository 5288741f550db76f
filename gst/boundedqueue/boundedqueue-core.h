// The threaded heart of boundedqueue, free of GObject: one mutex guards the held items, the
// drop policy, the counters and the stream state, so every counter snapshot is consistent
// (in == out + dropped + held at every moment). The sink side (upstream's thread) and the
// source side (the element's task) each take the mutex once per buffer, and each wakes the
// other only when the other is actually waiting.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "boundedqueue-policy.h"
#include "boundedqueue-stall.h"
#include "boundedqueue-store.h"

namespace boundedqueue {

struct Stats {
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t dropped = 0;
  std::uint64_t bytes_dropped = 0;
  std::uint64_t keyframes_requested = 0;
  Levels level;
  std::uint64_t peak_buffers = 0;
  std::uint64_t peak_bytes = 0;
};

// What the element must do after a sink-side call, outside the lock.
struct SinkResult {
  GstFlowReturn flow = GST_FLOW_OK;
  bool request_keyframe = false;
  GstClockTime arm_stall_at = GST_CLOCK_TIME_NONE;
  // max-size-time is the only bound and a buffer without a running time came in: nothing
  // bounds the queue for such a stream. Reported once per start/flush.
  bool warn_untimed = false;
};

struct EventResult {
  bool accepted = true;
  GstFlowReturn srcresult = GST_FLOW_OK;  // why it was refused
  bool restart_task = false;              // a new stream after EOS: the task was restarted
};

// How the element starts and pauses its source task. The core calls these with its lock
// held, so that a look at the stream state and the task's start or pause are one step (as
// queue does under its lock): a RECONFIGURE that restarts the task cannot fall between the
// task's failed push and its pause, nor between a deactivation and the task's stop.
// Neither may call back into the core.
struct TaskControl {
  void (*start)(void *data) = nullptr;
  void (*pause)(void *data) = nullptr;
  void *data = nullptr;
};

// One item taken by the source task, plus a drop burst that ended with it.
struct Popped {
  Item item;
  std::uint64_t burst_buffers = 0;  // > 0: post boundedqueue-dropped (if not silent)
  std::uint64_t burst_bytes = 0;
  std::uint64_t total_dropped = 0;
};

class Core {
 public:
  Core() { dropped_.reserve(64); }
  Core(const Core &) = delete;
  Core &operator=(const Core &) = delete;

  // Set once, before the element's pads are activated.
  void set_task_control(TaskControl tc) { task_ = tc; }

  // ---- configuration (any thread) ----
  Bounds bounds() const;
  // Changes the bounds; a shrink drops at once per the leaky mode. Refuses (returns false,
  // nothing changed) a configuration with every bound off unless `allow_unbounded`.
  bool set_bounds(const Bounds &b, bool allow_unbounded, SinkResult *out);
  Leaky leaky() const;
  void set_leaky(Leaky l);
  bool gop_aware() const;
  void set_gop_aware(bool g);
  bool request_keyframe() const;
  void set_request_keyframe(bool r);
  bool flush_on_eos() const;
  void set_flush_on_eos(bool f);
  GstClockTime stall_timeout() const;
  void set_stall_timeout(GstClockTime t);
  bool stall_enabled() const { return stall_enabled_.load(std::memory_order_relaxed); }

  Stats stats() const;
  // Items held of every kind (buffers, events, queries).
  std::size_t held_items() const;
  void reset_counters();

  // ---- sink side (upstream's streaming thread) ----
  // Takes ownership of buf. `now` is the clock time when stall detection is on.
  SinkResult push_buffer(GstBuffer *buf, GstClockTime now);
  // Serialized events: queued, never dropped. Takes ownership.
  EventResult push_event(GstEvent *event);
  // Serialized queries: queued, answered by the source task; blocks until then.
  bool push_query(GstQuery *query);

  // ---- flushing / activation ----
  // Refuse everything and wake both sides (FLUSH_START, pad deactivation).
  void set_flushing();
  // Empty the store (held buffers count as dropped). Sticky events other than EOS and
  // SEGMENT are kept when `keep_sticky` (FLUSH_STOP: upstream will not send them again).
  void clear(bool keep_sticky);
  // Accept data again (FLUSH_STOP, activation); with `start_task`, start the task in the
  // same step.
  void restart(bool start_task = false);
  // Downstream was relinked (RECONFIGURE): when the task stopped on NOT_LINKED and nothing
  // flushes, clear the result and start the task, in one step. True when it did.
  bool relink();

  // ---- source side (the element's task) ----
  // Waits for an item. False when flushing or the source result is not OK; the task is then
  // paused in the same step.
  bool pop(Popped &out);
  // The source task answered a serialized query.
  void query_answered(bool result);
  // A push downstream failed: remember why, so the sink side returns it upstream, and pause
  // the task in the same step.
  void push_failed(GstFlowReturn ret);
  // The task pushed EOS. True when it stopped (nothing queued behind the EOS): the task is
  // paused and the source result is EOS until a new stream or a flush.
  bool eos_pushed();
  GstFlowReturn srcresult() const;
  bool eos() const;

  // For tests: waits up to `timeout` for the sink side to block on a full queue (leaky=no).
  bool wait_sink_blocked(std::chrono::milliseconds timeout);

  // ---- stall timer (the clock's thread) ----
  // Stalls are timed only while PLAYING: a consumer blocked by a prerolling or paused sink
  // is not stalled. Entering PLAYING at clock time `now` restarts the timing (returns when
  // to arm a timer if the queue is full); leaving it forgets the current stall.
  GstClockTime set_playing(bool playing, GstClockTime now);
  // `dropped` receives buffers-dropped at that moment, for the message.
  StallDetector::Fired stall_timer_fired(GstClockTime now, std::uint64_t *dropped);
  void stall_timer_cancelled();

 private:
  void release_dropped(std::unique_lock<std::mutex> &lk, std::vector<Item> &dropped);
  void count_drops(const std::vector<Item> &dropped);
  void update_full(GstClockTime now, SinkResult *res);
  void maybe_request_keyframe(SinkResult *res);
  // After a pop (mu_ held): updates the full state; true when a waiting sink has room now.
  bool room_after_pop();

  mutable std::mutex mu_;
  std::condition_variable src_cv_;      // source task waits for an item
  std::condition_variable sink_cv_;     // sink waits for room (leaky=no)
  std::condition_variable query_cv_;    // sink waits for a query answer
  std::condition_variable blocked_cv_;  // a sink started waiting (tests observe it)
  bool src_waiting_ = false;
  bool sink_waiting_ = false;

  Store store_;
  DropPolicy policy_;
  StallDetector stall_;
  std::atomic<bool> stall_enabled_{false};
  bool playing_ = false;  // stall timing on
  bool flush_on_eos_ = false;
  bool request_keyframe_ = true;

  // Stream state.
  bool flushing_ = true;
  bool eos_ = false;
  bool full_ = false;
  bool warned_untimed_ = false;
  GstFlowReturn srcresult_ = GST_FLOW_FLUSHING;
  GstSegment segment_;  // last SEGMENT seen on the sink side
  bool have_segment_ = false;
  bool query_done_ = false;
  bool query_in_flight_ = false;
  bool query_result_ = false;

  // Counters.
  std::uint64_t in_ = 0;
  std::uint64_t out_ = 0;
  std::uint64_t dropped_count_ = 0;
  std::uint64_t bytes_dropped_ = 0;
  std::uint64_t keyframes_requested_ = 0;
  std::uint64_t burst_buffers_ = 0;
  std::uint64_t burst_bytes_ = 0;

  // Items dropped by the sink side, released after the lock (capacity reused).
  std::vector<Item> dropped_;

  TaskControl task_;
  void start_task_locked() {
    if (task_.start)
      task_.start(task_.data);
  }
  void pause_task_locked() {
    if (task_.pause)
      task_.pause(task_.data);
  }
};

}  // namespace boundedqueue
