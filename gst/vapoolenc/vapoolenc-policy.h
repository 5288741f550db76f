// The policy of one vapoolenc bin's encoder slot, without pads: which candidate a stream gets
// (acquire in order, fall back, or refuse with an error), when a failed hardware encoder is
// swapped for software, whether a session that ends is parked or destroyed, and the frame
// accounting (in == out + lost + held). Everything that touches the bin, its pads and the
// encoder elements goes through SlotHost: the bin's glue (EncoderSlot, vapoolenc-slot.cc)
// implements it, unit tests drive the policy with a fake host and no pipeline.
#pragma once

#include "vapoolenc-pool.h"
#include "vapoolenc-selection.h"
#include "vapoolenc-settings.h"

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

namespace vapoolenc {

// A snapshot of the bin's properties, taken at NULL->READY and READY->PAUSED.
struct SlotConfig {
  SelectionRequest selection;
  Settings settings;
  AcquireLimits acquire;
  ParkLimits park;
};

// Counters and state the bin exposes as read-only properties.
struct SlotStatus {
  std::string encoder;  // factory in use, "" when none
  bool reused = false;
  unsigned failovers = 0;
  uint64_t frames_in = 0, frames_out = 0, frames_lost = 0, frames_held = 0;
};

// What the policy asks of the bin. Called on the streaming thread unless said otherwise.
class SlotHost {
 public:
  virtual ~SlotHost() = default;
  // Makes an encoder for `candidate` with `settings` applied and opens it (READY). The bin
  // uses open_encoder().
  virtual Created open(const Candidate &candidate, const SessionKey &key,
                       const Settings &settings) = 0;
  // Puts `encoder` between the bin's pads in the bin's state / takes it out of the bin.
  virtual void link(GstElement *encoder) = 0;
  virtual void unlink(GstElement *encoder) = 0;
  // Gives the linked encoder the stream's caps; true when it took them.
  virtual bool give_caps() = 0;
  // Asks the linked encoder for a keyframe with headers (after replaying the stream start).
  virtual bool force_keyframe() = 0;
  // Leaves an unlinked encoder PAUSED with no frames and no stream state, ready to park.
  virtual void reset_for_parking(GstElement *encoder, bool hardware) = 0;
  // Takes an unlinked encoder to NULL.
  virtual void stop(GstElement *encoder) = 0;
  // Why a candidate refused caps its template accepts ("" when nothing is known).
  virtual std::string refusal_reason(const Candidate &candidate) = 0;
  virtual void post_waiting(const std::string &factory, const std::string &why) = 0;
  virtual void post_error(const std::string &summary, const std::string &detail, bool busy) = 0;
  virtual void post_failover(const std::string &from, const std::string &to,
                             const std::string &reason, uint64_t lost) = 0;
  virtual void encoder_changed() = 0;
};

// The real SlotHost::open: creates the element, applies the settings, gives a VA encoder its
// node's shared display, opens it to READY on a private bus (so the encoder's own error text
// is returned).
Created open_encoder(const Candidate &candidate, const SessionKey &key, const Settings &settings);
// The real SlotHost::refusal_reason for VA encoders: the sessions vapoolenc holds on the node
// and the driver's last message, when either points at a context limit.
std::string va_refusal(SessionPool &pool, const Candidate &candidate);

class SlotPolicy {
 public:
  // `log_object` (borrowed, may be nullptr): the object log lines are about (the bin).
  explicit SlotPolicy(SlotHost &host, SessionPool &pool = SessionPool::global(),
                      GstObject *log_object = nullptr);
  SlotPolicy(const SlotPolicy &) = delete;
  SlotPolicy &operator=(const SlotPolicy &) = delete;

  // NULL->READY: selects the candidates. False with a text telling the user what to change.
  bool prepare(const SlotConfig &config, Availability &system, std::string *error);
  // NULL->READY and READY->PAUSED: prepare() when the selection changed (or nothing was
  // prepared), else only takes the new settings and limits.
  bool configure(const SlotConfig &config, Availability &system, std::string *error);
  bool prepared() const { return prepared_; }
  const Selection &selection() const { return selection_; }

  // Any thread: ends a wait for a session at once (flush, stop); resume() allows them again.
  void interrupt();
  void resume();
  bool interrupted() const { return interrupted_; }

  // Streaming thread, under the sink pad's stream lock.
  enum class Start { kOk, kFailed, kInterrupted };
  // Whether the current session was made for input caps `caps_key`.
  bool serves(const std::string &caps_key) const;
  // New input caps: parks the current session (if any), then acquires one for `caps_key`
  // (candidates in order, as device= allows), links it and gives it the caps. kFailed posted
  // an error; kInterrupted posted nothing.
  Start start(const std::string &caps_key);
  bool has_session() const { return has_session_; }
  // Before a frame goes to the encoder: fails over first when a failure is pending. On OK the
  // frame is counted in; otherwise the caller drops it and returns the result.
  GstFlowReturn frame_in();
  // After the encoder returned `ret` for that frame: fails over on an error where allowed.
  GstFlowReturn frame_done(GstFlowReturn ret);
  // EOS: fails over first when a failure is pending. False when that failed (error posted).
  bool eos();
  // PAUSED->READY (after the stream stopped): the session goes back to the pool.
  void release();
  // The bin is disposed while still holding a session: destroyed, not parked.
  void dispose();

  // The encoder's output thread: `n` frames leave the bin. False: drop them (they come from an
  // encoder being unlinked and are already counted lost).
  bool count_output(unsigned n);
  // The bus: an ERROR from `source`. True when failover will handle it (drop the message).
  bool on_child_error(GstObject *source, const std::string &reason);
  SlotStatus status();

 private:
  bool can_failover_locked() const;
  bool take_pending_failure(std::string *reason);
  void install(SessionPtr session, const Candidate *candidate);
  SessionPtr uninstall();
  void park_or_destroy(SessionPtr session, bool hardware, bool vaapi);
  GstFlowReturn failover(const std::string reason);

  SlotHost &host_;
  SessionPool &pool_;
  GstObject *log_;
  SlotConfig config_;
  Selection selection_;
  bool prepared_ = false;
  std::atomic<bool> interrupted_{false};

  // Streaming-thread state.
  SessionPtr current_;
  const Candidate *current_candidate_ = nullptr;
  std::string current_caps_key_;
  std::atomic<bool> has_session_{false};
  std::atomic<bool> drained_{true};  // no frame in since the last EOS or the install
  std::atomic<bool> installing_{false};

  // Shared with the output thread, the bus and the application.
  mutable std::mutex lock_;
  GstElement *current_element_ = nullptr;  // borrowed; for message source checks
  // Output is counted (and let through) only while set: cleared, with the loss computed, in
  // one step before an encoder is unlinked.
  bool counting_output_ = false;
  bool current_hardware_ = false;
  bool failover_pending_ = false;
  std::string failure_reason_;
  SlotStatus status_;
  uint64_t enc_in_ = 0, enc_out_ = 0;
};

}  // namespace vapoolenc
