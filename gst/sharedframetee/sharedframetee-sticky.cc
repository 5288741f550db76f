#include "sharedframetee-sticky.h"

namespace sft {

StickySet::Key StickySet::key_of(GstEvent *event) {
  const int type = GST_EVENT_TYPE(event);
  GQuark name = 0;
  if (GST_EVENT_TYPE(event) == GST_EVENT_TAG) {
    GstTagList *tags = nullptr;
    gst_event_parse_tag(event, &tags);
    name = static_cast<GQuark>(gst_tag_list_get_scope(tags)) + 1;
  } else if (GST_EVENT_IS_STICKY(event) &&
             (gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_STICKY_MULTI)) {
    const GstStructure *s = gst_event_get_structure(event);
    name = s ? gst_structure_get_name_id(s) : 0;
  }
  return {type, name};
}

void StickySet::apply(GstEvent *event) {
  if (!GST_EVENT_IS_STICKY(event))
    return;
  if (GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START) {
    for (auto it = events_.begin(); it != events_.end();) {
      const int type = it->first.first;
      const bool stream_tag = type == GST_EVENT_TAG &&
                              it->first.second == static_cast<GQuark>(GST_TAG_SCOPE_STREAM) + 1;
      if (type == GST_EVENT_EOS || type == GST_EVENT_STREAM_GROUP_DONE || stream_tag)
        it = events_.erase(it);
      else
        ++it;
    }
  }
  events_[key_of(event)] = steady::MiniRef<GstEvent>::share(event);
}

void StickySet::forget_for_flush() {
  for (auto it = events_.begin(); it != events_.end();) {
    const int type = it->first.first;
    if (type == GST_EVENT_SEGMENT || type == GST_EVENT_EOS)
      it = events_.erase(it);
    else
      ++it;
  }
}

bool StickySet::has(GstEventType type) const {
  for (const auto &entry : events_) {
    if (entry.first.first == type)
      return true;
  }
  return false;
}

std::vector<steady::MiniRef<GstEvent>> StickySet::events() const {
  std::vector<steady::MiniRef<GstEvent>> out;
  out.reserve(events_.size());
  for (const auto &entry : events_)
    out.push_back(entry.second);
  return out;
}

}  // namespace sft
