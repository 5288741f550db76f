#include "vapoolenc-policy.h"

#include "vapoolenc-display.h"

#include <steady-ptr.h>

namespace vapoolenc {

GST_DEBUG_CATEGORY_STATIC(policy_debug);
#define GST_CAT_DEFAULT policy_debug

using steady::MiniRef;
using steady::ObjectRef;

Created open_encoder(const Candidate &c, const SessionKey &key, const Settings &settings) {
  Created out;
  GstElement *e = gst_element_factory_make(key.factory.c_str(), nullptr);
  if (!e) {
    out.error = key.factory + " could not be created";
    return out;
  }
  auto element = ObjectRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(e)));
  apply_settings(e, key.factory, settings);
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

// A VA encoder that refuses caps its template accepts has, as a rule, failed to create its
// VA context: the driver is out of contexts. Says so with what vapoolenc knows (the sessions
// holding contexts on the node, still counting the refusing one) and the driver's own message
// when it gave one. "" when neither points at a limit.
std::string va_refusal(SessionPool &pool, const Candidate &c) {
  if (c.node.empty() || (c.kind != EncoderKind::kVa && c.kind != EncoderKind::kVaapi))
    return "";
  const unsigned on_node = pool.sessions_on_node(c.node);
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

SlotPolicy::SlotPolicy(SlotHost &host, SessionPool &pool, GstObject *log_object)
    : host_(host), pool_(pool), log_(log_object) {
  static std::once_flag once;
  // The bin's own category: candidate lists, FALLBACK and FAILOVER are logged there.
  std::call_once(once,
                 [] { GST_DEBUG_CATEGORY_INIT(policy_debug, "vapoolenc", 0, "vapoolenc bin"); });
}

bool SlotPolicy::prepare(const SlotConfig &config, Availability &system, std::string *error) {
  config_ = config;
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
      log_, "device=%s codec=%s candidates: %s%s%s", device_name(config.selection.device),
      codec_name(selection_.codec), list.c_str(),
      selection_.rejected.empty() ? "" : "; rejected: ", join(selection_.rejected, "; ").c_str());
  return true;
}

bool SlotPolicy::configure(const SlotConfig &config, Availability &system, std::string *error) {
  if (!prepared_ || !(config.selection == config_.selection))
    return prepare(config, system, error);
  if (!(config.settings == config_.settings))
    GST_INFO_OBJECT(log_, "settings changed to %s", config.settings.key().c_str());
  config_ = config;
  return true;
}

void SlotPolicy::interrupt() {
  interrupted_ = true;
  pool_.wake_waiters();
}

void SlotPolicy::resume() {
  interrupted_ = false;
}

SlotStatus SlotPolicy::status() {
  std::lock_guard<std::mutex> guard(lock_);
  SlotStatus s = status_;
  s.frames_held = enc_in_ - enc_out_;
  return s;
}

bool SlotPolicy::serves(const std::string &caps_key) const {
  return current_ && current_->key().caps == caps_key;
}

void SlotPolicy::install(SessionPtr session, const Candidate *candidate) {
  GstElement *e = session->element();
  current_candidate_ = candidate;
  {
    std::lock_guard<std::mutex> guard(lock_);
    enc_in_ = 0;
    enc_out_ = 0;
    failover_pending_ = false;
  }
  host_.link(e);
  {
    std::lock_guard<std::mutex> guard(lock_);
    current_element_ = e;
    counting_output_ = true;
    current_hardware_ = candidate && candidate->hardware();
    status_.encoder = session->key().factory;
    status_.reused = session->reused();
  }
  current_ = std::move(session);
  drained_ = true;
  has_session_ = true;
}

SessionPtr SlotPolicy::uninstall() {
  {
    // First stop counting its output, in the same step as the loss is computed: an encoder
    // with an output thread of its own (vaapih264enc) may still push while it is unlinked.
    std::lock_guard<std::mutex> guard(lock_);
    counting_output_ = false;
    current_element_ = nullptr;
    current_hardware_ = false;
    status_.frames_lost += enc_in_ - enc_out_;
    enc_in_ = 0;
    enc_out_ = 0;
  }
  has_session_ = false;
  SessionPtr s = std::move(current_);
  host_.unlink(s->element());
  return s;
}

