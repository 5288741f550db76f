// What a boundedqueue holds: buffers, serialized events and serialized queries in arrival
// order, with the byte/buffer/time levels and their peaks kept up to date on every change.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <utility>

#include "boundedqueue-ring.h"

namespace boundedqueue {

// One held item. Buffers and events are owned (one reference); a serialized query is
// borrowed from the thread that waits for its answer, so it is never unreffed here.
class Item {
 public:
  enum class Kind : std::uint8_t { kNone, kBuffer, kEvent, kQuery };

  Item() = default;
  static Item buffer(GstBuffer *buf, GstClockTime rt_start, GstClockTime rt_end);
  static Item event(GstEvent *event);
  static Item query(GstQuery *query);

  Item(Item &&o) noexcept { *this = std::move(o); }
  Item &operator=(Item &&o) noexcept;
  Item(const Item &) = delete;
  Item &operator=(const Item &) = delete;
  ~Item() { reset(); }

  void reset();
  Kind kind() const { return kind_; }
  bool is_buffer() const { return kind_ == Kind::kBuffer; }
  bool delta() const { return delta_; }
  bool discont() const { return discont_; }
  void mark_discont() { discont_ = true; }
  std::uint64_t bytes() const { return bytes_; }
  GstClockTime rt_start() const { return rt_start_; }
  GstClockTime rt_end() const { return rt_end_; }
  bool timed() const { return GST_CLOCK_TIME_IS_VALID(rt_start_); }

  GstBuffer *peek_buffer() const { return GST_BUFFER_CAST(obj_); }
  GstEvent *peek_event() const { return GST_EVENT_CAST(obj_); }
  GstQuery *peek_query() const { return GST_QUERY_CAST(obj_); }
  // Gives the owned reference (or the borrowed query) to the caller.
  GstMiniObject *release() {
    kind_ = Kind::kNone;
    return std::exchange(obj_, nullptr);
  }

 private:
  GstMiniObject *obj_ = nullptr;
  Kind kind_ = Kind::kNone;
  bool delta_ = false;
  bool discont_ = false;
  std::uint64_t bytes_ = 0;
  GstClockTime rt_start_ = GST_CLOCK_TIME_NONE;
  GstClockTime rt_end_ = GST_CLOCK_TIME_NONE;
};

struct Levels {
  std::uint64_t buffers = 0;
  std::uint64_t bytes = 0;
  GstClockTime time = 0;
};

// The held items and their levels. Not thread-safe: the owner locks.
class Store {
 public:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  bool empty() const { return ring_.empty(); }
  std::size_t size() const { return ring_.size(); }
  std::uint64_t buffers() const { return buffers_; }
  std::uint64_t bytes() const { return bytes_; }
  // Running time spanned by the held buffers: end of the newest timed buffer minus the
  // start of the oldest (0 when fewer than one timed buffer is held).
  GstClockTime time() const;
  Levels levels() const { return {buffers_, bytes_, time()}; }
  std::uint64_t peak_buffers() const { return peak_buffers_; }
  std::uint64_t peak_bytes() const { return peak_bytes_; }
  void reset_peaks() {
    peak_buffers_ = buffers_;
    peak_bytes_ = bytes_;
  }

  Item &at(std::size_t i) { return ring_.at(i); }
  const Item &at(std::size_t i) const { return ring_.at(i); }

  void push_back(Item &&item);
  Item pop_front();
  // Removes the item at index i (buffers or not), keeping the order of the rest.
  Item erase(std::size_t i);
  // Index of the first/last buffer at or after/before `from`, or kNone.
  std::size_t next_buffer(std::size_t from) const;
  std::size_t last_buffer() const;

 private:
  void account_out(const Item &item);

  Ring<Item> ring_;
  std::uint64_t buffers_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t timed_ = 0;  // held buffers with a valid running time
  std::uint64_t peak_buffers_ = 0;
  std::uint64_t peak_bytes_ = 0;
};

}  // namespace boundedqueue
