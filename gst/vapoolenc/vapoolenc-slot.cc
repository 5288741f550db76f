#include "vapoolenc-slot.h"

#include "vapoolenc-display.h"

#include <gst/video/video.h>
#include <steady-ptr.h>

namespace vapoolenc {

GST_DEBUG_CATEGORY_STATIC(slot_debug);
#define GST_CAT_DEFAULT slot_debug

using steady::MiniRef;
using steady::ObjectRef;

EncoderSlot::EncoderSlot(GstBin *bin, GstPad *sink_ghost, GstPad *src_ghost)
    : bin_(bin), element_(GST_ELEMENT(bin)), sink_ghost_(sink_ghost), src_ghost_(src_ghost) {
  static std::once_flag once;
  std::call_once(once,
                 [] { GST_DEBUG_CATEGORY_INIT(slot_debug, "vapoolenc", 0, "vapoolenc bin"); });
  gst_pad_add_probe(
      src_ghost_,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      on_output, this, nullptr);
}

EncoderSlot::~EncoderSlot() = default;

void EncoderSlot::dispose() {
  // A bin disposed while still holding a session (never taken through PAUSED->READY): the
  // session is destroyed, not parked. Runs before the bin drops its pads and children.
  if (current_) {
    SessionPtr s = uninstall();
    gst_element_set_state(s->element(), GST_STATE_NULL);
    SessionPool::global().discard(std::move(s), "bin disposed while streaming");
  }
}

bool EncoderSlot::prepare(const SlotConfig &config, std::string *error) {
  config_ = config;
  SystemAvailability system(ProbeCache::global());
  selection_ = select_candidates(config.selection, system);
  prepared_ = selection_.ok;
  if (!selection_.ok) {
    *error = selection_.error;
    return false;
  }
  std::string list;
  for (const auto &c : selection_.candidates)
    list += (list.empty() ? "" : ", ") + c.factory + (c.node.empty() ? "" : " on " + c.node);
  GST_INFO_OBJECT(
      element_, "device=%s codec=%s candidates: %s%s%s", device_name(config.selection.device),
      codec_name(selection_.codec), list.c_str(),
      selection_.rejected.empty() ? "" : "; rejected: ", join(selection_.rejected, "; ").c_str());
  return true;
}

SlotStatus EncoderSlot::status() {
  std::lock_guard<std::mutex> guard(lock_);
  SlotStatus s = status_;
  s.frames_held = enc_in_ - enc_out_;
  return s;
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
  self->enc_out_ += n;
  {
    std::lock_guard<std::mutex> guard(self->lock_);
    self->status_.frames_out += n;
  }
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

Created EncoderSlot::create_session(const Candidate &c, const SessionKey &key) {
  Created out;
  GstElement *e = gst_element_factory_make(key.factory.c_str(), nullptr);
  if (!e) {
    out.error = key.factory + " could not be created";
    return out;
  }
  auto element = ObjectRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(e)));
  apply_settings(e, key.factory, config_.settings);
  std::shared_ptr<DisplayHandle> display;
  if (!c.node.empty() && (c.kind == EncoderKind::kVa || c.kind == EncoderKind::kVaapi)) {
    display = DisplayRegistry::global().lease(c.node);
    display->prepare(e, c.kind);
  }
  // A private bus while opening, so the encoder's own error text reaches the user.
  auto bus = ObjectRef<GstBus>::adopt(gst_bus_new());
  gst_element_set_bus(e, bus.get());
  GstStateChangeReturn ret = gst_element_set_state(e, GST_STATE_READY);
  gst_element_set_bus(e, nullptr);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    out.error = key.factory + " failed to open";
    if (auto msg = MiniRef<GstMessage>::adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR))) {
      GError *err = nullptr;
      gst_message_parse_error(msg.get(), &err, nullptr);
      out.error += std::string(": ") + (err ? err->message : "error");
      g_clear_error(&err);
    }
    gst_element_set_state(e, GST_STATE_NULL);
    return out;
  }
  gst_bus_set_flushing(bus.get(), TRUE);
  if (display)
    display->capture(e, c.kind);
  out.element = element.release();
  out.keep = display;
  return out;
}

