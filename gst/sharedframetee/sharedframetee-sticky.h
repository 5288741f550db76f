// The sticky-event state of a stream at one position: what a branch must receive before it
// resumes at that position (stream-start, caps, segment, tags, EOS...).
#pragma once

#include <gst/gst.h>

#include <map>
#include <utility>
#include <vector>

#include "steady-ptr.h"

namespace sft {

class StickySet {
 public:
  // Records a sticky event, replacing the previous one of the same kind. A stream-start
  // forgets the EOS, stream-group-done and stream-scoped tags of the previous stream.
  void apply(GstEvent *event);
  // What a flush-stop forgets: the segment and the EOS.
  void forget_for_flush();
  void clear() { events_.clear(); }
  bool empty() const { return events_.empty(); }
  bool has(GstEventType type) const;
  // The events in the order a pad stores sticky events (by event type).
  std::vector<steady::MiniRef<GstEvent>> events() const;

 private:
  // Kind of a sticky event: its type plus, for sticky-multi events, a name telling the
  // instances apart (structure name, or the scope for tag events).
  using Key = std::pair<int, GQuark>;
  static Key key_of(GstEvent *event);
  std::map<Key, steady::MiniRef<GstEvent>> events_;
};

}  // namespace sft
