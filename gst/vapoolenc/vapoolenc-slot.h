// The encoder slot of one vapoolenc bin: which session it runs, how a session is installed
// between the ghost pads, released to the pool, or swapped for software on failure.
#pragma once

#include "vapoolenc-pool.h"
#include "vapoolenc-selection.h"
#include "vapoolenc-settings.h"

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

namespace vapoolenc {

// A snapshot of the bin's properties, taken at NULL->READY.
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

class EncoderSlot {
 public:
  // `bin` owns the slot and the two ghost pads (without targets at first).
  EncoderSlot(GstBin *bin, GstPad *sink_ghost, GstPad *src_ghost);
  ~EncoderSlot();
  EncoderSlot(const EncoderSlot &) = delete;
  EncoderSlot &operator=(const EncoderSlot &) = delete;

  // NULL->READY: selects the candidates (probing once per process). False with a text telling
  // the user what to change.
  bool prepare(const SlotConfig &config, std::string *error);
  // NULL->READY and READY->PAUSED: prepare() when the selection differs from the prepared one
  // (or nothing was prepared), else only takes the new settings and limits.
  bool configure(const SlotConfig &config, std::string *error);
  // Ends a wait for a session (at max-sessions) or the opening of one on the streaming thread
  // at once: called on FLUSH_START and by the bin before it deactivates its sink pad at
  // PAUSED->READY (which waits for the streaming thread). Any thread.
  void interrupt();
  // READY->PAUSED: sessions may be acquired again.
  void resume();
  // PAUSED->READY, after the sink ghost pad was deactivated: the session goes back to the pool.
  void release();
  // From the bin's dispose, while its pads still exist.
  void dispose();

  // Sink ghost pad functions (streaming thread).
  bool sink_event(GstPad *pad, GstObject *parent, GstEvent *event);
  bool sink_query(GstPad *pad, GstObject *parent, GstQuery *query);
  GstFlowReturn chain(GstPad *pad, GstObject *parent, GstBuffer *buffer);
  // Src ghost pad query function.
  bool src_query(GstPad *pad, GstObject *parent, GstQuery *query);

  // An ERROR message from a child. True when failover will handle it (drop the message).
  bool on_child_error(GstMessage *message);

  SlotStatus status();

 private:
  bool handle_caps(GstPad *pad, GstObject *parent, GstEvent *event);
  enum class Start { kOk, kFailed, kInterrupted };
  // Acquires a session for the caps event `ev`, installs it and gives it the caps. kFailed
  // posted an error; kInterrupted (flush or stop) posted nothing.
  Start start_session(GstPad *pad, GstObject *parent, GstEvent *ev);
  std::string va_refusal(const Candidate &c);
  Created create_session(const Candidate &candidate, const SessionKey &key);
  void install(SessionPtr session);
  SessionPtr uninstall();
  bool force_keyframe();
  bool can_failover();
  // Whether a child error awaits failover (and its text).
  bool take_pending_failure(std::string *reason);
  // Leaves a session ready to park: PAUSED, no frames, no stream state.
  static void reset_for_parking(GstElement *element, bool hardware);
  // Parks the session just uninstalled, or destroys it when it cannot be parked safely.
  void park_or_destroy(SessionPtr session, bool hardware, bool vaapi);
  // By value: the reason usually comes from failure_reason_, which failover() clears.
  GstFlowReturn failover(const std::string reason);
  // Whether the installed encoder's sink pad holds `caps` (any caps when nullptr).
  bool encoder_has_caps(GstCaps *caps);
  GstCaps *allowed_caps();
  void post_error(const char *summary, const std::string &detail, bool busy);
  static GstPadProbeReturn on_output(GstPad *pad, GstPadProbeInfo *info, gpointer self);

  GstBin *bin_;
  GstElement *element_;
  GstPad *sink_ghost_, *src_ghost_;
  SlotConfig config_;
  Selection selection_;
  bool prepared_ = false;

  // Streaming-thread state (serialised by the sink pad's stream lock; release() runs after
  // the pad was deactivated).
  SessionPtr current_;
  // No frame entered the current encoder since its last EOS (or since it was installed).
  std::atomic<bool> drained_{true};
  std::atomic<bool> has_encoder_{false};  // current_ != nullptr, readable from any thread
  const Candidate *current_candidate_ = nullptr;
  std::atomic<bool> installing_{false};
  // Set by interrupt(), cleared by FLUSH_STOP and resume().
  std::atomic<bool> interrupted_{false};
  // A caps event was taken while interrupted: the next buffer acquires the session.
  bool needs_session_ = false;
  std::string current_caps_key_;
  std::chrono::steady_clock::time_point acquired_at_;

  // Shared with the application and other threads.
  std::mutex lock_;
  GstElement *current_element_ = nullptr;  // borrowed; for message source checks
  // Output of the current encoder is counted (and let through) only while this is set: it is
  // cleared, and the lost frames computed, in one step before an encoder is unlinked, so a
  // buffer the encoder still pushes afterwards is dropped and stays counted as lost.
  bool counting_output_ = false;
  bool current_hardware_ = false;
  bool failover_pending_ = false;
  std::string failure_reason_;
  SlotStatus status_;
  std::atomic<uint64_t> enc_in_{0}, enc_out_{0};
  std::atomic<bool> first_out_pending_{false};
};

}  // namespace vapoolenc