SlotPolicy::Start SlotPolicy::start(const std::string &ckey) {
  if (current_) {
    // New input format mid-stream: the session's key changes. Park the old one.
    GST_INFO_OBJECT(log_, "input caps changed to %s: swapping sessions", ckey.c_str());
    const bool hardware = current_candidate_ && current_candidate_->hardware();
    const bool vaapi = current_candidate_ && current_candidate_->kind == EncoderKind::kVaapi;
    park_or_destroy(uninstall(), hardware, vaapi);
  }
  current_caps_key_ = ckey;
  if (!prepared_) {
    host_.post_error("not configured", "vapoolenc received caps before reaching READY", false);
    return Start::kFailed;
  }
  const bool is_auto = config_.selection.device == Device::kAuto;
  bool had_hardware = false;
  std::vector<std::string> failures;
  bool limit_hit = false;
  bool driver_limit = false;  // a VA driver refused a context while others were held
  for (const Candidate &c : selection_.candidates) {
    if (interrupted_) {
      GST_INFO_OBJECT(log_, "interrupted (flushing) before trying %s", c.factory.c_str());
      return Start::kInterrupted;
    }
    SessionKey key{c.factory, c.node, ckey, config_.settings.key()};
    AcquireLimits limits = c.hardware() ? config_.acquire : AcquireLimits{};
    had_hardware = had_hardware || c.hardware();
    auto acquired = pool_.acquire(
        key, limits, [&](const SessionKey &k) { return host_.open(c, k, config_.settings); },
        [&](const std::string &why) { host_.post_waiting(c.factory, why); }, &interrupted_);
    if (acquired.outcome == SessionPool::Outcome::kInterrupted) {
      GST_INFO_OBJECT(log_, "%s: %s", c.factory.c_str(), acquired.error.c_str());
      return Start::kInterrupted;
    }
    if (acquired.outcome == SessionPool::Outcome::kLimit ||
        acquired.outcome == SessionPool::Outcome::kFailed) {
      limit_hit = limit_hit || acquired.outcome == SessionPool::Outcome::kLimit;
      failures.push_back(acquired.error);
      GST_INFO_OBJECT(log_, "%s not available: %s", c.factory.c_str(), acquired.error.c_str());
      if (is_auto)
        continue;
      break;
    }
    installing_ = true;
    install(std::move(acquired.session), &c);
    // A refused sticky event still "succeeds" for the pusher (it stays stored for a retry), so
    // the host checks that the encoder really took the caps.
    const bool ok = host_.give_caps();
    installing_ = false;
    if (ok) {
      host_.force_keyframe();
      if (!c.hardware() && had_hardware) {
        pool_.count_fallback();
        GST_WARNING_OBJECT(log_, "FALLBACK to %s: %s", c.factory.c_str(),
                           join(failures, "; ").c_str());
      }
      GST_INFO_OBJECT(log_, "encoding %s with %s%s%s (%s session)", ckey.c_str(), c.factory.c_str(),
                      c.node.empty() ? "" : " on ", c.node.c_str(),
                      current_->reused() ? "reused" : "new");
      host_.encoder_changed();
      return Start::kOk;
    }
    const std::string why = host_.refusal_reason(c);
    driver_limit = driver_limit || !why.empty();
    failures.push_back(c.factory + " refused input caps " + ckey + why);
    SessionPtr failed = uninstall();
    host_.stop(failed->element());
    pool_.discard(std::move(failed), "refused caps");
    current_candidate_ = nullptr;
    if (!is_auto)
      break;
  }
  host_.post_error(limit_hit ? "encoder session limit reached" : "no encoder accepted the input",
                   "device=" + std::string(device_name(config_.selection.device)) + ": " +
                       join(failures, "; ") +
                       (limit_hit ? ". Raise max-sessions or acquire-timeout, or use device=auto "
                                    "to fall back to software"
                        : driver_limit ? ". Set max-sessions to the driver's limit to wait for a "
                                         "free session, or use device=auto to fall back to "
                                         "software"
                                       : ""),
                   limit_hit);
  return Start::kFailed;
}

bool SlotPolicy::can_failover_locked() const {
  return config_.selection.device == Device::kAuto && current_hardware_ &&
         selection_.software() != nullptr;
}

bool SlotPolicy::take_pending_failure(std::string *reason) {
  std::lock_guard<std::mutex> guard(lock_);
  *reason = failure_reason_;
  return failover_pending_ && can_failover_locked();
}

bool SlotPolicy::on_child_error(GstObject *src, const std::string &reason) {
  std::lock_guard<std::mutex> guard(lock_);
  if (!current_element_ || !can_failover_locked())
    return false;
  if (src != GST_OBJECT(current_element_) &&
      !gst_object_has_as_ancestor(src, GST_OBJECT(current_element_)))
    return false;
  failure_reason_ = reason;
  if (!installing_)
    failover_pending_ = true;
  GST_WARNING_OBJECT(log_, "hardware encoder %s failed: %s", GST_OBJECT_NAME(src), reason.c_str());
  return true;
}

