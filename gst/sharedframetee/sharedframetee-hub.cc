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
  std::vector<Item> graveyard;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lk(mutex_);
  capacity_buffers_ = std::max<std::uint64_t>(1, n);
  // Shrinking applies at once.
  while (ring_.buffers_held() > capacity_buffers_)
    evict_oldest_locked(&graveyard);
}

std::uint64_t Hub::capacity_buffers() const {
  std::lock_guard<std::mutex> lk(mutex_);
  return capacity_buffers_;
}

void Hub::set_capacity_time(GstClockTime t) {
  std::lock_guard<std::mutex> lk(mutex_);
  capacity_time_ = t;
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

// ---- upstream side ----

void Hub::push_buffer(GstBuffer *buffer) {
  std::vector<Item> graveyard;
  std::lock_guard<std::mutex> lk(mutex_);
  ring_.push_buffer(buffer);
  for (const auto &b : branches_) {
    if (active(*b))
      ++b->stats_.offered;
  }
  enforce_capacity_locked(&graveyard);
  wake_branches_locked();
}

void Hub::push_event(GstEvent *event) {
  std::vector<Item> graveyard;
  std::lock_guard<std::mutex> lk(mutex_);
  ring_.push_event(event);
  enforce_capacity_locked(&graveyard);
  wake_branches_locked();
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
  std::lock_guard<std::mutex> lk(mutex_);
  flushing_ = true;
  drop_ring_locked();
}

void Hub::flush_stop_begin() {
  std::lock_guard<std::mutex> lk(mutex_);
  drop_ring_locked();
  ring_.base_sticky().forget_for_flush();
  for (const auto &b : branches_)
    b->error_reported_ = false;
}

void Hub::flush_stop_end() {
  std::lock_guard<std::mutex> lk(mutex_);
  flushing_ = false;
  wake_branches_locked();
}

void Hub::reset() {
  std::lock_guard<std::mutex> lk(mutex_);
  drop_ring_locked();
  ring_.base_sticky().clear();
  for (const auto &b : branches_) {
    b->need_sticky_ = false;
    b->waiting_keyframe_ = false;
    b->error_reported_ = false;
  }
  flushing_ = false;
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

void Hub::enforce_capacity_locked(std::vector<Item> *graveyard) {
  while (ring_.buffers_held() > capacity_buffers_)
    evict_oldest_buffer_locked(graveyard);
  if (capacity_time_ > 0) {
    while (ring_.buffers_held() > 1 && ring_.time_span() > capacity_time_)
      evict_oldest_buffer_locked(graveyard);
  }
  while (ring_.events_held() > kMaxEventsHeld)
    evict_oldest_locked(graveyard);
}

void Hub::evict_oldest_buffer_locked(std::vector<Item> *graveyard) {
  while (!ring_.empty()) {
    const bool was_buffer = ring_.at(ring_.tail()).is_buffer;
    evict_oldest_locked(graveyard);
    if (was_buffer)
      return;
  }
}

void Hub::evict_oldest_locked(std::vector<Item> *graveyard) {
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
  graveyard->push_back(std::move(item));
}

void Hub::wake_branches_locked() {
  for (const auto &b : branches_) {
    if (b->waiting_)
      b->cv_.notify_one();
  }
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
}

void Hub::set_linked(const std::shared_ptr<Branch> &branch, bool linked) {
  std::lock_guard<std::mutex> lk(mutex_);
  branch->linked_ = linked;
  branch->cv_.notify_all();
}

bool Hub::set_running(const std::shared_ptr<Branch> &branch, bool running) {
  std::lock_guard<std::mutex> lk(mutex_);
  if (running && !active(*branch))
    return false;
  branch->running_ = running;
  branch->cv_.notify_all();
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
  Branch &b = *branch;
  *delivery = Delivery();
  Lock lk(mutex_);
  for (;;) {
    if (!b.running_ || !active(b))
      return false;
    if (!flushing_ && b.linked_ && prepare_locked(b, delivery))
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
  *delivery = Delivery();
  std::lock_guard<std::mutex> lk(mutex_);
  if (!b.running_ || !active(b) || flushing_ || !b.linked_ || !prepare_locked(b, delivery))
    return false;
  start_push_locked(b, delivery);
  return true;
}

void Hub::start_push_locked(Branch &b, Delivery *delivery) {
  b.in_flight_ = true;
  b.in_flight_buffer_ = delivery->is_buffer;
  if (stall_timeout_ > 0 && clock_) {
    b.push_started_ = gst_clock_get_time(clock_.get());
    if (watchdog_idle_)
      watchdog_cv_.notify_one();
  } else {
    b.push_started_ = GST_CLOCK_TIME_NONE;
  }
}

bool Hub::complete(const std::shared_ptr<Branch> &branch, GstFlowReturn ret) {
  Branch &b = *branch;
  std::lock_guard<std::mutex> lk(mutex_);
  const bool was_buffer = b.in_flight_ && b.in_flight_buffer_;
  b.in_flight_ = false;
  b.in_flight_buffer_ = false;
  b.push_started_ = GST_CLOCK_TIME_NONE;
  if (!active(b))
    return false;
  if (was_buffer) {
    if (ret == GST_FLOW_OK)
      ++b.stats_.out;
    else
      ++b.stats_.dropped;
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
  return out;
}

}  // namespace sft
