// The shared ring: the recent items (buffers and serialized events) of the stream, each
// with a sequence number. Branches read it through cursors (sharedframetee-hub.h); the ring
// itself only stores, counts and answers "where is the newest keyframe".
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <deque>

#include "sharedframetee-sticky.h"
#include "steady-ptr.h"

namespace sft {

using Seq = std::uint64_t;

struct Item {
  Seq seq = 0;
  steady::MiniRef<GstMiniObject> object;
  bool is_buffer = false;
  bool keyframe = false;  // buffers without GST_BUFFER_FLAG_DELTA_UNIT
  bool sticky = false;    // sticky events
  // Number of buffers that entered the ring before this item: counts buffers between two
  // positions in O(1).
  std::uint64_t buffers_before = 0;
  GstClockTime timestamp = GST_CLOCK_TIME_NONE;
  std::uint64_t bytes = 0;

  GstBuffer *buffer() const { return GST_BUFFER_CAST(object.get()); }
  GstEvent *event() const { return GST_EVENT_CAST(object.get()); }
};

class Ring {
 public:
  // Appends a buffer or an event (takes the reference).
  void push_buffer(GstBuffer *buffer);
  void push_event(GstEvent *event);
  // Removes the oldest item; its sticky events move into the base state. The ring must not
  // be empty.
  Item pop_oldest();
  // Drops every item (flush); their sticky events move into the base state.
  void clear();

  bool empty() const { return items_.empty(); }
  Seq tail() const { return head_ - items_.size(); }  // oldest seq held
  Seq head() const { return head_; }                  // seq the next item will get
  const Item &at(Seq seq) const { return items_[seq - tail()]; }

  std::uint64_t buffers_held() const { return buffers_held_; }
  std::uint64_t events_held() const { return items_.size() - buffers_held_; }
  std::uint64_t bytes_held() const { return bytes_held_; }
  std::uint64_t peak_bytes_held() const { return peak_bytes_; }
  std::uint64_t buffers_total() const { return buffers_total_; }
  // Buffers held at positions >= seq.
  std::uint64_t buffers_from(Seq seq) const;
  // Time between the oldest and the newest timestamped buffer (0 when unknown).
  GstClockTime time_span() const;

  // Oldest buffer held; head() when none.
  Seq oldest_buffer() const;
  // Newest keyframe / newest buffer at a position >= from; head() when there is none.
  Seq newest_keyframe_from(Seq from) const;
  Seq newest_buffer_from(Seq from) const;

  // The sticky events in force just before position pos (tail() <= pos <= head()).
  StickySet sticky_at(Seq pos) const;
  StickySet &base_sticky() { return base_sticky_; }

 private:
  void append(Item item);

  std::deque<Item> items_;
  Seq head_ = 0;
  std::uint64_t buffers_held_ = 0;
  std::uint64_t bytes_held_ = 0;
  std::uint64_t peak_bytes_ = 0;
  std::uint64_t buffers_total_ = 0;
  // Sticky state in force at tail(): every sticky event that left the ring.
  StickySet base_sticky_;
};

}  // namespace sft