bool SlotPolicy::count_output(unsigned n) {
  std::lock_guard<std::mutex> guard(lock_);
  if (!counting_output_)
    return false;  // from an encoder being unlinked: already counted lost
  enc_out_ += n;
  status_.frames_out += n;
  return true;
}

GstFlowReturn SlotPolicy::failover(const std::string reason) {
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
  pool_.discard(std::move(failed), "failover: " + reason);

  SessionKey key{sw->factory, sw->node, current_caps_key_, config_.settings.key()};
  auto acquired = pool_.acquire(key, AcquireLimits{}, [&](const SessionKey &k) {
    return host_.open(*sw, k, config_.settings);
  });
  const std::string failed_text =
      from + " failed (" + reason + "; " + std::to_string(lost) + " frame(s) lost) and ";
  if (!acquired.session) {
    host_.post_error("failover failed", failed_text + acquired.error, false);
    return GST_FLOW_ERROR;
  }
  install(std::move(acquired.session), sw);
  if (!host_.force_keyframe()) {
    host_.post_error("failover failed", failed_text + sw->factory + " refused the input caps",
                     false);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GST_WARNING_OBJECT(log_, "FAILOVER from %s to %s: %s; %" G_GUINT64_FORMAT " frame(s) lost",
                     from.c_str(), sw->factory.c_str(), reason.c_str(), lost);
  host_.post_failover(from, sw->factory, reason, lost);
  host_.encoder_changed();
  return GST_FLOW_OK;
}

GstFlowReturn SlotPolicy::frame_in() {
  std::string reason;
  if (take_pending_failure(&reason)) {
    GstFlowReturn r = failover(reason.empty() ? "encoder error" : reason);
    if (r != GST_FLOW_OK)
      return r;
  }
  {
    std::lock_guard<std::mutex> guard(lock_);
    enc_in_++;
    status_.frames_in++;
  }
  drained_.store(false, std::memory_order_relaxed);
  return GST_FLOW_OK;
}

GstFlowReturn SlotPolicy::frame_done(GstFlowReturn ret) {
  std::string reason;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (ret != GST_FLOW_ERROR || !can_failover_locked())
      return ret;
    reason = failure_reason_.empty() ? "flow error" : failure_reason_;
  }
  return failover(reason);
}

bool SlotPolicy::eos() {
  // An error the encoder reported without failing a buffer (its output thread, say) is
  // handled here at the latest: fail over before EOS, so the stream never ends "cleanly" with
  // frames missing. If failing over fails, failover() posts an ERROR naming them.
  std::string reason;
  if (take_pending_failure(&reason) &&
      failover(reason.empty() ? "encoder error" : reason) != GST_FLOW_OK)
    return false;
  drained_ = true;  // the encoder drains at EOS
  return true;
}

void SlotPolicy::release() {
  if (!current_)
    return;
  const bool hardware = current_candidate_ && current_candidate_->hardware();
  const bool vaapi = current_candidate_ && current_candidate_->kind == EncoderKind::kVaapi;
  bool broken;
  {
    std::lock_guard<std::mutex> guard(lock_);
    broken = failover_pending_;
    failover_pending_ = false;
  }
  SessionPtr s = uninstall();
  if (broken) {
    host_.stop(s->element());
    pool_.discard(std::move(s), "failed during the session");
    return;
  }
  park_or_destroy(std::move(s), hardware, vaapi);
}

void SlotPolicy::dispose() {
  if (current_) {
    SessionPtr s = uninstall();
    host_.stop(s->element());
    pool_.discard(std::move(s), "bin disposed while streaming");
  }
}

void SlotPolicy::park_or_destroy(SessionPtr s, bool hardware, bool vaapi) {
  const bool drained = drained_.exchange(true);
  if (vaapi && !drained) {
    // gstreamer-vaapi encoders cannot be flushed while their output task still waits for
    // frames (GLib-CRITICAL in g_async_queue_unref), and they re-create their VA context on
    // a flush anyway: parking one stopped mid-stream would gain nothing. After EOS it parks.
    host_.stop(s->element());
    pool_.discard(std::move(s), "vaapi encoder stopped mid-stream (no EOS)");
    return;
  }
  host_.reset_for_parking(s->element(), hardware);
  pool_.release(std::move(s), config_.park);
}

}  // namespace vapoolenc
