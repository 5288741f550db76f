#include "server.h"

#define GST_USE_UNSTABLE_API  // gstreamer-webrtc-1.0 is unstable API in 1.22
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "common/launch-pipeline.h"
#include "common/proc-stats.h"
#include "pipelines.h"
#include "session-description.h"
#include "stamp.h"

GST_DEBUG_CATEGORY_EXTERN(steady_webrtc_debug);
#define GST_CAT_DEFAULT steady_webrtc_debug

namespace steady_webrtc {

using steady::ObjectRef;

namespace {

// Process-wide, so that a bin finalized late (from a GStreamer thread) never touches a freed
// Server.
struct Counters {
  std::atomic<std::uint64_t> peers_created{0}, bins_freed{0}, webrtcbins_freed{0};
  std::atomic<std::uint64_t> frames_encoded{0}, keyframes_encoded{0}, bytes_encoded{0};
  std::atomic<std::uint64_t> keyframe_requests{0};
} counters;

std::int64_t monotonic_ms() {
  return g_get_monotonic_time() / 1000;
}

void count_bin_freed(gpointer, GObject *) {
  counters.bins_freed++;
}
void count_webrtcbin_freed(gpointer, GObject *) {
  counters.webrtcbins_freed++;
}

GstPadProbeReturn drop_force_key_unit(GstPad *, GstPadProbeInfo *info, gpointer) {
  return gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)) ? GST_PAD_PROBE_DROP
                                                                           : GST_PAD_PROBE_OK;
}

}  // namespace

// What GStreamer threads' callbacks know of their peer: the server and the peer's id, looked
// up again on the main context (the peer may be gone by then).
struct Token {
  Server *server;
  std::uint64_t id;
};

struct Server::Peer {
  std::uint64_t id = 0;
  ObjectRef<GstElement> bin, webrtc;
  ObjectRef<GstPad> fan_pad, sink;
  gulong probe = 0;
  std::vector<gulong> handlers;
  std::int64_t last_seen_ms = 0;
  std::int64_t frames_reported = -1;
  bool offered = false;
};

struct Server::Task {
  Server *server;
  std::uint64_t id;
  std::function<void(Server &, Peer &)> fn;
};

Server::Server(const Options &options, FatalFn on_fatal)
    : options_(options),
      on_fatal_(std::move(on_fatal)),
      signalling_(options.web_root,
                  Signalling::Handlers{
                      [this](std::uint64_t id) { on_connected(id); },
                      [this](std::uint64_t id, JsonObject *message) { on_message(id, message); },
                      [this](std::uint64_t id) { on_closed(id); }}),
      gate_(options.keyframe_min_ms) {}

Server::~Server() {
  shutdown();
}

bool Server::start(std::string &error) {
  const std::string description = source_description(options_);
  std::printf("steady-webrtc: source: %s\n", description.c_str());
  pipeline_ = steady_examples::launch_pipeline(description, "source", "webrtc-source", error);
  if (!pipeline_)
    return false;
  GstElement *parsed = pipeline_.get();
  fan_ = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "fan"));
  encoder_ = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "enc"));
  encoder_src_ = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(encoder_.get(), "src"));
  auto raw = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "raw"));
  auto raw_src = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(raw.get(), "src"));
  gst_pad_add_probe(raw_src.get(), GST_PAD_PROBE_TYPE_BUFFER, on_raw_frame, this, nullptr);
  auto fan_sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(fan_.get(), "sink"));
  gst_pad_add_probe(fan_sink.get(), GST_PAD_PROBE_TYPE_BUFFER, on_encoded, this, nullptr);

  auto bus = ObjectRef<GstBus>::adopt(gst_element_get_bus(parsed));
  bus_watch_ = gst_bus_add_watch(bus.get(), on_bus, this);
  if (gst_element_set_state(parsed, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the source pipeline failed to start (run with GST_DEBUG=3 for why)";
    return false;
  }
  if (!signalling_.start(options_.address, options_.port, error))
    return false;
  tick_ = g_timeout_add(100, on_tick, this);
  std::printf("steady-webrtc: listening on %s (page), %sws (signalling), %s variant, %s\n",
              url().c_str(), url().c_str(), options_.baseline ? "baseline" : "steady",
              options_.codec.c_str());
  return true;
}

