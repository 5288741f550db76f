// The process-wide pool of encoder sessions.
//
// A session is one encoder element with its hardware context. While a vapoolenc uses it, the
// session is *live*; when that vapoolenc's user session ends, the session is *parked*: the
// element stays in PAUSED outside any pipeline (flushed, keeping its context and its display
// lease) until a vapoolenc with the same key takes it again, or it expires (idle-timeout on the
// pool clock), or is evicted (max-idle, or room needed under max-sessions). Expired and
// evicted sessions are set to NULL on the pool thread; the state change is awaited with a
// timeout and a failure is logged (CLEANUP_FAILED) and counted.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vapoolenc {

struct SessionKey {
  std::string factory;
  std::string node;      // render node, "" when none
  std::string caps;      // caps_key() of the input caps
  std::string settings;  // Settings::key()

  // Sessions of one (factory, render node) share max-sessions and max-idle.
  std::string group() const { return factory + "@" + (node.empty() ? "-" : node); }
  std::string str() const;
  bool operator==(const SessionKey &o) const {
    return factory == o.factory && node == o.node && caps == o.caps && settings == o.settings;
  }
};

// The part of input caps a session depends on: format, size, framerate, interlacing.
std::string caps_key(const GstCaps *caps);

class Session {
 public:
  Session(uint64_t id, SessionKey key, GstElement *element, std::shared_ptr<void> keep);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  GstElement *element() const { return element_; }
  const SessionKey &key() const { return key_; }
  uint64_t id() const { return id_; }
  unsigned uses() const { return uses_; }
  // Whether the current use came from the pool (the session served an earlier user).
  bool reused() const { return uses_ > 1; }

 private:
  friend class SessionPool;
  uint64_t id_;
  SessionKey key_;
  GstElement *element_;         // owned reference
  std::shared_ptr<void> keep_;  // e.g. the render node's display lease
  unsigned uses_ = 1;
  std::chrono::steady_clock::time_point created_, acquired_;
  GstClockTime parked_at_ = GST_CLOCK_TIME_NONE;
  GstClockTime idle_timeout_ = GST_CLOCK_TIME_NONE;
};
using SessionPtr = std::unique_ptr<Session>;

struct PoolStats {
  uint64_t created = 0, reused = 0, destroyed = 0, cleanup_failures = 0, limit_waits = 0,
           fallbacks = 0;
  // Acquires that gave up waiting at max-sessions because their caller was interrupted (a
  // flush or a state change of the bin).
  uint64_t interrupted = 0;
  unsigned parked = 0, active = 0;
  double reuse_rate() const {
    return created + reused ? static_cast<double>(reused) / static_cast<double>(created + reused)
                            : 0.0;
  }
};

struct AcquireLimits {
  unsigned max_sessions = 0;  // live + parked (+ dying) per group; 0 = unlimited
  std::chrono::milliseconds acquire_timeout{0};
};

struct ParkLimits {
  unsigned max_idle = 2;                        // parked sessions per group
  GstClockTime idle_timeout = 30 * GST_SECOND;  // on the pool clock
};

// What a Creator returns: a new element (owned reference, opened: READY) or an error.
struct Created {
  GstElement *element = nullptr;
  std::shared_ptr<void> keep;
  std::string error;
};

class SessionPool {
 public:
  using Creator = std::function<Created(const SessionKey &)>;
  // kInterrupted: `interrupted` became true while waiting at max-sessions (or while creating:
  // the new session was destroyed instead of returned).
  enum class Outcome { kNew, kReused, kLimit, kFailed, kInterrupted };
  struct Acquired {
    SessionPtr session;
    Outcome outcome = Outcome::kFailed;
    std::string error;
    bool waited = false;  // had to wait at max-sessions
  };

  SessionPool();
  ~SessionPool();
  SessionPool(const SessionPool &) = delete;
  SessionPool &operator=(const SessionPool &) = delete;

  // The pool every vapoolenc of the process shares. Never destroyed; drained by shutdown().
  static SessionPool &global();

  // A parked session with this key, else a new one from `create`. At max-sessions, evicts a
  // parked session of the group with another key, else waits up to acquire_timeout.
  // `on_wait` (optional) is called, without the pool lock, when the acquire starts waiting.
  // `interrupted` (optional) ends the wait at once when it becomes true and wake_waiters() is
  // called: the acquire returns kInterrupted. It is read under the pool lock, so setting it
  // and then calling wake_waiters() cannot be missed.
  Acquired acquire(const SessionKey &key, const AcquireLimits &limits, const Creator &create,
                   const std::function<void(const std::string &)> &on_wait = nullptr,
                   const std::atomic<bool> *interrupted = nullptr);
  // Wakes every acquire waiting at max-sessions to look at its `interrupted` flag again.
  void wake_waiters();
  // Parks a session its user is done with (caller has flushed it and left it in PAUSED
  // outside any pipeline), or destroys it when max-idle is 0.
  void release(SessionPtr session, const ParkLimits &limits);
  // Destroys a session that must not be reused (it failed).
  void discard(SessionPtr session, const std::string &reason);
  // Destroys every parked session now and waits (up to timeout) for it. Returns how many.
  unsigned drain(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // drain(), then stops the pool thread and drops the clock. The pool restarts on next use.
  void shutdown();

  // The clock idle-timeout is measured on (default: the system clock). nullptr: default.
  void set_clock(GstClock *clock);
  GstClock *get_clock();  // new reference
  // How long destroying a session may take before it counts as a cleanup failure.
  void set_cleanup_timeout(GstClockTime timeout);

  void count_fallback();
  PoolStats stats();
  // Sessions of every factory on render node `node`: live, parked or being destroyed.
  unsigned sessions_on_node(const std::string &node);
  // Waits until pred(stats) holds (stats change notifications, no polling).
  bool wait_for(const std::function<bool(const PoolStats &)> &pred,
                std::chrono::milliseconds timeout);

 private:
  struct Job {
    SessionPtr session;
    std::string reason;
  };
  unsigned parked_in_locked(const std::string &group);
  unsigned total_in_locked(const std::string &group);
  void enqueue_destroy_locked(SessionPtr session, std::string reason);
  bool evict_oldest_locked(const std::string &group, const char *reason);
  void ensure_thread_locked();
  void wake_locked();
  GstClock *clock_locked();
  PoolStats stats_locked();
  void run();
  void destroy_now(Job &job);

  std::mutex lock_;
  std::condition_variable changed_;  // acquirers and stats waiters
  std::condition_variable thread_cv_;
  std::list<SessionPtr> parked_;  // oldest first
  std::deque<Job> queue_;
  std::vector<SessionPtr> zombies_;  // failed to reach NULL: kept, never unreffed in PAUSED
  std::map<std::string, unsigned> live_, dying_;
  uint64_t enqueued_ = 0, completed_ = 0, next_id_ = 1, wake_gen_ = 0;
  PoolStats stats_;
  GstClock *clock_ = nullptr;
  GstClockID wait_id_ = nullptr;
  GstClockTime cleanup_timeout_ = 5 * GST_SECOND;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vapoolenc
