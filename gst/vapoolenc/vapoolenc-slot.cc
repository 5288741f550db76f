#include "vapoolenc-slot.h"

#include "vapoolenc-selection.h"

#include <gst/video/video.h>
#include <steady-ptr.h>

namespace vapoolenc {

GST_DEBUG_CATEGORY_STATIC(slot_debug);
#define GST_CAT_DEFAULT slot_debug

using steady::MiniRef;
using steady::ObjectRef;

EncoderSlot::EncoderSlot(GstBin *bin, GstPad *sink_ghost, GstPad *src_ghost)
    : bin_(bin),
      element_(GST_ELEMENT(bin)),
      sink_ghost_(sink_ghost),
      src_ghost_(src_ghost),
      policy_(*this, SessionPool::global(), GST_OBJECT(bin)) {
  static std::once_flag once;
  std::call_once(once,
                 [] { GST_DEBUG_CATEGORY_INIT(slot_debug, "vapoolenc", 0, "vapoolenc bin"); });
  gst_pad_add_probe(
      src_ghost_,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      on_output, this, nullptr);
}

EncoderSlot::~EncoderSlot() = default;

bool EncoderSlot::configure(const SlotConfig &config, std::string *error) {
  SystemAvailability system(ProbeCache::global());
  return policy_.configure(config, system, error);
}

void EncoderSlot::release() {
  needs_session_ = false;
  policy_.release();
}

GstPadProbeReturn EncoderSlot::on_output(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *self = static_cast<EncoderSlot *>(data);
  unsigned n = 0;
  GstBuffer *first = nullptr;
  if (GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info)) {
    if (GST_IS_BUFFER(buf)) {
      first = buf;
      n = carries_picture(buf) ? 1 : 0;
    }
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    n = 0;
    for (guint i = 0; i < gst_buffer_list_length(list); i++) {
      GstBuffer *b = gst_buffer_list_get(list, i);
      first = first ? first : b;
      n += carries_picture(b) ? 1 : 0;
    }
  }
  if (!self->policy_.count_output(n))
    return GST_PAD_PROBE_DROP;  // from an encoder being unlinked: already counted lost
  if (first && self->first_out_pending_.exchange(false)) {
    GST_INFO_OBJECT(
        self->element_, "FIRST_BUFFER %s %.1f ms after acquire",
        GST_BUFFER_FLAG_IS_SET(first, GST_BUFFER_FLAG_DELTA_UNIT) ? "delta" : "keyframe",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                  self->acquired_at_)
            .count());
  }
  return GST_PAD_PROBE_OK;
}

// SlotHost ---------------------------------------------------------------------------------

Created EncoderSlot::open(const Candidate &c, const SessionKey &key, const Settings &settings) {
  return open_encoder(c, key, settings);
}

void EncoderSlot::link(GstElement *e) {
  gst_bin_add(bin_, e);
  auto sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(e, "sink"));
  auto src = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(e, "src"));
  gst_ghost_pad_set_target(GST_GHOST_PAD(src_ghost_), src.get());
  gst_ghost_pad_set_target(GST_GHOST_PAD(sink_ghost_), sink.get());
  gst_element_sync_state_with_parent(e);
  acquired_at_ = std::chrono::steady_clock::now();
  first_out_pending_ = true;
}

void EncoderSlot::unlink(GstElement *e) {
  gst_ghost_pad_set_target(GST_GHOST_PAD(sink_ghost_), nullptr);
  gst_ghost_pad_set_target(GST_GHOST_PAD(src_ghost_), nullptr);
  gst_object_ref(e);  // the session's own reference stays; this one covers the removal
  gst_bin_remove(bin_, e);
  gst_object_unref(e);
}

bool EncoderSlot::give_caps() {
  // A refused sticky event still "succeeds" for the pusher (it stays stored for a retry), so
  // check that the encoder really took the caps.
  GstCaps *caps = nullptr;
  gst_event_parse_caps(caps_event_, &caps);
  return gst_pad_event_default(caps_pad_, caps_parent_, GST_EVENT(gst_event_ref(caps_event_))) &&
         encoder_has_caps(caps);
}

bool EncoderSlot::force_keyframe() {
  // Through the ghost pad's internal pad: its pending sticky events (stream-start, caps,
  // segment) go first, so the encoder sees a complete fresh stream start.
  auto internal =
      ObjectRef<GstProxyPad>::adopt(gst_proxy_pad_get_internal(GST_PROXY_PAD(sink_ghost_)));
  return gst_pad_push_event(GST_PAD(internal.get()), gst_video_event_new_downstream_force_key_unit(
                                                         GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE,
                                                         GST_CLOCK_TIME_NONE, TRUE, 0)) &&
         encoder_has_caps(nullptr);
}

