#include "sharedframetee-hub.h"

#include <algorithm>
#include <utility>

namespace sft {

namespace {
bool is_fatal(GstFlowReturn ret) {
  return ret <= GST_FLOW_NOT_NEGOTIATED;
}
}  // namespace

// ---- configuration ----

void Hub::set_capacity_buffers(std::uint64_t n) {
  std::lock_guard<std::mutex> lk(mutex_);
  capacity_buffers_ = std::max<std::uint64_t>(1, n);
  // Shrinking applies at once (an explicit request: no waiting for the leader).
  while (ring_.buffers_held() > capacity_buffers_)
    evict_oldest_locked();
  wake_producer_locked();
}

std::uint64_t Hub::capacity_buffers() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return capacity_buffers_;
}

void Hub::set_capacity_time(GstClockTime t) {
  std::lock_guard<std::mutex> lk(mutex_);
  capacity_time_ = t;
  wake_producer_locked();
}

GstClockTime Hub::capacity_time() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return capacity_time_;
}

void Hub::set_resync_mode(ResyncMode mode) {
  std::lock_guard<std::mutex> lk(mutex_);
  resync_ = mode;
}

ResyncMode Hub::resync_mode() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return resync_;
}

void Hub::set_request_keyframe(bool enable) {
  std::lock_guard<std::mutex> lk(mutex_);
  request_keyframe_ = enable;
}

bool Hub::request_keyframe() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return request_keyframe_;
}

void Hub::set_keyframe_request_interval(std::chrono::milliseconds interval) {
  std::lock_guard<std::mutex> lk(mutex_);
  keyframe_interval_ = interval;
}

void Hub::set_stall_timeout(GstClockTime timeout) {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    stall_timeout_ = timeout;
  }
  watchdog_poke();
}

GstClockTime Hub::stall_timeout() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return stall_timeout_;
}

void Hub::set_clock(GstClock *clock) {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    clock_ = steady::ObjectRef<GstClock>::share(clock);
  }
  watchdog_poke();
}

void Hub::set_max_wait(std::int64_t ms) {
  std::lock_guard<std::mutex> lk(mutex_);
  max_wait_ms_ = ms < 0 ? kWaitForever : ms;
  wake_producer_locked();
}

std::int64_t Hub::max_wait() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return max_wait_ms_;
}

void Hub::set_follower_wait(std::int64_t ms) {
  std::lock_guard<std::mutex> lk(mutex_);
  follower_wait_ms_ = std::max<std::int64_t>(0, ms);
  wake_producer_locked();
}

std::int64_t Hub::follower_wait() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return follower_wait_ms_;
}

void Hub::set_allow_not_linked(bool allow) {
  std::lock_guard<std::mutex> lk(mutex_);
  allow_not_linked_ = allow;
}

bool Hub::allow_not_linked() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return allow_not_linked_;
}

void Hub::set_playing(bool playing) {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    playing_ = playing;
    const bool timed = playing && stall_timeout_ > 0 && clock_;
    const GstClockTime now = timed ? gst_clock_get_time(clock_.get()) : GST_CLOCK_TIME_NONE;
    for (const auto &b : branches_)
      b->push_started_ = b->in_flight_ ? now : GST_CLOCK_TIME_NONE;
  }
  watchdog_poke();
}

// ---- upstream side ----

bool Hub::over_capacity_locked() const {
  const std::uint64_t held = ring_.buffers_held();
  if (held > capacity_buffers_)
    return true;
  return capacity_time_ > 0 && held > 1 && ring_.time_span() > capacity_time_;
}

bool Hub::leader_took_oldest_locked() const {
  const Seq oldest = ring_.oldest_buffer();
  bool any = false;
  for (const auto &b : branches_) {
    if (!eligible(*b))
      continue;
    if (b->cursor_ > oldest)
      return true;
    any = true;
  }
  return !any;  // nobody is taking buffers: the ring rolls
}

bool Hub::all_took_oldest_locked() const {
  const Seq oldest = ring_.oldest_buffer();
  for (const auto &b : branches_) {
    if (eligible(*b) && !b->behind_ && b->cursor_ <= oldest)
      return false;
  }
  return true;
}

