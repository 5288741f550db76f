#include "boundedqueue-core.h"

#include <utility>

namespace boundedqueue {

namespace {

GstClockTime running_time(const GstSegment &seg, bool have_segment, GstClockTime ts) {
  if (!have_segment || seg.format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID(ts))
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time(&seg, GST_FORMAT_TIME, ts);
}

}  // namespace

// ---- configuration ----

Bounds Core::bounds() const {
  std::lock_guard<std::mutex> lk(mu_);
  return policy_.bounds();
}

bool Core::set_bounds(const Bounds &b, bool allow_unbounded, SinkResult *out) {
  std::vector<Item> dropped;
  std::unique_lock<std::mutex> lk(mu_);
  if (b.unbounded() && !allow_unbounded)
    return false;
  policy_.set_bounds(b);
  policy_.shrink(store_, dropped);
  count_drops(dropped);
  SinkResult res;
  update_full(GST_CLOCK_TIME_NONE, &res);
  maybe_request_keyframe(&res);
  if (sink_waiting_ && !full_)
    sink_cv_.notify_one();
  if (out)
    *out = res;
  lk.unlock();
  dropped.clear();
  return true;
}

Leaky Core::leaky() const {
  std::lock_guard<std::mutex> lk(mu_);
  return policy_.leaky();
}

void Core::set_leaky(Leaky l) {
  std::lock_guard<std::mutex> lk(mu_);
  policy_.set_leaky(l);
  // A sink waiting for room under leaky=no re-evaluates under the new mode.
  if (sink_waiting_)
    sink_cv_.notify_one();
}

bool Core::gop_aware() const {
  std::lock_guard<std::mutex> lk(mu_);
  return policy_.gop_aware();
}

void Core::set_gop_aware(bool g) {
  std::lock_guard<std::mutex> lk(mu_);
  policy_.set_gop_aware(g);
}

bool Core::request_keyframe() const {
  std::lock_guard<std::mutex> lk(mu_);
  return request_keyframe_;
}

void Core::set_request_keyframe(bool r) {
  std::lock_guard<std::mutex> lk(mu_);
  request_keyframe_ = r;
}

bool Core::flush_on_eos() const {
  std::lock_guard<std::mutex> lk(mu_);
  return flush_on_eos_;
}

void Core::set_flush_on_eos(bool f) {
  std::lock_guard<std::mutex> lk(mu_);
  flush_on_eos_ = f;
}

GstClockTime Core::stall_timeout() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stall_.timeout();
}

void Core::set_stall_timeout(GstClockTime t) {
  std::lock_guard<std::mutex> lk(mu_);
  stall_.set_timeout(t);
  stall_enabled_.store(t != 0, std::memory_order_relaxed);
}

Stats Core::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  Stats s;
  s.in = in_;
  s.out = out_;
  s.dropped = dropped_count_;
  s.bytes_dropped = bytes_dropped_;
  s.keyframes_requested = keyframes_requested_;
  s.level = store_.levels();
  s.peak_buffers = store_.peak_buffers();
  s.peak_bytes = store_.peak_bytes();
  return s;
}

std::size_t Core::held_items() const {
  std::lock_guard<std::mutex> lk(mu_);
  return store_.size();
}

void Core::reset_counters() {
  std::lock_guard<std::mutex> lk(mu_);
  // Whatever is still held counts as having come in, so the equation keeps holding.
  in_ = store_.buffers();
  out_ = 0;
  dropped_count_ = 0;
  bytes_dropped_ = 0;
  keyframes_requested_ = 0;
  store_.reset_peaks();
}

// ---- helpers (mu_ held) ----

void Core::count_drops(const std::vector<Item> &dropped) {
  for (const Item &it : dropped) {
    ++dropped_count_;
    bytes_dropped_ += it.bytes();
    ++burst_buffers_;
    burst_bytes_ += it.bytes();
  }
}