void EncoderSlot::install(SessionPtr session) {
  GstElement *e = session->element();
  gst_bin_add(bin_, e);
  auto sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(e, "sink"));
  auto src = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(e, "src"));
  enc_in_ = 0;
  enc_out_ = 0;
  gst_ghost_pad_set_target(GST_GHOST_PAD(src_ghost_), src.get());
  gst_ghost_pad_set_target(GST_GHOST_PAD(sink_ghost_), sink.get());
  gst_element_sync_state_with_parent(e);
  {
    std::lock_guard<std::mutex> guard(lock_);
    current_element_ = e;
    current_hardware_ = current_candidate_ && current_candidate_->hardware();
    status_.encoder = session->key().factory;
    status_.reused = session->reused();
  }
  acquired_at_ = std::chrono::steady_clock::now();
  first_out_pending_ = true;
  current_ = std::move(session);
  drained_ = true;
  has_encoder_ = true;
}

SessionPtr EncoderSlot::uninstall() {
  gst_ghost_pad_set_target(GST_GHOST_PAD(sink_ghost_), nullptr);
  gst_ghost_pad_set_target(GST_GHOST_PAD(src_ghost_), nullptr);
  has_encoder_ = false;
  SessionPtr s = std::move(current_);
  GstElement *e = s->element();
  gst_object_ref(e);  // the session's own reference stays; this one covers the removal
  gst_bin_remove(bin_, e);
  gst_object_unref(e);
  {
    std::lock_guard<std::mutex> guard(lock_);
    current_element_ = nullptr;
    current_hardware_ = false;
    status_.frames_lost += enc_in_ - enc_out_;
  }
  enc_in_ = 0;
  enc_out_ = 0;
  return s;
}

bool EncoderSlot::force_keyframe() {
  // Through the ghost pad's internal pad: its pending sticky events (stream-start, caps,
  // segment) go first, so the encoder sees a complete fresh stream start.
  auto internal =
      ObjectRef<GstProxyPad>::adopt(gst_proxy_pad_get_internal(GST_PROXY_PAD(sink_ghost_)));
  return gst_pad_push_event(GST_PAD(internal.get()), gst_video_event_new_downstream_force_key_unit(
                                                         GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE,
                                                         GST_CLOCK_TIME_NONE, TRUE, 0));
}

void EncoderSlot::post_error(const char *summary, const std::string &detail, bool busy) {
  GError *err = g_error_new_literal(GST_RESOURCE_ERROR,
                                    busy ? GST_RESOURCE_ERROR_BUSY : GST_RESOURCE_ERROR_FAILED,
                                    (std::string(summary) + ": " + detail).c_str());
  gst_element_post_message(element_,
                           gst_message_new_error(GST_OBJECT(element_), err, detail.c_str()));
  g_error_free(err);
}

