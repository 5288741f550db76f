#include "vapoolenc-pool.h"

#include <algorithm>
#include <cstdio>

namespace vapoolenc {

GST_DEBUG_CATEGORY_STATIC(pool_debug);
#define GST_CAT_DEFAULT pool_debug

namespace {

void ensure_debug() {
  static std::once_flag once;
  std::call_once(once, [] {
    GST_DEBUG_CATEGORY_INIT(pool_debug, "vapoolenc-pool", 0,
                            "vapoolenc session pool lifecycle (CREATED, ACQUIRED, RELEASED, "
                            "PARKED, DESTROYED, CLEANUP_FAILED)");
  });
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::string SessionKey::str() const {
  return factory + "|" + (node.empty() ? "-" : node) + "|" + caps + "|" + settings;
}

std::string caps_key(const GstCaps *caps) {
  if (!caps || gst_caps_get_size(caps) == 0)
    return "none";
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const char *format = gst_structure_get_string(s, "format");
  const char *interlace = gst_structure_get_string(s, "interlace-mode");
  int w = 0, h = 0, fn = 0, fd = 1;
  gst_structure_get_int(s, "width", &w);
  gst_structure_get_int(s, "height", &h);
  gst_structure_get_fraction(s, "framerate", &fn, &fd);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%s %dx%d %d/%d %s", format ? format : "?", w, h, fn, fd,
                interlace ? interlace : "progressive");
  return buf;
}

Session::Session(uint64_t id, SessionKey key, GstElement *element, std::shared_ptr<void> keep)
    : id_(id),
      key_(std::move(key)),
      element_(element),
      keep_(std::move(keep)),
      created_(std::chrono::steady_clock::now()),
      acquired_(created_) {}

Session::~Session() {
  if (element_)
    gst_object_unref(element_);
  // keep_ (the display lease) goes after the element that used it.
}

SessionPool::SessionPool() {
  ensure_debug();
}

SessionPool::~SessionPool() {
  shutdown();
}

SessionPool &SessionPool::global() {
  // Never destroyed: static destructors run after gst_deinit() and after other threads may
  // still be exiting; shutdown() is what releases everything (see plugin.cc).
  static SessionPool *pool = new SessionPool();
  return *pool;
}

unsigned SessionPool::parked_in_locked(const std::string &group) {
  unsigned n = 0;
  for (const auto &s : parked_)
    n += s->key_.group() == group ? 1 : 0;
  return n;
}

unsigned SessionPool::total_in_locked(const std::string &group) {
  return live_[group] + dying_[group] + parked_in_locked(group);
}

unsigned SessionPool::sessions_on_node(const std::string &node) {
  if (node.empty())
    return 0;
  const std::string suffix = "@" + node;
  auto on_node = [&](const std::string &group) {
    return group.size() > suffix.size() &&
           group.compare(group.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::lock_guard<std::mutex> guard(lock_);
  unsigned n = 0;
  for (const auto &[group, count] : live_)
    n += on_node(group) ? count : 0;
  for (const auto &[group, count] : dying_)
    n += on_node(group) ? count : 0;
  for (const auto &s : parked_)
    n += on_node(s->key().group()) ? 1 : 0;
  return n;
}

GstClock *SessionPool::clock_locked() {
  if (!clock_)
    clock_ = gst_system_clock_obtain();
  return clock_;
}

void SessionPool::ensure_thread_locked() {
  if (thread_.joinable())
    return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void SessionPool::wake_locked() {
  wake_gen_++;
  if (wait_id_)
    gst_clock_id_unschedule(wait_id_);
  thread_cv_.notify_all();
}

void SessionPool::enqueue_destroy_locked(SessionPtr session, std::string reason) {
  dying_[session->key_.group()]++;
  queue_.push_back(Job{std::move(session), std::move(reason)});
  enqueued_++;
  ensure_thread_locked();
  wake_locked();
}

bool SessionPool::evict_oldest_locked(const std::string &group, const char *reason) {
  for (auto it = parked_.begin(); it != parked_.end(); ++it) {
    if ((*it)->key_.group() == group) {
      SessionPtr victim = std::move(*it);
      parked_.erase(it);
      stats_.parked = static_cast<unsigned>(parked_.size());
      enqueue_destroy_locked(std::move(victim), reason);
      return true;
    }
  }
  return false;
}

SessionPool::Acquired SessionPool::acquire(const SessionKey &key, const AcquireLimits &limits,
                                           const Creator &create,
                                           const std::function<void(const std::string &)> &on_wait,
                                           const std::atomic<bool> *interrupted) {
  Acquired result;
  auto is_interrupted = [&] { return interrupted && interrupted->load(); };
  const std::string group = key.group();
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limits.acquire_timeout;
  std::unique_lock<std::mutex> lk(lock_);
  for (;;) {
    // The most recently parked session with this key.
    for (auto it = parked_.rbegin(); it != parked_.rend(); ++it) {
      if ((*it)->key_ == key) {
        SessionPtr s = std::move(*it);
        parked_.erase(std::next(it).base());
        s->uses_++;
        s->acquired_ = std::chrono::steady_clock::now();
        GstClockTime now = gst_clock_get_time(clock_locked());
        GstClockTime idle = now >= s->parked_at_ ? now - s->parked_at_ : 0;
        s->parked_at_ = GST_CLOCK_TIME_NONE;
        live_[group]++;
        stats_.reused++;
        stats_.parked = static_cast<unsigned>(parked_.size());
        stats_.active++;
        GST_INFO("ACQUIRED (reused) key=%s session=#%" G_GUINT64_FORMAT
                 " use=%u idle=%.1f ms waited=%.1f ms",
                 key.str().c_str(), s->id_, s->uses_, static_cast<double>(idle) / GST_MSECOND,
                 ms_since(start));
        wake_locked();  // its expiry timer is gone
        changed_.notify_all();
        result.session = std::move(s);
        result.outcome = Outcome::kReused;
        return result;
      }
    }
    if (limits.max_sessions == 0 || total_in_locked(group) < limits.max_sessions) {
      live_[group]++;
      break;
    }
    if (evict_oldest_locked(group, "evicted: room needed at max-sessions"))
      continue;  // its slot frees once it reached NULL (dying_ counts until then)
    if (is_interrupted()) {
      stats_.interrupted++;
      result.outcome = Outcome::kInterrupted;
      result.error = "interrupted (flushing) while waiting at max-sessions=" +
                     std::to_string(limits.max_sessions) + " for " + group;
      GST_INFO("INTERRUPTED key=%s after %.1f ms: %s", key.str().c_str(), ms_since(start),
               result.error.c_str());
      changed_.notify_all();
      return result;
    }
    if (!result.waited && dying_[group] == 0) {
      result.waited = true;
      stats_.limit_waits++;
      char buf[256];
      std::snprintf(buf, sizeof(buf),
                    "%u session(s) of %s at max-sessions=%u; waiting up to %lld ms",
                    total_in_locked(group), group.c_str(), limits.max_sessions,
                    static_cast<long long>(limits.acquire_timeout.count()));
      GST_INFO("WAITING key=%s: %s", key.str().c_str(), buf);
      if (on_wait) {
        lk.unlock();
        on_wait(buf);
        lk.lock();
        continue;  // look again: things may have changed meanwhile
      }
    }
    if (changed_.wait_until(lk, deadline) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      // One last look: a release may have raced the timeout.
      bool room = total_in_locked(group) < limits.max_sessions;
      bool same = std::any_of(parked_.begin(), parked_.end(),
                              [&](const SessionPtr &s) { return s->key_ == key; });
      if (!room && !same) {
        result.outcome = Outcome::kLimit;
        char buf[256];
        std::snprintf(buf, sizeof(buf),
                      "max-sessions=%u reached for %s: all %u sessions in use, none released "
                      "within acquire-timeout=%lld ms",
                      limits.max_sessions, group.c_str(), total_in_locked(group),
                      static_cast<long long>(limits.acquire_timeout.count()));
        result.error = buf;
        GST_INFO("LIMIT key=%s: %s", key.str().c_str(), buf);
        return result;
      }
    }
  }
  stats_.active++;
  uint64_t id = next_id_++;
  lk.unlock();

  const auto t0 = std::chrono::steady_clock::now();
  Created created = create(key);
  const double create_ms = ms_since(t0);

  lk.lock();
  if (!created.element) {
    live_[group]--;
    stats_.active--;
    changed_.notify_all();
    result.outcome = Outcome::kFailed;
    result.error = created.error;
    GST_INFO("CREATE_FAILED key=%s after %.1f ms: %s", key.str().c_str(), create_ms,
             created.error.c_str());
    return result;
  }
  stats_.created++;
  result.session = std::make_unique<Session>(id, key, created.element, std::move(created.keep));
  if (is_interrupted()) {
    // The caller stopped while the encoder opened: it would only be torn down again.
    live_[group]--;
    stats_.active--;
    stats_.interrupted++;
    result.outcome = Outcome::kInterrupted;
    result.error = "interrupted (flushing) while opening " + key.factory;
    GST_INFO("CREATED key=%s session=#%" G_GUINT64_FORMAT " in %.1f ms, INTERRUPTED: destroyed",
             key.str().c_str(), id, create_ms);
    enqueue_destroy_locked(std::move(result.session), "interrupted while opening");
    changed_.notify_all();
    return result;
  }
  result.outcome = Outcome::kNew;
  GST_INFO("CREATED key=%s session=#%" G_GUINT64_FORMAT " in %.1f ms", key.str().c_str(), id,
           create_ms);
  GST_INFO("ACQUIRED (new) key=%s session=#%" G_GUINT64_FORMAT " waited=%.1f ms", key.str().c_str(),
           id, std::chrono::duration<double, std::milli>(t0 - start).count());
  changed_.notify_all();
  return result;
}

void SessionPool::release(SessionPtr s, const ParkLimits &limits) {
  if (!s)
    return;
  std::lock_guard<std::mutex> guard(lock_);
  const std::string group = s->key_.group();
  live_[group]--;
  stats_.active--;
  GST_INFO("RELEASED key=%s session=#%" G_GUINT64_FORMAT " after %.1f ms in use",
           s->key_.str().c_str(), s->id_, ms_since(s->acquired_));
  if (limits.max_idle == 0) {
    enqueue_destroy_locked(std::move(s), "max-idle=0");
  } else {
    s->parked_at_ = gst_clock_get_time(clock_locked());
    s->idle_timeout_ = limits.idle_timeout;
    GST_INFO("PARKED key=%s session=#%" G_GUINT64_FORMAT " idle-timeout=%.1f s",
             s->key_.str().c_str(), s->id_,
             GST_CLOCK_TIME_IS_VALID(limits.idle_timeout)
                 ? static_cast<double>(limits.idle_timeout) / GST_SECOND
                 : -1.0);
    parked_.push_back(std::move(s));
    while (parked_in_locked(group) > limits.max_idle)
      evict_oldest_locked(group, "evicted: more than max-idle parked");
    stats_.parked = static_cast<unsigned>(parked_.size());
    ensure_thread_locked();
    wake_locked();
  }
  changed_.notify_all();
}

void SessionPool::discard(SessionPtr s, const std::string &reason) {
  if (!s)
    return;
  std::lock_guard<std::mutex> guard(lock_);
  live_[s->key_.group()]--;
  stats_.active--;
  GST_INFO("RELEASED key=%s session=#%" G_GUINT64_FORMAT " after %.1f ms in use, discarded: %s",
           s->key_.str().c_str(), s->id_, ms_since(s->acquired_), reason.c_str());
  enqueue_destroy_locked(std::move(s), reason);
  changed_.notify_all();
}

unsigned SessionPool::drain(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(lock_);
  unsigned n = 0;
  while (!parked_.empty()) {
    SessionPtr s = std::move(parked_.front());
    parked_.pop_front();
    enqueue_destroy_locked(std::move(s), "drain");
    n++;
  }
  stats_.parked = 0;
  // Sessions that failed to reach NULL before get one more try.
  for (auto &z : zombies_) {
    dying_[z->key_.group()]++;
    queue_.push_back(Job{std::move(z), "drain (retry)"});
    enqueued_++;
  }
  zombies_.clear();
  if (!queue_.empty()) {
    ensure_thread_locked();
    wake_locked();
  }
  const uint64_t target = enqueued_;
  if (!changed_.wait_for(lk, timeout, [&] { return completed_ >= target; }))
    GST_WARNING("drain: %" G_GUINT64_FORMAT " session(s) not destroyed within %lld ms",
                target - completed_, static_cast<long long>(timeout.count()));
  return n;
}

void SessionPool::shutdown() {
  drain();
  std::thread t;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stop_ = true;
    wake_locked();
    t = std::move(thread_);
  }
  if (t.joinable())
    t.join();
  std::lock_guard<std::mutex> guard(lock_);
  if (clock_) {
    gst_object_unref(clock_);
    clock_ = nullptr;
  }
}

void SessionPool::set_clock(GstClock *clock) {
  std::lock_guard<std::mutex> guard(lock_);
  if (clock)
    gst_object_ref(clock);
  if (clock_)
    gst_object_unref(clock_);
  clock_ = clock;
  wake_locked();
}

GstClock *SessionPool::get_clock() {
  std::lock_guard<std::mutex> guard(lock_);
  return GST_CLOCK(gst_object_ref(clock_locked()));
}

void SessionPool::set_cleanup_timeout(GstClockTime timeout) {
  std::lock_guard<std::mutex> guard(lock_);
  cleanup_timeout_ = timeout;
}

void SessionPool::wake_waiters() {
  std::lock_guard<std::mutex> guard(lock_);
  changed_.notify_all();
}

void SessionPool::count_fallback() {
  std::lock_guard<std::mutex> guard(lock_);
  stats_.fallbacks++;
  changed_.notify_all();
}

PoolStats SessionPool::stats_locked() {
  PoolStats s = stats_;
  s.parked = static_cast<unsigned>(parked_.size());
  return s;
}

PoolStats SessionPool::stats() {
  std::lock_guard<std::mutex> guard(lock_);
  return stats_locked();
}

bool SessionPool::wait_for(const std::function<bool(const PoolStats &)> &pred,
                           std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(lock_);
  return changed_.wait_for(lk, timeout, [&] { return pred(stats_locked()); });
}

void SessionPool::destroy_now(Job &job) {
  Session &s = *job.session;
  const auto t0 = std::chrono::steady_clock::now();
  GstClockTime timeout;
  {
    std::lock_guard<std::mutex> guard(lock_);
    timeout = cleanup_timeout_;
  }
  GstState state = GST_STATE_VOID_PENDING;
  GstStateChangeReturn ret = gst_element_set_state(s.element_, GST_STATE_NULL);
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_get_state(s.element_, &state, nullptr, timeout);
  const double took = ms_since(t0);
  const double lifetime = ms_since(s.created_) / 1000.0;
  std::lock_guard<std::mutex> guard(lock_);
  if (ret == GST_STATE_CHANGE_FAILURE || state != GST_STATE_NULL) {
    stats_.cleanup_failures++;
    GST_WARNING("CLEANUP_FAILED key=%s session=#%" G_GUINT64_FORMAT
                " reason=%s: state change to NULL %s after %.1f ms (still %s); kept alive, "
                "retried at drain",
                s.key_.str().c_str(), s.id_, job.reason.c_str(),
                ret == GST_STATE_CHANGE_FAILURE ? "failed" : "did not complete", took,
                gst_element_state_get_name(state));
    zombies_.push_back(std::move(job.session));
  } else {
    stats_.destroyed++;
    GST_INFO("DESTROYED key=%s session=#%" G_GUINT64_FORMAT
             " reason=%s uses=%u lifetime=%.1f s teardown=%.1f ms",
             s.key_.str().c_str(), s.id_, job.reason.c_str(), s.uses_, lifetime, took);
  }
}

void SessionPool::run() {
  std::unique_lock<std::mutex> lk(lock_);
  while (!stop_ || !queue_.empty()) {
    if (!queue_.empty()) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      const std::string group = job.session->key_.group();
      lk.unlock();
      destroy_now(job);
      job.session.reset();  // unref the element (in NULL) and its display lease
      lk.lock();
      dying_[group]--;
      completed_++;
      changed_.notify_all();
      continue;
    }
    if (stop_)
      break;
    GstClock *clock = clock_locked();
    GstClockTime now = gst_clock_get_time(clock);
    GstClockTime earliest = GST_CLOCK_TIME_NONE;
    bool expired = false;
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (!GST_CLOCK_TIME_IS_VALID((*it)->idle_timeout_)) {
        ++it;
        continue;
      }
      GstClockTime due = (*it)->parked_at_ + (*it)->idle_timeout_;
      if (due <= now) {
        SessionPtr s = std::move(*it);
        it = parked_.erase(it);
        GST_INFO("EXPIRED key=%s session=#%" G_GUINT64_FORMAT " after %.1f s parked",
                 s->key_.str().c_str(), s->id_,
                 static_cast<double>(now - s->parked_at_) / GST_SECOND);
        dying_[s->key_.group()]++;
        queue_.push_back(Job{std::move(s), "idle-timeout"});
        enqueued_++;
        expired = true;
      } else {
        earliest = GST_CLOCK_TIME_IS_VALID(earliest) ? std::min(earliest, due) : due;
        ++it;
      }
    }
    if (expired) {
      stats_.parked = static_cast<unsigned>(parked_.size());
      continue;
    }
    const uint64_t seen = wake_gen_;
    if (!GST_CLOCK_TIME_IS_VALID(earliest)) {
      thread_cv_.wait(lk, [&] { return stop_ || !queue_.empty() || wake_gen_ != seen; });
      continue;
    }
    GstClockID id = gst_clock_new_single_shot_id(clock, earliest);
    gst_object_ref(clock);
    wait_id_ = id;
    lk.unlock();
    gst_clock_id_wait(id, nullptr);
    lk.lock();
    wait_id_ = nullptr;
    gst_clock_id_unref(id);
    gst_object_unref(clock);
  }
}

}  // namespace vapoolenc