// The producer waited `waited` (its wait number `wait`) for the gating branches that had not
// taken the oldest buffer (the leader had): charge it to them, and leave behind those that
// have held it up for follower-wait in total and still hold it.
void Hub::leave_behind_locked(std::uint64_t wait, std::chrono::steady_clock::duration waited) {
  const auto limit = std::chrono::milliseconds(follower_wait_ms_);
  const Seq oldest = ring_.oldest_buffer();
  for (const auto &b : branches_) {
    if (!eligible(*b) || b->behind_ || b->blocking_wait_ != wait)
      continue;
    b->held_up_ += waited;
    if (b->held_up_ >= limit && b->cursor_ <= oldest)
      b->behind_ = true;
  }
}

void Hub::wake_producer_locked() {
  if (upstream_waiters_ > 0)
    producer_cv_.notify_all();
}

bool Hub::wait_for_leader_locked(Lock &lk, const std::function<bool()> &done, std::int64_t ms) {
  // Branches that can take something now were notified by the caller.
  producer_waiting_ = true;
  ++upstream_waiters_;
  ++producer_waits_;
  producer_blocked_cv_.notify_all();
  auto pred = [this, &done] { return flushing_ || done(); };
  if (ms < 0)
    producer_cv_.wait(lk, pred);
  else
    producer_cv_.wait_for(lk, std::chrono::milliseconds(ms), pred);
  producer_waiting_ = false;
  --upstream_waiters_;
  return !flushing_ && done();
}

GstFlowReturn Hub::flow_locked() const {
  if (flushing_)
    return GST_FLOW_FLUSHING;
  bool any_linked = false;
  bool all_eos = true;
  for (const auto &b : branches_) {
    if (!active(*b) || !b->linked_)
      continue;
    any_linked = true;
    all_eos = all_eos && b->eos_returned_;
  }
  if (!any_linked)
    return allow_not_linked_ ? GST_FLOW_OK : GST_FLOW_NOT_LINKED;
  return all_eos ? GST_FLOW_EOS : GST_FLOW_OK;
}

GstFlowReturn Hub::push_buffer(GstBuffer *buffer) {
  Lock lk(mutex_);
  if (flushing_) {
    // Released under the mutex like every ring item (see evict_oldest_locked).
    steady::MiniRef<GstMiniObject>::adopt(GST_MINI_OBJECT_CAST(buffer));
    return GST_FLOW_FLUSHING;
  }
  ring_.push_buffer(buffer);
  for (const auto &b : branches_) {
    if (active(*b))
      ++b->stats_.offered;
  }
  bool notified = false;
  while (over_capacity_locked()) {
    if (max_wait_ms_ != 0 && !all_took_oldest_locked()) {
      if (!notified) {
        // Wake the branches (the leader may be waiting for this very buffer) and look again.
        Waiters waiters;
        collect_waiters_locked(&waiters);
        lk.unlock();
        notify(waiters);
        lk.lock();
        notified = true;
        continue;
      }
      auto room = [this] { return !over_capacity_locked() || all_took_oldest_locked(); };
      if (leader_took_oldest_locked()) {
        // Only branches behind the leader hold it: wait for them, at most what is left of
        // their follower-wait.
        const auto limit =
            std::chrono::steady_clock::duration(std::chrono::milliseconds(follower_wait_ms_));
        auto budget = limit;
        const Seq oldest = ring_.oldest_buffer();
        for (const auto &b : branches_) {
          if (eligible(*b) && !b->behind_ && b->cursor_ <= oldest) {
            budget = std::min(budget, limit - b->held_up_);
            b->blocking_wait_ = producer_waits_ + 1;  // the wait about to start
          }
        }
        const auto start = std::chrono::steady_clock::now();
        const std::int64_t ms = std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(budget).count());
        const bool done = wait_for_leader_locked(lk, room, ms);
        if (!done && flushing_)
          return GST_FLOW_FLUSHING;
        leave_behind_locked(producer_waits_, std::chrono::steady_clock::now() - start);
        continue;
      }
      // Nobody took it yet: wait for the leader, at most max-wait.
      if (wait_for_leader_locked(
              lk, [this, &room] { return room() || leader_took_oldest_locked(); }, max_wait_ms_))
        continue;
      if (flushing_)
        return GST_FLOW_FLUSHING;
      // max-wait passed: the oldest buffer goes although the leader has not taken it.
    }
    evict_oldest_buffer_locked();
  }
  enforce_capacity_locked();  // the bound on events held
  const GstFlowReturn ret = flow_locked();
  Waiters waiters;
  collect_waiters_locked(&waiters);
  lk.unlock();
  notify(waiters);
  return ret;
}