bool EncoderSlot::handle_caps(GstPad *pad, GstObject *parent, GstEvent *event) {
  auto ev = MiniRef<GstEvent>::adopt(event);
  GstCaps *caps = nullptr;
  gst_event_parse_caps(ev.get(), &caps);
  const std::string ckey = caps_key(caps);
  current_caps_key_ = ckey;
  if (current_ && current_->key().caps == ckey)
    return gst_pad_event_default(pad, parent, GST_EVENT(gst_event_ref(ev.get())));
  if (!prepared_) {
    post_error("not configured", "vapoolenc received caps before reaching READY", false);
    return false;
  }
  if (current_) {
    // New input format mid-stream: the session's key changes. Park the old one.
    GST_INFO_OBJECT(element_, "input caps changed to %s: swapping sessions", ckey.c_str());
    const bool hardware = current_candidate_ && current_candidate_->hardware();
    const bool vaapi = current_candidate_ && current_candidate_->kind == EncoderKind::kVaapi;
    park_or_destroy(uninstall(), hardware, vaapi);
  }

  const bool is_auto = config_.selection.device == Device::kAuto;
  bool had_hardware = false;
  std::vector<std::string> failures;
  bool limit_hit = false;
  bool driver_limit = false;  // a VA driver refused a context while others were held
  for (const Candidate &c : selection_.candidates) {
    SessionKey key{c.factory, c.node, ckey, config_.settings.key()};
    AcquireLimits limits = c.hardware() ? config_.acquire : AcquireLimits{};
    had_hardware = had_hardware || c.hardware();
    auto acquired = SessionPool::global().acquire(
        key, limits, [&](const SessionKey &k) { return create_session(c, k); },
        [&](const std::string &why) {
          gst_element_post_message(
              element_,
              gst_message_new_element(GST_OBJECT(element_),
                                      gst_structure_new("vapoolenc-waiting", "encoder",
                                                        G_TYPE_STRING, c.factory.c_str(), "reason",
                                                        G_TYPE_STRING, why.c_str(), nullptr)));
        });
    if (acquired.outcome == SessionPool::Outcome::kLimit ||
        acquired.outcome == SessionPool::Outcome::kFailed) {
      limit_hit = limit_hit || acquired.outcome == SessionPool::Outcome::kLimit;
      failures.push_back(acquired.error);
      GST_INFO_OBJECT(element_, "%s not available: %s", c.factory.c_str(), acquired.error.c_str());
      if (is_auto)
        continue;
      break;
    }
    current_candidate_ = &c;
    {
      std::lock_guard<std::mutex> guard(lock_);
      failover_pending_ = false;
    }
    installing_ = true;
    install(std::move(acquired.session));
    // A refused sticky event still "succeeds" for the pusher (it stays stored for a retry), so
    // check that the encoder really took the caps.
    bool ok = gst_pad_event_default(pad, parent, GST_EVENT(gst_event_ref(ev.get()))) &&
              encoder_has_caps(caps);
    installing_ = false;
    if (ok) {
      force_keyframe();
      if (!c.hardware() && had_hardware) {
        SessionPool::global().count_fallback();
        GST_WARNING_OBJECT(element_, "FALLBACK to %s: %s", c.factory.c_str(),
                           join(failures, "; ").c_str());
      }
      GST_INFO_OBJECT(element_, "encoding %s with %s%s%s (%s session)", ckey.c_str(),
                      c.factory.c_str(), c.node.empty() ? "" : " on ", c.node.c_str(),
                      current_->reused() ? "reused" : "new");
      g_object_notify(G_OBJECT(element_), "encoder");
      return true;
    }
    std::string refusal = c.factory + " refused input caps " + ckey;
    const std::string why = va_refusal(c);
    driver_limit = driver_limit || !why.empty();
    failures.push_back(refusal + why);
    SessionPtr failed = uninstall();
    gst_element_set_state(failed->element(), GST_STATE_NULL);
    SessionPool::global().discard(std::move(failed), "refused caps");
    current_candidate_ = nullptr;
    if (!is_auto)
      break;
  }
  post_error(limit_hit ? "encoder session limit reached" : "no encoder accepted the input",
             "device=" + std::string(device_name(config_.selection.device)) + ": " +
                 join(failures, "; ") +
                 (limit_hit      ? ". Raise max-sessions or acquire-timeout, or use device=auto to "
                                   "fall back to software"
                  : driver_limit ? ". Set max-sessions to the driver's limit to wait for a free "
                                   "session, or use device=auto to fall back to software"
                                 : ""),
             limit_hit);
  return false;
}

bool EncoderSlot::encoder_has_caps(GstCaps *caps) {
  auto sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(current_->element(), "sink"));
  auto current = MiniRef<GstCaps>::adopt(gst_pad_get_current_caps(sink.get()));
  return current && (!caps || gst_caps_is_equal(current.get(), caps));
}