void Core::release_dropped(std::unique_lock<std::mutex> &lk, std::vector<Item> &dropped) {
  lk.unlock();
  dropped.clear();  // unrefs outside the lock; the capacity stays for the next drop
}

void Core::update_full(GstClockTime now, SinkResult *res) {
  const bool f = policy_.full(store_);
  if (f && playing_ && stall_.enabled()) {
    GstClockTime at = stall_.on_full(now);
    if (res)
      res->arm_stall_at = at;
  }
  // Falling below the bound through our own drops (a GOP taken out, a shrink) does not end a
  // stall: only the consumer taking something does (room_after_pop).
  full_ = f;
}

void Core::maybe_request_keyframe(SinkResult *res) {
  if (!policy_.keyframe_wanted())
    return;
  if (policy_.take_keyframe_request(g_get_monotonic_time()) && request_keyframe_) {
    ++keyframes_requested_;
    res->request_keyframe = true;
  }
}

bool Core::room_after_pop() {
  stall_.on_not_full();  // the consumer took something: any stall is over
  if (full_)
    full_ = policy_.full(store_);
  return sink_waiting_ && !full_;
}

// ---- sink side ----

SinkResult Core::push_buffer(GstBuffer *buf, GstClockTime now) {
  SinkResult res;
  // Size and flags are read before locking; destroyed after the lock is released.
  Item item = Item::buffer(buf, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE);
  const GstClockTime ts = GST_BUFFER_DTS_OR_PTS(buf);
  std::unique_lock<std::mutex> lk(mu_);
  if (GST_CLOCK_TIME_IS_VALID(ts)) {
    const GstClockTime start = running_time(segment_, have_segment_, ts);
    GstClockTime end = GST_CLOCK_TIME_NONE;
    if (GST_CLOCK_TIME_IS_VALID(start) && GST_BUFFER_DURATION_IS_VALID(buf))
      end = running_time(segment_, have_segment_, ts + GST_BUFFER_DURATION(buf));
    item.set_running_time(start, end);
  }
  const bool item_timed = item.timed();
  Admit a;
  for (;;) {
    if (flushing_ || srcresult_ != GST_FLOW_OK || eos_) {
      res.flow =
          flushing_ ? GST_FLOW_FLUSHING : (srcresult_ != GST_FLOW_OK ? srcresult_ : GST_FLOW_EOS);
      lk.unlock();
      return res;
    }
    a = policy_.admit(store_, item, dropped_);
    if (a != Admit::kWait)
      break;
    sink_waiting_ = true;
    blocked_cv_.notify_all();
    sink_cv_.wait(lk);
    sink_waiting_ = false;
  }
  ++in_;
  if (G_UNLIKELY(!item_timed) && !warned_untimed_) {
    const Bounds &b = policy_.bounds();
    if (b.buffers == 0 && b.bytes == 0) {
      warned_untimed_ = true;
      res.warn_untimed = true;
    }
  }
  if (!dropped_.empty())
    count_drops(dropped_);
  const bool wake_src = a == Admit::kEnqueued && src_waiting_;
  update_full(now, &res);
  maybe_request_keyframe(&res);
  lk.unlock();
  // Notified after unlocking, so the woken task does not run straight into our lock.
  if (wake_src)
    src_cv_.notify_one();
  dropped_.clear();  // unrefs outside the lock; the capacity stays for the next drop
  return res;
}