bool Hub::drain() {
  Lock lk(mutex_);
  // Drained when the leader has taken everything and no branch that has caught up is still
  // pushing (its delivery holds a reference until the push returns).
  auto drained = [this] {
    Seq lead = 0;
    bool any = false;
    for (const auto &b : branches_) {
      if (eligible(*b)) {
        any = true;
        lead = std::max(lead, b->cursor_);
      }
    }
    if (!any)
      return true;
    if (lead < ring_.head())
      return false;
    for (const auto &b : branches_) {
      if (eligible(*b) && b->cursor_ >= ring_.head() && b->in_flight_)
        return false;
    }
    return true;
  };
  if (!drained() && max_wait_ms_ != 0 && !wait_for_leader_locked(lk, drained, max_wait_ms_) &&
      flushing_)
    return false;
  if (flushing_)
    return false;
  // Every buffer from before the query leaves the ring (sticky events stay in force).
  while (ring_.buffers_held() > 0)
    evict_oldest_buffer_locked();
  return true;
}

void Hub::push_event(GstEvent *event) {
  Waiters waiters;
  {
    std::lock_guard<std::mutex> lk(mutex_);
    ring_.push_event(event);
    enforce_capacity_locked();
    collect_waiters_locked(&waiters);
  }
  notify(waiters);
}

void Hub::drop_ring_locked() {
  for (const auto &b : branches_) {
    if (!active(*b))
      continue;
    if (b->cursor_ < ring_.head()) {
      b->stats_.dropped += ring_.buffers_from(b->cursor_);
      // Sticky events it had not received yet live on in the base state.
      b->need_sticky_ = true;
    }
    b->lagging_ = false;
  }
  ring_.clear();
  for (const auto &b : branches_)
    b->cursor_ = ring_.head();
}

void Hub::flush_start() {
  Waiters waiters;
  {
    std::lock_guard<std::mutex> lk(mutex_);
    flushing_ = true;
    drop_ring_locked();
    wake_producer_locked();
    collect_waiters_locked(&waiters);
  }
  notify(waiters);  // their next() returns false: the tasks pause
}

void Hub::set_flushing(bool flushing) {
  Waiters waiters;
  {
    std::lock_guard<std::mutex> lk(mutex_);
    flushing_ = flushing;
    wake_producer_locked();
    collect_waiters_locked(&waiters);
  }
  notify(waiters);
}

void Hub::flush_stop_begin() {
  std::lock_guard<std::mutex> lk(mutex_);
  drop_ring_locked();
  ring_.base_sticky().forget_for_flush();
  for (const auto &b : branches_) {
    b->error_reported_ = false;
    b->eos_returned_ = false;
  }
}

void Hub::flush_stop_end() {
  Waiters waiters;
  {
    std::lock_guard<std::mutex> lk(mutex_);
    flushing_ = false;
    collect_waiters_locked(&waiters);
  }
  notify(waiters);
}

void Hub::reset() {
  std::lock_guard<std::mutex> lk(mutex_);
  drop_ring_locked();
  ring_.base_sticky().clear();
  for (const auto &b : branches_) {
    b->need_sticky_ = false;
    b->waiting_keyframe_ = false;
    b->error_reported_ = false;
    b->eos_returned_ = false;
    b->behind_ = false;
    b->held_up_ = {};
  }
  flushing_ = false;
  wake_producer_locked();
}

std::uint64_t Hub::buffers_in() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return ring_.buffers_total();
}

std::uint64_t Hub::buffers_held() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return ring_.buffers_held();
}

std::uint64_t Hub::bytes_held() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return ring_.bytes_held();
}

std::uint64_t Hub::peak_bytes_held() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return ring_.peak_bytes_held();
}

std::uint64_t Hub::keyframe_requests() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return keyframe_requests_;
}

std::uint64_t Hub::producer_waits() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return producer_waits_;
}

bool Hub::wait_producer_blocked(std::chrono::milliseconds timeout) {
  Lock lk(mutex_);
  return producer_blocked_cv_.wait_for(lk, timeout, [this] { return producer_waiting_; });
}