// A VA encoder that refuses caps its template accepts has, as a rule, failed to create its
// VA context: the driver is out of contexts. Says so with what vapoolenc knows (the sessions
// holding contexts on the node, still counting the refusing one) and the driver's own message
// when it gave one. "" when neither points at a limit.
std::string EncoderSlot::va_refusal(const Candidate &c) {
  if (c.node.empty() || (c.kind != EncoderKind::kVa && c.kind != EncoderKind::kVaapi))
    return "";
  const unsigned on_node = SessionPool::global().sessions_on_node(c.node);
  const unsigned held = on_node > 0 ? on_node - 1 : 0;
  const std::string driver = DisplayRegistry::global().lease(c.node)->take_driver_error();
  if (held == 0 && driver.empty())
    return "";
  std::string why = " (VA context limit: the driver refused a new context while " +
                    std::to_string(held) + " vapoolenc session(s) held contexts on " + c.node;
  if (!driver.empty())
    why += "; driver: \"" + driver + "\"";
  return why + ")";
}

bool EncoderSlot::sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS:
      return handle_caps(pad, parent, event);
    case GST_EVENT_EOS:
      if (!has_encoder_)  // nothing was ever encoded: EOS still reaches downstream
        return gst_pad_push_event(src_ghost_, event);
      drained_ = true;  // the encoder drains at EOS
      break;
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
      if (!has_encoder_)
        return gst_pad_push_event(src_ghost_, event);
      break;
    default:
      break;
  }
  bool sticky = GST_EVENT_IS_STICKY(event);
  bool ok = gst_pad_event_default(pad, parent, event);
  // Without an encoder yet, sticky events wait on the internal pad for the session.
  return ok || (sticky && !has_encoder_);
}

