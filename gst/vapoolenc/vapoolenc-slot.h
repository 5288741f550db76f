// The encoder slot of one vapoolenc bin: the GStreamer side of SlotPolicy (vapoolenc-policy.h).
// It owns the ghost pads' functions, links a session's encoder between them, and answers caps
// queries; which session runs, failover, parking and the accounting are the policy's.
#pragma once

#include "vapoolenc-policy.h"

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <string>

namespace vapoolenc {

class EncoderSlot : public SlotHost {
 public:
  // `bin` owns the slot and the two ghost pads (without targets at first).
  EncoderSlot(GstBin *bin, GstPad *sink_ghost, GstPad *src_ghost);
  ~EncoderSlot() override;
  EncoderSlot(const EncoderSlot &) = delete;
  EncoderSlot &operator=(const EncoderSlot &) = delete;

  // NULL->READY and READY->PAUSED: takes the bin's settings (selecting again, probing once per
  // process, when the selection changed). False with a text telling the user what to change.
  bool configure(const SlotConfig &config, std::string *error);
  // Ends a wait for a session on the streaming thread at once: called on FLUSH_START and by
  // the bin before it deactivates its sink pad at PAUSED->READY. Any thread.
  void interrupt() { policy_.interrupt(); }
  // READY->PAUSED: sessions may be acquired again.
  void resume() { policy_.resume(); }
  // PAUSED->READY, after the sink ghost pad was deactivated: the session goes back to the pool.
  void release();
  // From the bin's dispose, while its pads still exist.
  void dispose() { policy_.dispose(); }

  // Sink ghost pad functions (streaming thread).
  bool sink_event(GstPad *pad, GstObject *parent, GstEvent *event);
  bool sink_query(GstPad *pad, GstObject *parent, GstQuery *query);
  GstFlowReturn chain(GstPad *pad, GstObject *parent, GstBuffer *buffer);
  // Src ghost pad query function.
  bool src_query(GstPad *pad, GstObject *parent, GstQuery *query);

  // An ERROR message from a child. True when failover will handle it (drop the message).
  bool on_child_error(GstMessage *message);

  SlotStatus status() { return policy_.status(); }

  // SlotHost
  Created open(const Candidate &candidate, const SessionKey &key,
               const Settings &settings) override;
  void link(GstElement *encoder) override;
  void unlink(GstElement *encoder) override;
  bool give_caps() override;
  bool force_keyframe() override;
  void reset_for_parking(GstElement *encoder, bool hardware) override;
  void stop(GstElement *encoder) override;
  std::string refusal_reason(const Candidate &candidate) override;
  void post_waiting(const std::string &factory, const std::string &why) override;
  void post_error(const std::string &summary, const std::string &detail, bool busy) override;
  void post_failover(const std::string &from, const std::string &to, const std::string &reason,
                     uint64_t lost) override;
  void encoder_changed() override;

 private:
  bool handle_caps(GstPad *pad, GstObject *parent, GstEvent *event);
  // Acquires a session for the caps event `event` (policy_.start with give_caps forwarding it).
  SlotPolicy::Start start(GstPad *pad, GstObject *parent, GstEvent *event);
  // Whether the linked encoder's sink pad holds `caps` (any caps when nullptr).
  bool encoder_has_caps(GstCaps *caps);
  GstCaps *allowed_caps();
  static GstPadProbeReturn on_output(GstPad *pad, GstPadProbeInfo *info, gpointer self);

  GstBin *bin_;
  GstElement *element_;
  GstPad *sink_ghost_, *src_ghost_;
  SlotPolicy policy_;

  // Streaming thread: the caps event start() is handing to the encoder, and where from.
  GstEvent *caps_event_ = nullptr;
  GstPad *caps_pad_ = nullptr;
  GstObject *caps_parent_ = nullptr;
  // A caps event was taken while interrupted: the next buffer acquires the session.
  bool needs_session_ = false;
  std::atomic<bool> first_out_pending_{false};
  std::chrono::steady_clock::time_point acquired_at_;
};

}  // namespace vapoolenc