void Hub::enforce_capacity_locked() {
  while (over_capacity_locked())
    evict_oldest_buffer_locked();
  while (ring_.events_held() > kMaxEventsHeld)
    evict_oldest_locked();
}

void Hub::evict_oldest_buffer_locked() {
  while (!ring_.empty()) {
    const bool was_buffer = ring_.at(ring_.tail()).is_buffer;
    evict_oldest_locked();
    if (was_buffer)
      return;
  }
}

// Evicted items are released here, under the mutex, on purpose: every thread drops its
// references to ring items under this mutex (see next()), so the thread that frees one is
// ordered after every other thread that used it, in a way ThreadSanitizer can see (it cannot
// see GstMiniObject's refcount atomics inside the uninstrumented GStreamer).
void Hub::evict_oldest_locked() {
  Item item = ring_.pop_oldest();
  for (const auto &b : branches_) {
    if (!active(*b) || b->cursor_ != item.seq)
      continue;
    // The branch had not read this item yet: it lags.
    ++b->cursor_;
    b->lagging_ = true;
    if (item.is_buffer)
      ++b->stats_.dropped;
    else if (!item.sticky)
      ++b->stats_.events_skipped;
  }
}

// Branches are woken after the mutex is released, so a woken thread does not at once block
// on the mutex the upstream thread still holds. No wakeup is lost: a waiting branch set
// waiting_ and entered cv_.wait() atomically under the mutex before we saw the flag.
void Hub::collect_waiters_locked(Waiters *waiters) {
  for (const auto &b : branches_) {
    if (b->waiting_)
      waiters->push_back(b);
  }
}

void Hub::notify(const Waiters &waiters) {
  for (const auto &b : waiters)
    b->cv_.notify_one();
}

bool Hub::want_keyframe_locked() {
  if (!request_keyframe_)
    return false;
  const auto now = std::chrono::steady_clock::now();
  if (keyframe_requested_ever_ && now - last_keyframe_request_ < keyframe_interval_)
    return false;
  keyframe_requested_ever_ = true;
  last_keyframe_request_ = now;
  ++keyframe_requests_;
  return true;
}

// ---- branch side ----

std::shared_ptr<Branch> Hub::add_branch(GstObject *owner, bool *request_keyframe) {
  auto b = std::make_shared<Branch>(owner);
  std::lock_guard<std::mutex> lk(mutex_);
  *request_keyframe = false;
  Seq start;
  if (resync_ == ResyncMode::kKeyframe) {
    start = ring_.newest_keyframe_from(ring_.tail());
    if (start == ring_.head()) {
      b->waiting_keyframe_ = true;
      if (ring_.buffers_total() > 0)
        *request_keyframe = want_keyframe_locked();
    }
  } else {
    start = ring_.newest_buffer_from(ring_.tail());
  }
  b->cursor_ = start;
  b->need_sticky_ = true;
  b->stats_.offered = ring_.buffers_from(start);
  branches_.push_back(b);
  return b;
}

void Hub::remove_branch(const std::shared_ptr<Branch> &branch) {
  std::lock_guard<std::mutex> lk(mutex_);
  // What it still held will never be delivered: dropped, so the equation still holds.
  branch->stats_.dropped += held_locked(*branch);
  branch->removed_ = true;
  branch->running_ = false;
  branch->owner_ = nullptr;
  branches_.erase(std::remove(branches_.begin(), branches_.end(), branch), branches_.end());
  branch->cv_.notify_all();
  wake_producer_locked();
}

void Hub::set_linked(const std::shared_ptr<Branch> &branch, bool linked) {
  std::lock_guard<std::mutex> lk(mutex_);
  branch->linked_ = linked;
  branch->cv_.notify_all();
  wake_producer_locked();
}

bool Hub::set_running(const std::shared_ptr<Branch> &branch, bool running) {
  std::lock_guard<std::mutex> lk(mutex_);
  if (running && !active(*branch))
    return false;
  branch->running_ = running;
  branch->cv_.notify_all();
  wake_producer_locked();
  return true;
}

