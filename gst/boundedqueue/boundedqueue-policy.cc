#include "boundedqueue-policy.h"

#include <utility>

namespace boundedqueue {

void DropPolicy::gap_at_tail() {
  incoming_discont_ = true;
  awaiting_keyframe_ = true;
}

void DropPolicy::drop_oldest(Store &s, std::vector<Item> &dropped) {
  std::size_t i = s.next_buffer(0);
  if (i == Store::kNone)
    return;
  dropped.push_back(s.erase(i));
  // What follows the dropped buffer up to the next keyframe depends on it.
  std::size_t j = s.next_buffer(i);
  if (j != Store::kNone && s.at(j).delta()) {
    want_keyframe_ = true;
    if (gop_aware_) {
      while (j != Store::kNone && s.at(j).delta()) {
        dropped.push_back(s.erase(j));
        j = s.next_buffer(j);
      }
    }
  }
  if (j == Store::kNone)
    gap_at_tail();
  else
    s.at(j).mark_discont();
}

void DropPolicy::drop_newest(Store &s, std::vector<Item> &dropped) {
  std::size_t i = s.last_buffer();
  if (i == Store::kNone)
    return;
  dropped.push_back(s.erase(i));
  gap_at_tail();
}

Admit DropPolicy::admit(Store &s, Item &incoming, std::vector<Item> &dropped) {
  const bool delta = incoming.delta();
  if (awaiting_keyframe_ && delta && gop_aware_) {
    want_keyframe_ = true;
    dropped.push_back(std::move(incoming));
    return Admit::kDropped;
  }
  if (full(s)) {
    switch (leaky_) {
      case Leaky::kNo:
        return Admit::kWait;
      case Leaky::kUpstream:
        dropped.push_back(std::move(incoming));
        gap_at_tail();
        return Admit::kDropped;
      case Leaky::kDownstream:
        while (full(s) && s.buffers() > 0)
          drop_oldest(s, dropped);
        break;
    }
  }
  if (awaiting_keyframe_) {
    if (!delta) {
      awaiting_keyframe_ = false;
      request_outstanding_ = false;
    } else {
      want_keyframe_ = true;
      if (gop_aware_) {
        dropped.push_back(std::move(incoming));
        return Admit::kDropped;
      }
    }
  } else if (!delta) {
    request_outstanding_ = false;
  }
  if (incoming_discont_) {
    incoming.mark_discont();
    incoming_discont_ = false;
  }
  s.push_back(std::move(incoming));
  return Admit::kEnqueued;
}

void DropPolicy::shrink(Store &s, std::vector<Item> &dropped) {
  switch (leaky_) {
    case Leaky::kNo:
      return;
    case Leaky::kUpstream:
      while (over(s) && s.buffers() > 0)
        drop_newest(s, dropped);
      return;
    case Leaky::kDownstream:
      while (over(s) && s.buffers() > 0)
        drop_oldest(s, dropped);
      return;
  }
}

void DropPolicy::drop_all_buffers(Store &s, std::vector<Item> &dropped) {
  std::size_t i = s.next_buffer(0);
  while (i != Store::kNone) {
    dropped.push_back(s.erase(i));
    i = s.next_buffer(i);
  }
}

void DropPolicy::reset() {
  awaiting_keyframe_ = false;
  incoming_discont_ = false;
  want_keyframe_ = false;
  request_outstanding_ = false;
}

bool DropPolicy::take_keyframe_request(std::int64_t now_us) {
  if (!want_keyframe_)
    return false;
  want_keyframe_ = false;
  if (request_outstanding_ && now_us - last_request_us_ < kKeyframeRequestIntervalUs)
    return false;
  request_outstanding_ = true;
  last_request_us_ = now_us;
  return true;
}

}  // namespace boundedqueue