// ---------------------------------------------------------------------------------------------
// Peers

void Server::on_connected(std::uint64_t id) {
  std::string error;
  if (!add_peer(id, error)) {
    std::fprintf(stderr, "steady-webrtc: peer %" G_GUINT64_FORMAT ": %s\n", id, error.c_str());
    signalling_.close(id, error);
  }
}

bool Server::add_peer(std::uint64_t id, std::string &error) {
  if (!pipeline_) {
    error = "the server is shutting down";
    return false;
  }
  GError *parse_error = nullptr;
  GstElement *parsed = gst_parse_bin_from_description_full(
      peer_description(options_).c_str(), TRUE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (!parsed) {
    error = std::string("cannot build the peer's bin: ") + parse_error->message;
    g_error_free(parse_error);
    return false;
  }
  auto peer = std::make_unique<Peer>();
  peer->id = id;
  peer->bin = ObjectRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(parsed)));
  gst_object_set_name(GST_OBJECT(parsed), ("peer-" + std::to_string(id)).c_str());
  peer->webrtc = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "webrtc"));
  peer->sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(parsed, "sink"));
  peer->last_seen_ms = monotonic_ms();
  counters.peers_created++;
  g_object_weak_ref(G_OBJECT(parsed), count_bin_freed, nullptr);
  g_object_weak_ref(G_OBJECT(peer->webrtc.get()), count_webrtcbin_freed, nullptr);

  GstWebRTCRTPTransceiver *transceiver = nullptr;
  g_signal_emit_by_name(peer->webrtc.get(), "get-transceiver", 0, &transceiver);
  if (transceiver) {
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
    gst_object_unref(transceiver);
  }
  GstObject *ice = nullptr;
  g_object_get(peer->webrtc.get(), "ice-agent", &ice, nullptr);
  if (ice) {
    for (const std::string &address : options_.ice_addresses) {
      gboolean added = FALSE;
      g_signal_emit_by_name(ice, "add-local-ip-address", address.c_str(), &added);
      if (!added)
        GST_WARNING("ICE agent refused local address %s", address.c_str());
    }
    gst_object_unref(ice);
  }

  if (options_.codec == "h264") {
    // rtph264pay (seen with 1.22's) answers a downstream force-key-unit with all-headers by
    // sending SPS/PPS as an access unit of their own, marker bit set, ahead of the keyframe.
    // Chromium takes that for a frame, fails to decode it and asks for a keyframe, whose
    // event starts the same again: a keyframe every keyframe-min-interval for good.
    // config-interval=-1 already puts SPS/PPS in front of every IDR, inside its access unit.
    auto pay = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "pay"));
    auto pay_sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(pay.get(), "sink"));
    gst_pad_add_probe(pay_sink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_force_key_unit,
                      nullptr, nullptr);
  }

  auto token = [this, id]() { return new Token{this, id}; };
  auto free_token = [](gpointer data, GClosure *) { delete static_cast<Token *>(data); };
  GstElement *webrtc = peer->webrtc.get();
  peer->handlers.push_back(g_signal_connect_data(webrtc, "on-negotiation-needed",
                                                 G_CALLBACK(on_negotiation_needed), token(),
                                                 free_token, GConnectFlags(0)));
  peer->handlers.push_back(g_signal_connect_data(webrtc, "on-ice-candidate",
                                                 G_CALLBACK(on_ice_candidate), token(), free_token,
                                                 GConnectFlags(0)));
  peer->handlers.push_back(g_signal_connect_data(webrtc, "notify::ice-connection-state",
                                                 G_CALLBACK(on_ice_state), token(), free_token,
                                                 GConnectFlags(0)));
  peer->probe =
      gst_pad_add_probe(peer->sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event,
                        token(), [](gpointer data) { delete static_cast<Token *>(data); });

  gst_bin_add(GST_BIN(pipeline_.get()), parsed);
  peer->fan_pad = ObjectRef<GstPad>::adopt(gst_element_request_pad_simple(fan_.get(), "src_%u"));
  if (!gst_element_sync_state_with_parent(parsed) ||
      gst_pad_link(peer->fan_pad.get(), peer->sink.get()) != GST_PAD_LINK_OK) {
    error = "cannot start the peer's bin";
    peers_[id] = std::move(peer);
    remove_peer(id, "");
    return false;
  }
  std::printf("steady-webrtc: peer %" G_GUINT64_FORMAT " connected (%zu peers)\n", id,
              peers_.size() + 1);
  JsonBuilder *welcome = json_message("welcome");
  json_builder_set_member_name(welcome, "peer");
  json_builder_add_int_value(welcome, static_cast<gint64>(id));
  json_builder_set_member_name(welcome, "variant");
  json_builder_add_string_value(welcome, options_.baseline ? "baseline" : "steady");
  json_builder_set_member_name(welcome, "codec");
  json_builder_add_string_value(welcome, options_.codec.c_str());
  signalling_.send(id, welcome);
  // webrtcbin may have wanted negotiation before its handler could act: offer now either way.
  post(id, [](Server &server, Peer &peer) { server.make_offer(peer); });
  peers_[id] = std::move(peer);
  return true;
}