EventResult Core::push_event(GstEvent *event) {
  EventResult r;
  Item item = Item::event(event);
  std::unique_lock<std::mutex> lk(mu_);
  const GstEventType type = GST_EVENT_TYPE(event);
  if (!flushing_ && (eos_ || srcresult_ == GST_FLOW_EOS)) {
    // After EOS only a new stream (STREAM_START or SEGMENT) is accepted, as with queue.
    if (type != GST_EVENT_STREAM_START && type != GST_EVENT_SEGMENT) {
      r.accepted = false;
      r.srcresult = GST_FLOW_EOS;
      lk.unlock();
      return r;
    }
    eos_ = false;
    if (srcresult_ == GST_FLOW_EOS) {
      srcresult_ = GST_FLOW_OK;  // the task had stopped after pushing EOS
      r.restart_task = true;
      start_task_locked();
    }
  }
  if (flushing_ || srcresult_ != GST_FLOW_OK) {
    r.srcresult = flushing_ ? GST_FLOW_FLUSHING : srcresult_;
    // A sticky event is stored on the pad anyway; refusing it would only add noise.
    r.accepted = !flushing_ && GST_EVENT_IS_STICKY(event) && GST_EVENT_TYPE(event) != GST_EVENT_EOS;
    lk.unlock();
    return r;
  }
  switch (type) {
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment(event, &segment_);
      have_segment_ = true;
      break;
    case GST_EVENT_EOS:
      eos_ = true;
      if (flush_on_eos_) {
        policy_.drop_all_buffers(store_, dropped_);
        count_drops(dropped_);
      }
      break;
    default:
      break;
  }
  store_.push_back(std::move(item));
  if (src_waiting_)
    src_cv_.notify_one();
  update_full(GST_CLOCK_TIME_NONE, nullptr);
  release_dropped(lk, dropped_);
  return r;
}

bool Core::push_query(GstQuery *query) {
  std::unique_lock<std::mutex> lk(mu_);
  if (flushing_ || srcresult_ != GST_FLOW_OK)
    return false;
  query_done_ = false;
  query_in_flight_ = false;
  store_.push_back(Item::query(query));
  if (src_waiting_)
    src_cv_.notify_one();
  query_cv_.wait(lk, [this] {
    return query_done_ || ((flushing_ || srcresult_ != GST_FLOW_OK) && !query_in_flight_);
  });
  bool result = query_done_ && query_result_;
  if (!query_done_) {
    // Still held (not yet taken by the task): take it back before the caller frees it.
    for (std::size_t i = 0; i < store_.size(); ++i) {
      if (store_.at(i).kind() == Item::Kind::kQuery) {
        store_.erase(i).release();
        break;
      }
    }
  }
  return result;
}

// ---- flushing / activation ----

void Core::set_flushing() {
  std::lock_guard<std::mutex> lk(mu_);
  flushing_ = true;
  src_cv_.notify_all();
  sink_cv_.notify_all();
  query_cv_.notify_all();
}

void Core::clear(bool keep_sticky) {
  std::vector<Item> gone;
  std::unique_lock<std::mutex> lk(mu_);
  std::vector<Item> kept;
  while (!store_.empty()) {
    Item it = store_.pop_front();
    if (it.is_buffer()) {
      ++dropped_count_;
      bytes_dropped_ += it.bytes();
      gone.push_back(std::move(it));
    } else if (it.kind() == Item::Kind::kQuery) {
      it.release();  // borrowed; its waiter returns FALSE
    } else {
      GstEvent *ev = it.peek_event();
      if (keep_sticky && GST_EVENT_IS_STICKY(ev) && GST_EVENT_TYPE(ev) != GST_EVENT_SEGMENT &&
          GST_EVENT_TYPE(ev) != GST_EVENT_EOS)
        kept.push_back(std::move(it));
      else
        gone.push_back(std::move(it));
    }
  }
  for (Item &it : kept)
    store_.push_back(std::move(it));
  full_ = false;
  warned_untimed_ = false;
  stall_.reset();
  policy_.reset();
  burst_buffers_ = 0;
  burst_bytes_ = 0;
  gst_segment_init(&segment_, GST_FORMAT_UNDEFINED);
  have_segment_ = false;
  query_cv_.notify_all();
  lk.unlock();
}

void Core::restart(bool start_task) {
  std::lock_guard<std::mutex> lk(mu_);
  flushing_ = false;
  eos_ = false;
  srcresult_ = GST_FLOW_OK;
  if (start_task)
    start_task_locked();
}