void Hub::resync_locked(Branch &b, Delivery *d) {
  b.lagging_ = false;
  const Seq from = b.cursor_;
  Seq land;
  if (resync_ == ResyncMode::kKeyframe) {
    land = ring_.newest_keyframe_from(from);
    if (land == ring_.head()) {
      b.waiting_keyframe_ = true;
      d->request_keyframe = want_keyframe_locked();
    }
  } else {
    land = ring_.newest_buffer_from(from);
  }
  for (Seq s = from; s < land; ++s) {
    const Item &item = ring_.at(s);
    if (item.is_buffer)
      ++b.stats_.dropped;
    else if (!item.sticky)
      ++b.stats_.events_skipped;
  }
  b.cursor_ = land;
  b.need_sticky_ = true;
  ++b.stats_.resyncs;
}

bool Hub::prepare_locked(Branch &b, Delivery *d) {
  if (b.lagging_)
    resync_locked(b, d);
  while (b.cursor_ < ring_.head()) {
    const Item &item = ring_.at(b.cursor_);
    if (item.is_buffer && b.waiting_keyframe_ && !item.keyframe) {
      ++b.stats_.dropped;
      ++b.cursor_;
      continue;
    }
    if (item.is_buffer)
      b.waiting_keyframe_ = false;
    if (b.need_sticky_) {
      d->sticky = ring_.sticky_at(b.cursor_).events();
      b.need_sticky_ = false;
    }
    d->item = item.object;
    d->is_buffer = item.is_buffer;
    ++b.cursor_;
    return true;
  }
  if (b.need_sticky_) {
    // Nothing left to read, but the stream ended: a late or lagging branch still gets its
    // sticky events and the EOS.
    StickySet sticky = ring_.sticky_at(ring_.head());
    if (sticky.has(GST_EVENT_EOS)) {
      d->sticky = sticky.events();
      b.need_sticky_ = false;
      return true;
    }
  }
  return d->request_keyframe;
}

bool Hub::next(const std::shared_ptr<Branch> &branch, Delivery *delivery) {
  Lock lk(mutex_);
  return next_locked(*branch, lk, delivery);
}

bool Hub::next_locked(Branch &b, Lock &lk, Delivery *delivery) {
  *delivery = Delivery();  // the previous delivery's references go under the mutex
  for (;;) {
    if (!b.running_ || !active(b) || flushing_)
      return false;
    const bool ready = b.linked_ && prepare_locked(b, delivery);
    if (!ready && b.cursor_ >= ring_.head())
      b.behind_ = false, b.held_up_ = {};  // it waits for data: it keeps up, it gates again
    wake_producer_locked();                // the cursor may have moved: the producer may go on
    if (ready)
      break;
    b.waiting_ = true;
    b.cv_.wait(lk);
    b.waiting_ = false;
  }
  start_push_locked(b, delivery);
  return true;
}

bool Hub::try_next(const std::shared_ptr<Branch> &branch, Delivery *delivery) {
  Branch &b = *branch;
  std::lock_guard<std::mutex> lk(mutex_);
  *delivery = Delivery();
  if (!b.running_ || !active(b) || flushing_ || !b.linked_)
    return false;
  const bool ready = prepare_locked(b, delivery);
  if (!ready && b.cursor_ >= ring_.head())
    b.behind_ = false, b.held_up_ = {};
  wake_producer_locked();
  if (!ready)
    return false;
  start_push_locked(b, delivery);
  return true;
}

void Hub::start_push_locked(Branch &b, Delivery *delivery) {
  b.in_flight_ = true;
  b.in_flight_buffer_ = delivery->is_buffer;
  if (playing_ && stall_timeout_ > 0 && clock_) {
    b.push_started_ = gst_clock_get_time(clock_.get());
    if (watchdog_idle_)
      watchdog_cv_.notify_one();
  } else {
    b.push_started_ = GST_CLOCK_TIME_NONE;
  }
}

bool Hub::complete(const std::shared_ptr<Branch> &branch, GstFlowReturn ret) {
  std::lock_guard<std::mutex> lk(mutex_);
  return complete_locked(*branch, ret);
}

bool Hub::complete(const std::shared_ptr<Branch> &branch, GstFlowReturn ret, Delivery *delivery) {
  std::lock_guard<std::mutex> lk(mutex_);
  *delivery = Delivery();
  return complete_locked(*branch, ret);
}