Server::Peer *Server::find(std::uint64_t id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

Server::Peer *Server::owner_of(GstObject *object) {
  for (auto &[id, peer] : peers_)
    if (object == GST_OBJECT(peer->bin.get()) ||
        gst_object_has_as_ancestor(object, GST_OBJECT(peer->bin.get())))
      return peer.get();
  return nullptr;
}

void Server::remove_peer(std::uint64_t id, const std::string &reason) {
  auto it = peers_.find(id);
  if (it == peers_.end())
    return;
  std::unique_ptr<Peer> peer = std::move(it->second);
  peers_.erase(it);
  peers_removed_++;
  if (!reason.empty())
    std::printf("steady-webrtc: peer %" G_GUINT64_FORMAT " removed: %s (%zu peers)\n", id,
                reason.c_str(), peers_.size());
  signalling_.close(id, reason == "disconnected" ? "" : reason);
  for (gulong handler : peer->handlers)
    g_signal_handler_disconnect(peer->webrtc.get(), handler);
  peer->handlers.clear();
  if (peer->probe)
    gst_pad_remove_probe(peer->sink.get(), peer->probe);
  if (!options_.baseline) {
    // sharedframetee releases a branch at any moment: it flushes the branch's push, joins its
    // thread and counts what it still held as dropped.
    gst_element_release_request_pad(fan_.get(), peer->fan_pad.get());
    finish_removal(std::move(peer));
    return;
  }
  // tee: the usual idiom, unlink once the pad is idle, then tear down on the main context. A
  // tee pad is never idle while its push waits for room in a full queue (a peer that has not
  // negotiated yet: webrtcbin holds its input until then), and flushing the queue instead
  // would return FLUSHING through tee and stop the source for everyone. Lifting the queue's
  // bounds lets that push finish.
  auto queue =
      steady::ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(peer->bin.get()), "q"));
  g_object_set(queue.get(), "max-size-buffers", 0u, "max-size-time", guint64(0), "max-size-bytes",
               0u, nullptr);
  pending_removals_++;
  struct Removal {
    Server *server;
    Peer *peer;
  };
  auto *removal = new Removal{this, peer.release()};
  gst_pad_add_probe(
      removal->peer->fan_pad.get(), GST_PAD_PROBE_TYPE_IDLE,
      [](GstPad *pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
        auto *r = static_cast<Removal *>(data);
        gst_pad_unlink(pad, r->peer->sink.get());
        g_idle_add(
            [](gpointer data) -> gboolean {
              auto *r = static_cast<Removal *>(data);
              r->server->pending_removals_--;
              r->server->finish_removal(std::unique_ptr<Peer>(r->peer));
              delete r;
              return G_SOURCE_REMOVE;
            },
            r);
        return GST_PAD_PROBE_REMOVE;
      },
      removal, nullptr);
}

void Server::finish_removal(std::unique_ptr<Peer> peer) {
  if (options_.baseline)
    gst_element_release_request_pad(fan_.get(), peer->fan_pad.get());
  gst_element_set_locked_state(peer->bin.get(), TRUE);
  gst_element_set_state(peer->bin.get(), GST_STATE_NULL);
  gst_bin_remove(GST_BIN(pipeline_.get()), peer->bin.get());
}

void Server::on_closed(std::uint64_t id) {
  if (find(id)) {
    removed_closed_++;
    remove_peer(id, "disconnected");
  }
}