bool Core::relink() {
  std::lock_guard<std::mutex> lk(mu_);
  if (flushing_ || srcresult_ != GST_FLOW_NOT_LINKED)
    return false;
  srcresult_ = GST_FLOW_OK;
  start_task_locked();
  return true;
}

// ---- source side ----

bool Core::pop(Popped &out) {
  std::unique_lock<std::mutex> lk(mu_);
  while (!flushing_ && srcresult_ == GST_FLOW_OK && store_.empty()) {
    src_waiting_ = true;
    src_cv_.wait(lk);
    src_waiting_ = false;
  }
  if (flushing_ || srcresult_ != GST_FLOW_OK) {
    pause_task_locked();
    return false;
  }
  out.item = store_.pop_front();
  bool close_burst = false;
  switch (out.item.kind()) {
    case Item::Kind::kBuffer:
      ++out_;
      close_burst = out.item.discont();
      break;
    case Item::Kind::kEvent:
      close_burst = GST_EVENT_TYPE(out.item.peek_event()) == GST_EVENT_EOS;
      break;
    case Item::Kind::kQuery:
      query_in_flight_ = true;
      break;
    case Item::Kind::kNone:
      break;
  }
  if (close_burst && burst_buffers_ > 0) {
    out.burst_buffers = std::exchange(burst_buffers_, 0);
    out.burst_bytes = std::exchange(burst_bytes_, 0);
    out.total_dropped = dropped_count_;
  } else {
    out.burst_buffers = 0;
  }
  const bool wake_sink = room_after_pop();
  lk.unlock();
  if (wake_sink)
    sink_cv_.notify_one();
  return true;
}

void Core::query_answered(bool result) {
  std::lock_guard<std::mutex> lk(mu_);
  query_result_ = result;
  query_done_ = true;
  query_in_flight_ = false;
  query_cv_.notify_all();
}

void Core::push_failed(GstFlowReturn ret) {
  std::lock_guard<std::mutex> lk(mu_);
  srcresult_ = ret;
  pause_task_locked();
  sink_cv_.notify_all();
  query_cv_.notify_all();
}

bool Core::eos_pushed() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!store_.empty())
    return false;  // a new stream is already queued behind the EOS: keep going
  srcresult_ = GST_FLOW_EOS;
  pause_task_locked();
  sink_cv_.notify_all();
  query_cv_.notify_all();
  return true;
}

GstFlowReturn Core::srcresult() const {
  std::lock_guard<std::mutex> lk(mu_);
  return flushing_ ? GST_FLOW_FLUSHING : srcresult_;
}

bool Core::eos() const {
  std::lock_guard<std::mutex> lk(mu_);
  return eos_;
}

bool Core::wait_sink_blocked(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return blocked_cv_.wait_for(lk, timeout, [this] { return sink_waiting_; });
}

// ---- stall timer ----

StallDetector::Fired Core::stall_timer_fired(GstClockTime now, std::uint64_t *dropped) {
  std::lock_guard<std::mutex> lk(mu_);
  if (dropped)
    *dropped = dropped_count_;
  if (!playing_) {
    stall_.timer_cancelled();  // fired as the pipeline left PLAYING
    return StallDetector::Fired();
  }
  return stall_.on_timer(now);
}

GstClockTime Core::set_playing(bool playing, GstClockTime now) {
  std::lock_guard<std::mutex> lk(mu_);
  playing_ = playing;
  stall_.reset();
  stall_.timer_cancelled();
  if (!playing || !full_ || !stall_.enabled())
    return GST_CLOCK_TIME_NONE;
  return stall_.on_full(now);
}

void Core::stall_timer_cancelled() {
  std::lock_guard<std::mutex> lk(mu_);
  stall_.timer_cancelled();
}

}  // namespace boundedqueue