void EncoderSlot::reset_for_parking(GstElement *e, bool hardware) {
  if (hardware) {
    // Keep the hardware context: PAUSED, flushed (frames, EOS and segment dropped).
    gst_element_set_state(e, GST_STATE_PAUSED);
    auto sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(e, "sink"));
    gst_pad_send_event(sink.get(), gst_event_new_flush_start());
    gst_pad_send_event(sink.get(), gst_event_new_flush_stop(TRUE));
  } else {
    // Software encoders hold no device context, and several (vp8enc, openh264enc) cannot
    // encode again after draining at EOS: a READY round trip restarts them cleanly.
    gst_element_set_state(e, GST_STATE_READY);
    gst_element_set_state(e, GST_STATE_PAUSED);
  }
}

void EncoderSlot::stop(GstElement *e) {
  gst_element_set_state(e, GST_STATE_NULL);
}

std::string EncoderSlot::refusal_reason(const Candidate &c) {
  return va_refusal(SessionPool::global(), c);
}

void EncoderSlot::post_waiting(const std::string &factory, const std::string &why) {
  gst_element_post_message(
      element_, gst_message_new_element(GST_OBJECT(element_),
                                        gst_structure_new("vapoolenc-waiting", "encoder",
                                                          G_TYPE_STRING, factory.c_str(), "reason",
                                                          G_TYPE_STRING, why.c_str(), nullptr)));
}

void EncoderSlot::post_error(const std::string &summary, const std::string &detail, bool busy) {
  GError *err = g_error_new_literal(GST_RESOURCE_ERROR,
                                    busy ? GST_RESOURCE_ERROR_BUSY : GST_RESOURCE_ERROR_FAILED,
                                    (summary + ": " + detail).c_str());
  gst_element_post_message(element_,
                           gst_message_new_error(GST_OBJECT(element_), err, detail.c_str()));
  g_error_free(err);
}

void EncoderSlot::post_failover(const std::string &from, const std::string &to,
                                const std::string &reason, uint64_t lost) {
  GstStructure *details =
      gst_structure_new("vapoolenc-failover", "from", G_TYPE_STRING, from.c_str(), "to",
                        G_TYPE_STRING, to.c_str(), "reason", G_TYPE_STRING, reason.c_str(),
                        "frames-lost", G_TYPE_UINT64, static_cast<guint64>(lost), nullptr);
  gst_element_post_message(
      element_, gst_message_new_element(GST_OBJECT(element_), gst_structure_copy(details)));
  const std::string text =
      "hardware encoder " + from + " failed (" + reason + "); switched to " + to;
  GError *err = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE, text.c_str());
  gst_element_post_message(element_, gst_message_new_warning_with_details(GST_OBJECT(element_), err,
                                                                          text.c_str(), details));
  g_error_free(err);
}

void EncoderSlot::encoder_changed() {
  g_object_notify(G_OBJECT(element_), "encoder");
}

// Pads ---------------------------------------------------------------------------------------

SlotPolicy::Start EncoderSlot::start(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstCaps *caps = nullptr;
  gst_event_parse_caps(event, &caps);
  caps_event_ = event;
  caps_pad_ = pad;
  caps_parent_ = parent;
  SlotPolicy::Start r = policy_.start(caps_key(caps));
  caps_event_ = nullptr;
  caps_pad_ = nullptr;
  caps_parent_ = nullptr;
  return r;
}

bool EncoderSlot::handle_caps(GstPad *pad, GstObject *parent, GstEvent *event) {
  auto ev = MiniRef<GstEvent>::adopt(event);
  GstCaps *caps = nullptr;
  gst_event_parse_caps(ev.get(), &caps);
  if (policy_.serves(caps_key(caps)))
    return gst_pad_event_default(pad, parent, GST_EVENT(gst_event_ref(ev.get())));
  needs_session_ = false;
  switch (start(pad, parent, ev.get())) {
    case SlotPolicy::Start::kOk:
      return true;
    case SlotPolicy::Start::kInterrupted:
      // A flush or a stop interrupted the wait: no error. The caps stay on the pad and the
      // first buffer after the flush acquires the session.
      needs_session_ = true;
      return true;
    case SlotPolicy::Start::kFailed:
    default:
      return false;
  }
}

bool EncoderSlot::encoder_has_caps(GstCaps *caps) {
  auto sink = ObjectRef<GstPad>::adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(sink_ghost_)));
  if (!sink)
    return false;
  auto current = MiniRef<GstCaps>::adopt(gst_pad_get_current_caps(sink.get()));
  return current && (!caps || gst_caps_is_equal(current.get(), caps));
}

bool EncoderSlot::sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  const bool has_encoder = policy_.has_session();
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS:
      return handle_caps(pad, parent, event);
    case GST_EVENT_EOS:
      if (!has_encoder)  // nothing was ever encoded: EOS still reaches downstream
        return gst_pad_push_event(src_ghost_, event);
      if (!policy_.eos()) {  // a pending failover failed: its error is posted
        gst_event_unref(event);
        return false;
      }
      break;
    case GST_EVENT_FLUSH_START:
      policy_.interrupt();
      if (!has_encoder)
        return gst_pad_push_event(src_ghost_, event);
      break;
    case GST_EVENT_FLUSH_STOP:
      policy_.resume();
      if (!has_encoder)
        return gst_pad_push_event(src_ghost_, event);
      break;
    default:
      break;
  }
  bool sticky = GST_EVENT_IS_STICKY(event);
  bool ok = gst_pad_event_default(pad, parent, event);
  // Without an encoder yet, sticky events wait on the internal pad for the session.
  return ok || (sticky && !policy_.has_session());
}