void Server::on_message(std::uint64_t id, JsonObject *message) {
  Peer *peer = find(id);
  if (!peer)
    return;
  peer->last_seen_ms = monotonic_ms();
  const std::string type = json_string(message, "type");
  if (type == "answer") {
    GstSDPMessage *sdp = nullptr;
    gst_sdp_message_new_from_text(json_string(message, "sdp").c_str(), &sdp);
    if (!sdp || gst_sdp_message_medias_len(sdp) == 0) {
      if (sdp)
        gst_sdp_message_free(sdp);
      removed_failed_++;
      remove_peer(id, "its answer is not an SDP with a media section");
      return;
    }
    GstWebRTCSessionDescription *answer =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    g_signal_emit_by_name(peer->webrtc.get(), "set-remote-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
  } else if (type == "ice") {
    const std::string candidate = json_string(message, "candidate");
    if (!candidate.empty())
      g_signal_emit_by_name(peer->webrtc.get(), "add-ice-candidate",
                            static_cast<guint>(json_int(message, "sdpMLineIndex", 0)),
                            candidate.c_str());
  } else if (type == "stats") {
    peer->frames_reported = json_int(message, "frames", peer->frames_reported);
  } else if (type != "keepalive") {
    GST_INFO("peer %" G_GUINT64_FORMAT ": ignoring message type %s", id, type.c_str());
  }
}

// ---------------------------------------------------------------------------------------------
// Callbacks from GStreamer threads

void Server::post(std::uint64_t id, std::function<void(Server &, Peer &)> fn) {
  auto *task = new Task{this, id, std::move(fn)};
  g_idle_add_full(G_PRIORITY_DEFAULT, run_task, task,
                  [](gpointer data) { delete static_cast<Task *>(data); });
}

gboolean Server::run_task(gpointer data) {
  auto *task = static_cast<Task *>(data);
  if (Peer *peer = task->server->find(task->id))
    task->fn(*task->server, *peer);
  return G_SOURCE_REMOVE;
}

void Server::make_offer(Peer &peer) {
  if (peer.offered)
    return;
  peer.offered = true;
  GstPromise *promise =
      gst_promise_new_with_change_func(on_offer_created, new Token{this, peer.id},
                                       [](gpointer data) { delete static_cast<Token *>(data); });
  g_signal_emit_by_name(peer.webrtc.get(), "create-offer", nullptr, promise);
}

void Server::on_negotiation_needed(GstElement *, gpointer data) {
  auto *token = static_cast<Token *>(data);
  token->server->post(token->id, [](Server &server, Peer &peer) { server.make_offer(peer); });
}

void Server::on_offer_created(GstPromise *promise, gpointer data) {
  auto *token = static_cast<Token *>(data);
  std::shared_ptr<GstWebRTCSessionDescription> shared(take_promised_description(promise, "offer"),
                                                      [](GstWebRTCSessionDescription *d) {
                                                        if (d)
                                                          gst_webrtc_session_description_free(d);
                                                      });
  token->server->post(token->id, [shared](Server &server, Peer &peer) {
    if (!shared) {
      server.removed_failed_++;
      server.remove_peer(peer.id, "webrtcbin made no offer");
      return;
    }
    g_signal_emit_by_name(peer.webrtc.get(), "set-local-description", shared.get(), nullptr);
    server.signalling_.send(peer.id, description_message("offer", shared.get()));
  });
}

void Server::on_ice_candidate(GstElement *, guint mline, gchar *candidate, gpointer data) {
  auto *token = static_cast<Token *>(data);
  std::string text(candidate);
  token->server->post(token->id, [mline, text](Server &server, Peer &peer) {
    JsonBuilder *message = json_message("ice");
    json_builder_set_member_name(message, "candidate");
    json_builder_add_string_value(message, text.c_str());
    json_builder_set_member_name(message, "sdpMLineIndex");
    json_builder_add_int_value(message, mline);
    server.signalling_.send(peer.id, message);
  });
}

void Server::on_ice_state(GObject *webrtc, GParamSpec *, gpointer data) {
  auto *token = static_cast<Token *>(data);
  GstWebRTCICEConnectionState state = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  g_object_get(webrtc, "ice-connection-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
    token->server->post(token->id, [](Server &server, Peer &peer) {
      server.removed_failed_++;
      server.remove_peer(peer.id, "ICE failed");
    });
  }
}

GstPadProbeReturn Server::on_upstream_event(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *token = static_cast<Token *>(data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event))
    return GST_PAD_PROBE_OK;
  counters.keyframe_requests++;
  if (token->server->options_.baseline)
    return GST_PAD_PROBE_OK;  // tee passes every request to the encoder
  token->server->keyframe_requested(token->id);
  return GST_PAD_PROBE_DROP;
}