bool Hub::complete_locked(Branch &b, GstFlowReturn ret) {
  const bool was_buffer = b.in_flight_ && b.in_flight_buffer_;
  b.in_flight_ = false;
  b.in_flight_buffer_ = false;
  b.push_started_ = GST_CLOCK_TIME_NONE;
  wake_producer_locked();  // drain() waits for pushes to end
  if (!active(b))
    return false;
  if (was_buffer) {
    if (ret == GST_FLOW_OK)
      ++b.stats_.out;
    else
      ++b.stats_.dropped;
    b.eos_returned_ = ret == GST_FLOW_EOS;
  }
  if (is_fatal(ret) && !b.error_reported_) {
    b.error_reported_ = true;
    return true;
  }
  return false;
}

bool Hub::in_flight(const std::shared_ptr<Branch> &branch) const {
  std::lock_guard<std::mutex> lk(mutex_);
  return branch->in_flight_;
}

std::uint64_t Hub::held_locked(const Branch &b) const {
  if (!active(b))
    return 0;
  return ring_.buffers_from(std::max(b.cursor_, ring_.tail())) +
         (b.in_flight_ && b.in_flight_buffer_ ? 1 : 0);
}

BranchStats Hub::stats(const std::shared_ptr<Branch> &branch) const {
  std::lock_guard<std::mutex> lk(mutex_);
  BranchStats s = branch->stats_;
  s.held = held_locked(*branch);
  s.evicted = branch->evicted_;
  return s;
}

std::size_t Hub::num_branches() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return branches_.size();
}

// ---- stall watchdog ----

bool Hub::watchdog_wait(GstClockTime *deadline, steady::ObjectRef<GstClock> *clock,
                        std::uint64_t *generation) {
  Lock lk(mutex_);
  for (;;) {
    if (watchdog_stop_)
      return false;
    if (stall_timeout_ > 0 && clock_) {
      GstClockTime earliest = GST_CLOCK_TIME_NONE;
      for (const auto &b : branches_) {
        if (active(*b) && b->in_flight_ && GST_CLOCK_TIME_IS_VALID(b->push_started_)) {
          const GstClockTime t = b->push_started_ + stall_timeout_;
          if (!GST_CLOCK_TIME_IS_VALID(earliest) || t < earliest)
            earliest = t;
        }
      }
      if (GST_CLOCK_TIME_IS_VALID(earliest)) {
        *deadline = earliest;
        *clock = clock_;
        *generation = watchdog_generation_;
        return true;
      }
    }
    watchdog_idle_ = true;
    watchdog_cv_.wait(lk);
    watchdog_idle_ = false;
  }
}

bool Hub::watchdog_arm(GstClockID id, std::uint64_t generation) {
  std::lock_guard<std::mutex> lk(mutex_);
  if (watchdog_stop_ || generation != watchdog_generation_)
    return false;
  watchdog_id_ = id;
  return true;
}

void Hub::watchdog_disarm() {
  std::lock_guard<std::mutex> lk(mutex_);
  watchdog_id_ = nullptr;
}

void Hub::watchdog_poke(bool stop) {
  std::lock_guard<std::mutex> lk(mutex_);
  if (stop)
    watchdog_stop_ = true;
  ++watchdog_generation_;
  if (watchdog_id_)
    gst_clock_id_unschedule(watchdog_id_);
  watchdog_cv_.notify_all();
}

void Hub::watchdog_restart() {
  std::lock_guard<std::mutex> lk(mutex_);
  watchdog_stop_ = false;
}

std::vector<StalledBranch> Hub::collect_stalled(GstClockTime now) {
  std::vector<StalledBranch> out;
  std::lock_guard<std::mutex> lk(mutex_);
  if (stall_timeout_ == 0 || !GST_CLOCK_TIME_IS_VALID(now))
    return out;
  for (const auto &b : branches_) {
    if (!active(*b) || !b->in_flight_ || !GST_CLOCK_TIME_IS_VALID(b->push_started_) ||
        now < b->push_started_ + stall_timeout_)
      continue;
    b->stats_.dropped += held_locked(*b);
    b->evicted_ = true;
    out.push_back({b->owner_ ? steady::ObjectRef<GstObject>::share(b->owner_)
                             : steady::ObjectRef<GstObject>(),
                   now - b->push_started_, b->stats_.dropped});
    b->cv_.notify_all();
  }
  if (!out.empty())
    wake_producer_locked();
  return out;
}

}  // namespace sft
