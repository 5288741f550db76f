#include "boundedqueue-store.h"

namespace boundedqueue {

Item Item::buffer(GstBuffer *buf, GstClockTime rt_start, GstClockTime rt_end) {
  Item item;
  item.obj_ = GST_MINI_OBJECT_CAST(buf);
  item.kind_ = Kind::kBuffer;
  item.delta_ = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  item.bytes_ = gst_buffer_get_size(buf);
  item.rt_start_ = rt_start;
  item.rt_end_ = GST_CLOCK_TIME_IS_VALID(rt_end) ? rt_end : rt_start;
  return item;
}

Item Item::event(GstEvent *event) {
  Item item;
  item.obj_ = GST_MINI_OBJECT_CAST(event);
  item.kind_ = Kind::kEvent;
  return item;
}

Item Item::query(GstQuery *query) {
  Item item;
  item.obj_ = GST_MINI_OBJECT_CAST(query);
  item.kind_ = Kind::kQuery;
  return item;
}

Item &Item::operator=(Item &&o) noexcept {
  if (this != &o) {
    reset();
    obj_ = std::exchange(o.obj_, nullptr);
    kind_ = std::exchange(o.kind_, Kind::kNone);
    delta_ = o.delta_;
    discont_ = o.discont_;
    bytes_ = o.bytes_;
    rt_start_ = o.rt_start_;
    rt_end_ = o.rt_end_;
  }
  return *this;
}

void Item::reset() {
  GstMiniObject *obj = std::exchange(obj_, nullptr);
  if (obj && kind_ != Kind::kQuery)
    gst_mini_object_unref(obj);
  kind_ = Kind::kNone;
}

GstClockTime Store::time() const {
  if (timed_ == 0)
    return 0;
  GstClockTime first = GST_CLOCK_TIME_NONE;
  for (std::size_t i = 0; i < ring_.size(); ++i) {
    const Item &it = ring_.at(i);
    if (it.is_buffer() && it.timed()) {
      first = it.rt_start();
      break;
    }
  }
  GstClockTime last = GST_CLOCK_TIME_NONE;
  for (std::size_t i = ring_.size(); i > 0; --i) {
    const Item &it = ring_.at(i - 1);
    if (it.is_buffer() && it.timed()) {
      last = it.rt_end();
      break;
    }
  }
  return last > first ? last - first : 0;
}

void Store::push_back(Item &&item) {
  if (item.is_buffer()) {
    ++buffers_;
    bytes_ += item.bytes();
    if (item.timed())
      ++timed_;
    if (buffers_ > peak_buffers_)
      peak_buffers_ = buffers_;
    if (bytes_ > peak_bytes_)
      peak_bytes_ = bytes_;
  }
  ring_.push_back(std::move(item));
}

void Store::account_out(const Item &item) {
  if (!item.is_buffer())
    return;
  --buffers_;
  bytes_ -= item.bytes();
  if (item.timed())
    --timed_;
}

Item Store::pop_front() {
  Item item = ring_.pop_front();
  account_out(item);
  return item;
}

Item Store::erase(std::size_t i) {
  Item item = (i + 1 == ring_.size()) ? ring_.pop_back() : ring_.erase(i);
  account_out(item);
  return item;
}

std::size_t Store::next_buffer(std::size_t from) const {
  for (std::size_t i = from; i < ring_.size(); ++i)
    if (ring_.at(i).is_buffer())
      return i;
  return kNone;
}

std::size_t Store::last_buffer() const {
  for (std::size_t i = ring_.size(); i > 0; --i)
    if (ring_.at(i - 1).is_buffer())
      return i - 1;
  return kNone;
}

}  // namespace boundedqueue