void Server::keyframe_requested(std::uint64_t) {
  bool now;
  {
    std::lock_guard<std::mutex> guard(gate_lock_);
    now = gate_.request(monotonic_ms());
  }
  if (now)
    ask_encoder_for_keyframe();
}

void Server::ask_encoder_for_keyframe() {
  gst_pad_send_event(encoder_src_.get(),
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

GstPadProbeReturn Server::on_raw_frame(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *self = static_cast<Server *>(data);
  GstBuffer *buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  GstVideoInfo video;
  gst_video_info_set_format(&video, GST_VIDEO_FORMAT_I420, self->options_.width,
                            self->options_.height);
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &video, buffer, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  Stamp stamp;
  stamp.ms = wall_clock_ms();
  stamp.frame = static_cast<std::uint16_t>(self->frame_number_++);
  paint_stamp(stamp, static_cast<std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)),
              GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), self->options_.width, self->options_.height,
              static_cast<std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 1)),
              static_cast<std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 2)),
              GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 1));
  gst_video_frame_unmap(&frame);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn Server::on_encoded(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *self = static_cast<Server *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  counters.frames_encoded++;
  counters.bytes_encoded += gst_buffer_get_size(buffer);
  if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    counters.keyframes_encoded++;
    std::lock_guard<std::mutex> guard(self->gate_lock_);
    self->gate_.keyframe_seen(monotonic_ms());
  }
  return GST_PAD_PROBE_OK;
}

