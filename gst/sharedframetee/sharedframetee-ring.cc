#include "sharedframetee-ring.h"

#include <utility>

namespace sft {

void Ring::append(Item item) {
  item.seq = head_++;
  item.buffers_before = buffers_total_;
  if (item.is_buffer) {
    ++buffers_total_;
    ++buffers_held_;
    bytes_held_ += item.bytes;
    if (bytes_held_ > peak_bytes_)
      peak_bytes_ = bytes_held_;
  }
  items_.push_back(std::move(item));
}

void Ring::push_buffer(GstBuffer *buffer) {
  Item item;
  item.is_buffer = true;
  item.keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  item.timestamp = GST_BUFFER_DTS_OR_PTS(buffer);
  item.bytes = gst_buffer_get_size(buffer);
  item.object = steady::MiniRef<GstMiniObject>::adopt(GST_MINI_OBJECT_CAST(buffer));
  append(std::move(item));
}

void Ring::push_event(GstEvent *event) {
  Item item;
  item.sticky = GST_EVENT_IS_STICKY(event);
  item.object = steady::MiniRef<GstMiniObject>::adopt(GST_MINI_OBJECT_CAST(event));
  append(std::move(item));
}

Item Ring::pop_oldest() {
  Item item = std::move(items_.front());
  items_.pop_front();
  if (item.is_buffer) {
    --buffers_held_;
    bytes_held_ -= item.bytes;
  } else if (item.sticky) {
    base_sticky_.apply(item.event());
  }
  return item;
}

void Ring::clear() {
  // A flush drops data, not stream state: caps or tags still in the ring stay in force.
  for (const Item &item : items_) {
    if (item.sticky)
      base_sticky_.apply(item.event());
  }
  items_.clear();
  buffers_held_ = 0;
  bytes_held_ = 0;
}

std::uint64_t Ring::buffers_from(Seq seq) const {
  if (seq >= head_)
    return 0;
  return buffers_total_ - at(seq).buffers_before;
}

GstClockTime Ring::time_span() const {
  GstClockTime first = GST_CLOCK_TIME_NONE, last = GST_CLOCK_TIME_NONE;
  for (const Item &item : items_) {
    if (item.is_buffer && GST_CLOCK_TIME_IS_VALID(item.timestamp)) {
      first = item.timestamp;
      break;
    }
  }
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (it->is_buffer && GST_CLOCK_TIME_IS_VALID(it->timestamp)) {
      last = it->timestamp;
      break;
    }
  }
  if (!GST_CLOCK_TIME_IS_VALID(first) || !GST_CLOCK_TIME_IS_VALID(last) || last < first)
    return 0;
  return last - first;
}

Seq Ring::oldest_buffer() const {
  for (Seq s = tail(); s < head_; ++s) {
    if (at(s).is_buffer)
      return s;
  }
  return head_;
}

Seq Ring::newest_keyframe_from(Seq from) const {
  for (Seq s = head_; s > from && s > tail();) {
    --s;
    const Item &item = at(s);
    if (item.is_buffer && item.keyframe)
      return s;
  }
  return head_;
}

Seq Ring::newest_buffer_from(Seq from) const {
  for (Seq s = head_; s > from && s > tail();) {
    --s;
    if (at(s).is_buffer)
      return s;
  }
  return head_;
}

StickySet Ring::sticky_at(Seq pos) const {
  StickySet set = base_sticky_;
  for (Seq s = tail(); s < pos && s < head_; ++s) {
    const Item &item = at(s);
    if (item.sticky)
      set.apply(item.event());
  }
  return set;
}

}  // namespace sft