// Puts the formats of `preferred` first in `caps` (takes both).
static GstCaps *prefer(GstCaps *preferred, GstCaps *caps) {
  GstCaps *first = gst_caps_intersect_full(preferred, caps, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref(preferred);
  return gst_caps_merge(first, caps);
}

GstCaps *EncoderSlot::allowed_caps() {
  GstCaps *result = nullptr;
  for (const Candidate &c : selection_.candidates) {
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
  if (has_encoder_ && GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
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
  if (has_encoder_ || !prepared_)
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
  if (!has_encoder_ && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY)
    return gst_pad_peer_query(sink_ghost_, query);  // not encoding yet: upstream's latency
  return gst_pad_query_default(pad, parent, query);
}

bool EncoderSlot::can_failover() {
  return config_.selection.device == Device::kAuto && current_hardware_ &&
         selection_.software() != nullptr;
}

bool EncoderSlot::on_child_error(GstMessage *message) {
  std::lock_guard<std::mutex> guard(lock_);
  if (!current_element_ || !can_failover())
    return false;
  GstObject *src = GST_MESSAGE_SRC(message);
  if (src != GST_OBJECT(current_element_) &&
      !gst_object_has_as_ancestor(src, GST_OBJECT(current_element_)))
    return false;
  GError *err = nullptr;
  gst_message_parse_error(message, &err, nullptr);
  failure_reason_ = err ? err->message : "encoder error";
  g_clear_error(&err);
  if (!installing_)
    failover_pending_ = true;
  GST_WARNING_OBJECT(element_, "hardware encoder %s failed: %s", GST_OBJECT_NAME(src),
                     failure_reason_.c_str());
  return true;
}

GstFlowReturn EncoderSlot::failover(const std::string reason) {
  const Candidate *sw = selection_.software();
  const std::string from = current_->key().factory;
  uint64_t lost_before;
  {
    std::lock_guard<std::mutex> guard(lock_);
    lost_before = status_.frames_lost;
    failover_pending_ = false;
  }
  // Frames the failed encoder took and never returned are counted as lost here.
  SessionPtr failed = uninstall();
  uint64_t lost;
  {
    std::lock_guard<std::mutex> guard(lock_);
    lost = status_.frames_lost - lost_before;
    status_.failovers++;
    failure_reason_.clear();
  }
  SessionPool::global().discard(std::move(failed), "failover: " + reason);

  SessionKey key{sw->factory, sw->node, current_caps_key_, config_.settings.key()};
  auto acquired = SessionPool::global().acquire(
      key, AcquireLimits{}, [&](const SessionKey &k) { return create_session(*sw, k); });
  if (!acquired.session) {
    post_error("failover failed", from + " failed (" + reason + ") and " + acquired.error, false);
    return GST_FLOW_ERROR;
  }
  current_candidate_ = sw;
  install(std::move(acquired.session));
  if (!force_keyframe() || !encoder_has_caps(nullptr)) {
    post_error("failover failed",
               from + " failed (" + reason + ") and " + sw->factory + " refused the input caps",
               false);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GST_WARNING_OBJECT(element_, "FAILOVER from %s to %s: %s; %" G_GUINT64_FORMAT " frame(s) lost",
                     from.c_str(), sw->factory.c_str(), reason.c_str(), lost);
  GstStructure *details =
      gst_structure_new("vapoolenc-failover", "from", G_TYPE_STRING, from.c_str(), "to",
                        G_TYPE_STRING, sw->factory.c_str(), "reason", G_TYPE_STRING, reason.c_str(),
                        "frames-lost", G_TYPE_UINT64, static_cast<guint64>(lost), nullptr);
  gst_element_post_message(
      element_, gst_message_new_element(GST_OBJECT(element_), gst_structure_copy(details)));
  const std::string text =
      "hardware encoder " + from + " failed (" + reason + "); switched to " + sw->factory;
  GError *err = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE, text.c_str());
  gst_element_post_message(element_, gst_message_new_warning_with_details(GST_OBJECT(element_), err,
                                                                          text.c_str(), details));
  g_error_free(err);
  g_object_notify(G_OBJECT(element_), "encoder");
  return GST_FLOW_OK;
}

GstFlowReturn EncoderSlot::chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  if (!current_)
    return gst_proxy_pad_chain_default(pad, parent, buffer);
  bool pending;
  {
    std::lock_guard<std::mutex> guard(lock_);
    pending = failover_pending_;
  }
  if (pending && can_failover()) {
    std::string reason;
    {
      std::lock_guard<std::mutex> guard(lock_);
      reason = failure_reason_.empty() ? "encoder error" : failure_reason_;
    }
    GstFlowReturn r = failover(reason);
    if (r != GST_FLOW_OK) {
      gst_buffer_unref(buffer);
      return r;
    }
  }
  enc_in_++;
  {
    std::lock_guard<std::mutex> guard(lock_);
    status_.frames_in++;
  }
  drained_.store(false, std::memory_order_relaxed);
  GstFlowReturn ret = gst_proxy_pad_chain_default(pad, parent, buffer);
  if (ret == GST_FLOW_ERROR && can_failover()) {
    std::string reason;
    {
      std::lock_guard<std::mutex> guard(lock_);
      reason = failure_reason_.empty() ? "flow error" : failure_reason_;
    }
    return failover(reason);
  }
  return ret;
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

void EncoderSlot::release() {
  if (!current_)
    return;
  const bool hardware = current_candidate_ && current_candidate_->hardware();
  const bool vaapi = current_candidate_ && current_candidate_->kind == EncoderKind::kVaapi;
  SessionPtr s = uninstall();
  GstElement *e = s->element();
  bool broken;
  {
    std::lock_guard<std::mutex> guard(lock_);
    broken = failover_pending_;
    failover_pending_ = false;
  }
  if (broken) {
    gst_element_set_state(e, GST_STATE_NULL);
    SessionPool::global().discard(std::move(s), "failed during the session");
    return;
  }
  park_or_destroy(std::move(s), hardware, vaapi);
}

void EncoderSlot::park_or_destroy(SessionPtr s, bool hardware, bool vaapi) {
  const bool drained = drained_.exchange(true);
  if (vaapi && !drained) {
    // gstreamer-vaapi encoders cannot be flushed while their output task still waits for
    // frames (GLib-CRITICAL in g_async_queue_unref), and they re-create their VA context on
    // a flush anyway: parking one stopped mid-stream would gain nothing. After EOS it parks.
    GstElement *e = s->element();
    gst_element_set_state(e, GST_STATE_NULL);
    SessionPool::global().discard(std::move(s), "vaapi encoder stopped mid-stream (no EOS)");
    return;
  }
  reset_for_parking(s->element(), hardware);
  SessionPool::global().release(std::move(s), config_.park);
}

}  // namespace vapoolenc