gboolean Server::on_bus(GstBus *, GstMessage *message, gpointer data) {
  auto *self = static_cast<Server *>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_LATENCY:
      gst_bin_recalculate_latency(GST_BIN(self->pipeline_.get()));
      break;
    case GST_MESSAGE_ERROR: {
      GError *error = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      std::string text =
          std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + error->message;
      GST_WARNING("%s (%s)", text.c_str(), debug ? debug : "");
      g_error_free(error);
      g_free(debug);
      if (Peer *peer = self->owner_of(GST_MESSAGE_SRC(message))) {
        self->removed_failed_++;
        self->remove_peer(peer->id, "error: " + text);
      } else {
        self->on_fatal_("source pipeline: " + text);
      }
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure(message);
      if (s && gst_structure_has_name(s, "sharedframetee-branch-evicted")) {
        GstPad *pad = nullptr;
        gst_structure_get(s, "pad", GST_TYPE_PAD, &pad, nullptr);
        for (auto &[id, peer] : self->peers_) {
          if (peer->fan_pad.get() == pad) {
            self->removed_evicted_++;
            self->remove_peer(id, "evicted by sharedframetee (stalled)");
            break;
          }
        }
        if (pad)
          gst_object_unref(pad);
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean Server::on_tick(gpointer data) {
  auto *self = static_cast<Server *>(data);
  const std::int64_t now = monotonic_ms();
  bool due;
  {
    std::lock_guard<std::mutex> guard(self->gate_lock_);
    due = self->gate_.poll(now);
  }
  if (due)
    self->ask_encoder_for_keyframe();
  std::vector<std::uint64_t> silent;
  for (auto &[id, peer] : self->peers_)
    if (now - peer->last_seen_ms > self->options_.peer_timeout_s * 1000LL)
      silent.push_back(id);
  for (std::uint64_t id : silent) {
    self->removed_timeout_++;
    self->remove_peer(
        id, "timeout: no message for " + std::to_string(self->options_.peer_timeout_s) + " s");
  }
  return G_SOURCE_CONTINUE;
}

// ---------------------------------------------------------------------------------------------
// Status and shutdown

std::string Server::status_line(double uptime_s) {
  const steady_examples::ProcStats stats = steady_examples::ProcStats::sample();
  const std::uint64_t bytes = counters.bytes_encoded, keyframes = counters.keyframes_encoded;
  const double span = uptime_s - last_status_s_;
  const double kbps = span > 0 ? (bytes - last_bytes_) * 8.0 / 1000.0 / span : 0.0;
  const double kf_per_s = span > 0 ? (keyframes - last_keyframes_) / span : 0.0;
  last_bytes_ = bytes;
  last_keyframes_ = keyframes;
  last_status_s_ = uptime_s;
  std::uint64_t requests, forwarded;
  {
    std::lock_guard<std::mutex> guard(gate_lock_);
    requests = counters.keyframe_requests;
    forwarded = options_.baseline ? requests : gate_.forwarded();
  }
  gchar *line = g_strdup_printf(
      "status t=%.1f peers=%zu peers-created=%" G_GUINT64_FORMAT " peers-removed=%" G_GUINT64_FORMAT
      " bins-alive=%" G_GUINT64_FORMAT " webrtcbins-alive=%" G_GUINT64_FORMAT
      " enc-kbps=%.0f keyframes-per-s=%.2f kf-requests=%" G_GUINT64_FORMAT
      " kf-forwarded=%" G_GUINT64_FORMAT " fds=%d threads=%d rss-mib=%.1f",
      uptime_s, peers_.size(), counters.peers_created.load(), peers_removed_,
      counters.peers_created - counters.bins_freed,
      counters.peers_created - counters.webrtcbins_freed, kbps, kf_per_s, requests, forwarded,
      stats.fds, stats.threads, stats.rss_bytes / 1048576.0);
  std::string result(line);
  g_free(line);
  return result;
}

std::string Server::final_summary() const {
  gchar *line = g_strdup_printf(
      "final peers-created=%" G_GUINT64_FORMAT " bins-freed=%" G_GUINT64_FORMAT
      " webrtcbins-freed=%" G_GUINT64_FORMAT " removed-disconnected=%" G_GUINT64_FORMAT
      " removed-timeout=%" G_GUINT64_FORMAT " removed-failed=%" G_GUINT64_FORMAT
      " removed-evicted=%" G_GUINT64_FORMAT " frames-encoded=%" G_GUINT64_FORMAT
      " keyframes=%" G_GUINT64_FORMAT " kf-requests=%" G_GUINT64_FORMAT
      " kf-forwarded=%" G_GUINT64_FORMAT " kf-coalesced=%" G_GUINT64_FORMAT,
      counters.peers_created.load(), counters.bins_freed.load(), counters.webrtcbins_freed.load(),
      removed_closed_, removed_timeout_, removed_failed_, removed_evicted_,
      counters.frames_encoded.load(), counters.keyframes_encoded.load(),
      counters.keyframe_requests.load(),
      options_.baseline ? counters.keyframe_requests.load() : gate_.forwarded(),
      options_.baseline ? 0 : gate_.coalesced());
  std::string result(line);
  g_free(line);
  return result;
}

bool Server::shutdown() {
  if (!pipeline_)
    return counters.bins_freed == counters.peers_created &&
           counters.webrtcbins_freed == counters.peers_created;
  if (tick_) {
    g_source_remove(tick_);
    tick_ = 0;
  }
  std::vector<std::uint64_t> ids;
  for (auto &[id, peer] : peers_)
    ids.push_back(id);
  for (std::uint64_t id : ids)
    remove_peer(id, "the server is shutting down");
  // Baseline removals finish on the main context; webrtcbin finishes its own teardown on its
  // threads. Both are bounded here.
  const std::int64_t deadline = monotonic_ms() + 5000;
  while ((pending_removals_ > 0 || counters.bins_freed != counters.peers_created ||
          counters.webrtcbins_freed != counters.peers_created) &&
         monotonic_ms() < deadline) {
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(10 * 1000);
  }
  if (bus_watch_) {
    g_source_remove(bus_watch_);
    bus_watch_ = 0;
  }
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  encoder_src_.reset();
  encoder_.reset();
  fan_.reset();
  pipeline_.reset();
  return counters.bins_freed == counters.peers_created &&
         counters.webrtcbins_freed == counters.peers_created;
}

}  // namespace steady_webrtc
