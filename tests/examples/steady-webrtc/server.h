// The streamer: one source pipeline (live source, timestamp painter, the one shared encoder,
// the fan-out) and one bin per peer added to it and removed from it while the source runs.
// A peer's bin is its queue, a payloader and its own webrtcbin. Peers are driven by the
// Signalling (offer from here, answer and ICE candidates from the peer) and removed when they
// disconnect, stop sending messages for --peer-timeout, fail ICE, or their branch errors or is
// evicted. Every peer bin and webrtcbin is counted when created and when finalized.
// Runs on the main context; GStreamer threads only post tasks to it.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "keyframe-gate.h"
#include "options.h"
#include "signalling.h"
#include "steady-ptr.h"

namespace steady_webrtc {

class Server {
 public:
  using FatalFn = std::function<void(const std::string &error)>;
  Server(const Options &options, FatalFn on_fatal);
  ~Server();

  bool start(std::string &error);
  // Removes every peer and stops the source; true when every peer bin and webrtcbin was freed.
  bool shutdown();
  std::string url() const { return signalling_.url(); }
  std::string status_line(double uptime_s);
  std::string final_summary() const;

 private:
  struct Peer;
  struct Task;

  // Signalling handlers.
  void on_connected(std::uint64_t id);
  void on_message(std::uint64_t id, JsonObject *message);
  void on_closed(std::uint64_t id);

  bool add_peer(std::uint64_t id, std::string &error);
  void remove_peer(std::uint64_t id, const std::string &reason);
  void finish_removal(std::unique_ptr<Peer> peer);
  Peer *find(std::uint64_t id);
  Peer *owner_of(GstObject *object);

  // From GStreamer threads to the main context.
  void post(std::uint64_t id, std::function<void(Server &, Peer &)> fn);
  static gboolean run_task(gpointer task);
  static void on_negotiation_needed(GstElement *webrtc, gpointer token);
  static void on_ice_candidate(GstElement *webrtc, guint mline, gchar *candidate, gpointer token);
  static void on_ice_state(GObject *webrtc, GParamSpec *, gpointer token);
  static void on_offer_created(GstPromise *promise, gpointer token);
  static GstPadProbeReturn on_upstream_event(GstPad *, GstPadProbeInfo *info, gpointer token);
  static GstPadProbeReturn on_raw_frame(GstPad *, GstPadProbeInfo *info, gpointer self);
  static GstPadProbeReturn on_encoded(GstPad *, GstPadProbeInfo *info, gpointer self);
  static gboolean on_bus(GstBus *, GstMessage *message, gpointer self);
  static gboolean on_tick(gpointer self);
  void make_offer(Peer &peer);
  void keyframe_requested(std::uint64_t id);
  void ask_encoder_for_keyframe();

  const Options &options_;
  FatalFn on_fatal_;
  Signalling signalling_;
  steady::ObjectRef<GstElement> pipeline_, fan_, encoder_;
  steady::ObjectRef<GstPad> encoder_src_;
  guint bus_watch_ = 0, tick_ = 0;
  std::map<std::uint64_t, std::unique_ptr<Peer>> peers_;
  int pending_removals_ = 0;
  std::mutex gate_lock_;
  KeyframeGate gate_;
  std::uint64_t peers_removed_ = 0, removed_timeout_ = 0, removed_closed_ = 0, removed_failed_ = 0,
                removed_evicted_ = 0;
  std::uint64_t frame_number_ = 0;
  // For the status line's encoded bitrate since the last line.
  std::uint64_t last_bytes_ = 0, last_keyframes_ = 0;
  double last_status_s_ = 0;
};

}  // namespace steady_webrtc