GstFlowReturn EncoderSlot::chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  if (!policy_.has_session() && needs_session_) {
    // The caps arrived while a flush interrupted the acquire: acquire now.
    auto caps = MiniRef<GstEvent>::adopt(gst_pad_get_sticky_event(pad, GST_EVENT_CAPS, 0));
    SlotPolicy::Start r = caps ? start(pad, parent, caps.get()) : SlotPolicy::Start::kFailed;
    if (r != SlotPolicy::Start::kOk) {
      gst_buffer_unref(buffer);
      return r == SlotPolicy::Start::kInterrupted ? GST_FLOW_FLUSHING : GST_FLOW_NOT_NEGOTIATED;
    }
    needs_session_ = false;
  }
  if (!policy_.has_session())
    return gst_proxy_pad_chain_default(pad, parent, buffer);
  GstFlowReturn r = policy_.frame_in();
  if (r != GST_FLOW_OK) {
    gst_buffer_unref(buffer);
    return r;
  }
  return policy_.frame_done(gst_proxy_pad_chain_default(pad, parent, buffer));
}

bool EncoderSlot::on_child_error(GstMessage *message) {
  GError *err = nullptr;
  gst_message_parse_error(message, &err, nullptr);
  const std::string reason = err ? err->message : "encoder error";
  g_clear_error(&err);
  return policy_.on_child_error(GST_MESSAGE_SRC(message), reason);
}

// Puts the formats of `preferred` first in `caps` (takes both).
static GstCaps *prefer(GstCaps *preferred, GstCaps *caps) {
  GstCaps *first = gst_caps_intersect_full(preferred, caps, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref(preferred);
  return gst_caps_merge(first, caps);
}

GstCaps *EncoderSlot::allowed_caps() {
  GstCaps *result = nullptr;
  for (const Candidate &c : policy_.selection().candidates) {
    GstElementFactory *f = gst_element_factory_find(c.factory.c_str());
    if (!f)
      continue;
    GstCaps *templ = nullptr;
    for (const GList *l = gst_element_factory_get_static_pad_templates(f); l; l = l->next) {
      auto *t = static_cast<GstStaticPadTemplate *>(l->data);
      if (t->direction == GST_PAD_SINK) {
        templ = gst_static_caps_get(&t->static_caps);
        break;
      }
    }
    gst_object_unref(f);
    if (!templ)
      continue;
    if (!result) {
      result = templ;
    } else {
      GstCaps *both = gst_caps_intersect(result, templ);
      gst_caps_unref(templ);
      if (gst_caps_is_empty(both)) {  // keep what the preferred candidate takes
        gst_caps_unref(both);
      } else {
        gst_caps_unref(result);
        result = both;
      }
    }
  }
  if (!result)
    return gst_pad_get_pad_template_caps(sink_ghost_);
  // Offer the 8-bit 4:2:0 formats hardware encoders take first, so an unconstrained upstream
  // (videotestsrc) does not settle on the first format of a software encoder's template
  // (x264enc lists 10-bit 4:4:4 first).
  return prefer(gst_caps_from_string("video/x-raw, format=(string){ NV12, I420 }"), result);
}

bool EncoderSlot::sink_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  if (policy_.has_session() && GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
    // Installing an encoder relinks the ghost pad, which makes upstream renegotiate: keep the
    // current format first so it does not wander to another one (and another session key).
    if (!gst_pad_query_default(pad, parent, query))
      return false;
    GstCaps *current = gst_pad_get_current_caps(pad);
    if (current) {
      GstCaps *result = nullptr;
      gst_query_parse_caps_result(query, &result);
      auto reordered = MiniRef<GstCaps>::adopt(prefer(current, gst_caps_ref(result)));
      gst_query_set_caps_result(query, reordered.get());
    }
    return true;
  }
  if (policy_.has_session() || !policy_.prepared())
    return gst_pad_query_default(pad, parent, query);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter = nullptr;
      gst_query_parse_caps(query, &filter);
      auto caps = MiniRef<GstCaps>::adopt(allowed_caps());
      if (filter) {
        caps = MiniRef<GstCaps>::adopt(
            gst_caps_intersect_full(filter, caps.get(), GST_CAPS_INTERSECT_FIRST));
      }
      gst_query_set_caps_result(query, caps.get());
      return true;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps *caps = nullptr;
      gst_query_parse_accept_caps(query, &caps);
      auto allowed = MiniRef<GstCaps>::adopt(allowed_caps());
      gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, allowed.get()));
      return true;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

bool EncoderSlot::src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  if (!policy_.has_session() && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY)
    return gst_pad_peer_query(sink_ghost_, query);  // not encoding yet: upstream's latency
  return gst_pad_query_default(pad, parent, query);
}

}  // namespace vapoolenc
