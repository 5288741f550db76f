// steady-webrtc-peer: a real WebRTC receiver for steady-webrtc's soak. It connects to the
// signalling WebSocket, answers the server's offer with its own webrtcbin, decodes the video
// and reads the capture timestamp painted into every frame (stamp.h): frames whose stamp reads
// back cleanly count as decoded, others as bad; the stamp also gives glass-to-glass latency
// and the frame numbers missed. It reports to the server (a "stats" message a second) and on
// stdout:
//   peer: connected id=N
//   peer: progress frames=N missing=N bad=N   (every 250 ms)
//   peer: final frames=N bad=N missing=N decode-errors=N lat-p50-ms=X lat-p95-ms=X ...
//
//   steady-webrtc-peer --url ws://127.0.0.1:8080/ws --seconds 10
//   steady-webrtc-peer --url ... --pli-every 10      # also ask for a keyframe every 10 ms
#define GST_USE_UNSTABLE_API  // gstreamer-webrtc-1.0 is unstable API in 1.22
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "session-description.h"
#include "signalling.h"
#include "stamp.h"
#include "steady-ptr.h"

GST_DEBUG_CATEGORY(steady_webrtc_debug);  // signalling.cc logs here

namespace {

using steady::ObjectRef;
using steady_webrtc::json_message;
using steady_webrtc::json_string;
using steady_webrtc::take_promised_description;

struct Client {
  // Options.
  gchar *url = nullptr;
  gchar *ice_addresses = nullptr;
  int seconds = 0;
  int pli_every_ms = 0;
  gint64 started_us = 0, first_frame_us = 0;

  GMainLoop *loop = nullptr;
  SoupSession *session = nullptr;
  SoupWebsocketConnection *ws = nullptr;
  ObjectRef<GstElement> pipeline, webrtc;
  ObjectRef<GstPad> depay_src;  // where keyframe requests are sent upstream from
  std::mutex lock;
  std::vector<int> latencies_ms;
  std::atomic<std::uint64_t> frames{0}, bad{0}, missing{0}, decode_errors{0}, pli_sent{0};
  int last_frame = -1;
  int width = 0, height = 0;
  std::string bye;
  int exit_code = 0;
};

void send(Client &c, JsonBuilder *message) {
  json_builder_end_object(message);
  if (c.ws && soup_websocket_connection_get_state(c.ws) == SOUP_WEBSOCKET_STATE_OPEN) {
    JsonNode *root = json_builder_get_root(message);
    gchar *text = json_to_string(root, FALSE);
    soup_websocket_connection_send_text(c.ws, text);
    g_free(text);
    json_node_unref(root);
  }
  g_object_unref(message);
}

GstPadProbeReturn on_frame(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  auto &c = *static_cast<Client *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstVideoInfo video;
  GstCaps *caps = gst_pad_get_current_caps(pad);
  const bool have_info = caps && gst_video_info_from_caps(&video, caps);
  if (caps)
    gst_caps_unref(caps);
  GstVideoFrame frame;
  if (!have_info || !gst_video_frame_map(&frame, &video, buffer, GST_MAP_READ)) {
    c.bad++;
    return GST_PAD_PROBE_OK;
  }
  const auto stamp = steady_webrtc::read_stamp(
      static_cast<const std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)),
      GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), GST_VIDEO_FRAME_WIDTH(&frame),
      GST_VIDEO_FRAME_HEIGHT(&frame));
  gst_video_frame_unmap(&frame);
  if (!stamp) {
    c.bad++;
    return GST_PAD_PROBE_OK;
  }
  const int latency = steady_webrtc::stamp_ms_diff(steady_webrtc::wall_clock_ms(), stamp->ms);
  std::lock_guard<std::mutex> guard(c.lock);
  c.frames++;
  if (c.last_frame >= 0)
    c.missing += static_cast<std::uint16_t>(stamp->frame - c.last_frame - 1);
  c.last_frame = stamp->frame;
  c.latencies_ms.push_back(latency);
  return GST_PAD_PROBE_OK;
}

void on_pad_added(GstElement *, GstPad *pad, gpointer data) {
  auto &c = *static_cast<Client *>(data);
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (!caps)
    caps = gst_pad_query_caps(pad, nullptr);
  const gchar *encoding =
      gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
  const bool h264 = g_strcmp0(encoding, "H264") == 0;
  gst_caps_unref(caps);
  const char *description = h264 ? "rtph264depay name=depay ! avdec_h264 name=dec ! videoconvert ! "
                                   "video/x-raw,format=I420 ! fakesink name=out sync=false"
                                 : "rtpvp8depay name=depay ! vp8dec name=dec ! videoconvert ! "
                                   "video/x-raw,format=I420 ! fakesink name=out sync=false";
  GstElement *bin = gst_parse_bin_from_description(description, TRUE, nullptr);
  gst_bin_add(GST_BIN(c.pipeline.get()), bin);
  auto depay = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(bin), "depay"));
  c.depay_src = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(depay.get(), "src"));
  auto out = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(bin), "out"));
  auto out_sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(out.get(), "sink"));
  gst_pad_add_probe(out_sink.get(), GST_PAD_PROBE_TYPE_BUFFER, on_frame, &c, nullptr);
  auto sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(bin, "sink"));
  gst_element_sync_state_with_parent(bin);
  gst_pad_link(pad, sink.get());
}

void on_ice_candidate(GstElement *, guint mline, gchar *candidate, gpointer data) {
  auto *c = static_cast<Client *>(data);
  // From a webrtcbin thread: the WebSocket belongs to the main context.
  struct Item {
    Client *c;
    guint mline;
    std::string candidate;
  };
  g_idle_add(
      [](gpointer data) -> gboolean {
        auto *item = static_cast<Item *>(data);
        JsonBuilder *message = json_message("ice");
        json_builder_set_member_name(message, "candidate");
        json_builder_add_string_value(message, item->candidate.c_str());
        json_builder_set_member_name(message, "sdpMLineIndex");
        json_builder_add_int_value(message, item->mline);
        send(*item->c, message);
        delete item;
        return G_SOURCE_REMOVE;
      },
      new Item{c, mline, candidate});
}

void on_answer_created(GstPromise *promise, gpointer data) {
  auto *c = static_cast<Client *>(data);
  GstWebRTCSessionDescription *answer = take_promised_description(promise, "answer");
  struct Item {
    Client *c;
    GstWebRTCSessionDescription *answer;
  };
  g_idle_add(
      [](gpointer data) -> gboolean {
        auto *item = static_cast<Item *>(data);
        Client &c = *item->c;
        if (!item->answer) {
          std::fprintf(stderr, "peer: webrtcbin made no answer\n");
          c.exit_code = 1;
          g_main_loop_quit(c.loop);
        } else {
          g_signal_emit_by_name(c.webrtc.get(), "set-local-description", item->answer, nullptr);
          send(c, steady_webrtc::description_message("answer", item->answer));
          gst_webrtc_session_description_free(item->answer);
        }
        delete item;
        return G_SOURCE_REMOVE;
      },
      new Item{c, answer});
}

void on_message(SoupWebsocketConnection *, gint type, GBytes *bytes, gpointer data) {
  auto &c = *static_cast<Client *>(data);
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize size = 0;
  const auto *text = static_cast<const gchar *>(g_bytes_get_data(bytes, &size));
  JsonParser *parser = json_parser_new();
  if (json_parser_load_from_data(parser, text, static_cast<gssize>(size), nullptr) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    JsonObject *object = json_node_get_object(json_parser_get_root(parser));
    const std::string kind = json_string(object, "type");
    if (kind == "welcome") {
      std::printf("peer: connected id=%" G_GINT64_FORMAT "\n",
                  steady_webrtc::json_int(object, "peer", 0));
    } else if (kind == "offer") {
      GstSDPMessage *sdp = nullptr;
      gst_sdp_message_new_from_text(json_string(object, "sdp").c_str(), &sdp);
      GstWebRTCSessionDescription *offer =
          gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
      g_signal_emit_by_name(c.webrtc.get(), "set-remote-description", offer, nullptr);
      gst_webrtc_session_description_free(offer);
      GstPromise *promise = gst_promise_new_with_change_func(on_answer_created, &c, nullptr);
      g_signal_emit_by_name(c.webrtc.get(), "create-answer", nullptr, promise);
    } else if (kind == "ice") {
      const std::string candidate = json_string(object, "candidate");
      if (!candidate.empty())
        g_signal_emit_by_name(
            c.webrtc.get(), "add-ice-candidate",
            static_cast<guint>(steady_webrtc::json_int(object, "sdpMLineIndex", 0)),
            candidate.c_str());
    } else if (kind == "bye") {
      c.bye = json_string(object, "reason");
    }
  }
  g_object_unref(parser);
}

void on_closed(SoupWebsocketConnection *, gpointer data) {
  auto &c = *static_cast<Client *>(data);
  if (c.bye.empty())
    c.bye = "closed";
  g_main_loop_quit(c.loop);
}

void on_connected(GObject *session, GAsyncResult *result, gpointer data) {
  auto &c = *static_cast<Client *>(data);
  GError *error = nullptr;
  c.ws = soup_session_websocket_connect_finish(SOUP_SESSION(session), result, &error);
  if (!c.ws) {
    std::fprintf(stderr, "peer: cannot connect to %s: %s\n", c.url, error->message);
    g_error_free(error);
    c.exit_code = 2;
    g_main_loop_quit(c.loop);
    return;
  }
  g_signal_connect(c.ws, "message", G_CALLBACK(on_message), &c);
  g_signal_connect(c.ws, "closed", G_CALLBACK(on_closed), &c);
}

gboolean on_bus(GstBus *, GstMessage *message, gpointer data) {
  auto &c = *static_cast<Client *>(data);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR ||
      GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
    GError *error = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
      gst_message_parse_error(message, &error, nullptr);
    else
      gst_message_parse_warning(message, &error, nullptr);
    std::fprintf(stderr, "peer: %s from %s: %s\n",
                 GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR ? "error" : "warning",
                 GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message);
    if (g_str_has_prefix(GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), "dec"))
      c.decode_errors++;
    g_error_free(error);
  }
  return G_SOURCE_CONTINUE;
}

int percentile(std::vector<int> values, double q) {
  if (values.empty())
    return -1;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(q * values.size()))];
}

}  // namespace

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  Client c;
  const GOptionEntry entries[] = {
      {"url", 0, 0, G_OPTION_ARG_STRING, &c.url, "Signalling WebSocket (ws://HOST:PORT/ws)", "URL"},
      {"seconds", 0, 0, G_OPTION_ARG_INT, &c.seconds,
       "Leave this long after the first frame shown (0: stay)", "S"},
      {"pli-every", 0, 0, G_OPTION_ARG_INT, &c.pli_every_ms,
       "Ask for a keyframe (RTCP PLI) every this many ms (0: never)", "MS"},
      {"ice-addresses", 0, 0, G_OPTION_ARG_STRING, &c.ice_addresses,
       "Comma-separated local addresses for ICE (default 127.0.0.1; empty: every interface)",
       "LIST"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext *context = g_option_context_new("- WebRTC receiver for steady-webrtc");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_option_context_add_group(context, gst_init_get_option_group());
  GError *error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error) || !c.url) {
    std::fprintf(stderr, "steady-webrtc-peer: %s\n", error ? error->message : "--url is required");
    g_clear_error(&error);
    g_option_context_free(context);
    return 2;
  }
  g_option_context_free(context);
  gst_init(nullptr, nullptr);
  GST_DEBUG_CATEGORY_INIT(steady_webrtc_debug, "steady-webrtc-peer", 0, "steady-webrtc peer");
  c.loop = g_main_loop_new(nullptr, FALSE);

  GstElement *pipeline = gst_pipeline_new("peer");
  c.pipeline = ObjectRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(pipeline)));
  GstElement *webrtc = gst_element_factory_make("webrtcbin", "webrtc");
  if (!webrtc) {
    std::fprintf(stderr, "steady-webrtc-peer: no webrtcbin: install gstreamer1.0-plugins-bad\n");
    return 2;
  }
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  gst_bin_add(GST_BIN(pipeline), webrtc);
  c.webrtc = ObjectRef<GstElement>::share(webrtc);
  GstObject *ice = nullptr;
  g_object_get(c.webrtc.get(), "ice-agent", &ice, nullptr);
  gchar **addresses = g_strsplit(c.ice_addresses ? c.ice_addresses : "127.0.0.1", ",", -1);
  for (gchar **a = addresses; *a; ++a) {
    gboolean added = FALSE;
    if (**a)
      g_signal_emit_by_name(ice, "add-local-ip-address", *a, &added);
  }
  g_strfreev(addresses);
  gst_object_unref(ice);
  g_signal_connect(c.webrtc.get(), "on-ice-candidate", G_CALLBACK(on_ice_candidate), &c);
  g_signal_connect(c.webrtc.get(), "pad-added", G_CALLBACK(on_pad_added), &c);
  auto bus = ObjectRef<GstBus>::adopt(gst_element_get_bus(pipeline));
  const guint bus_watch = gst_bus_add_watch(bus.get(), on_bus, &c);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);

  c.session = soup_session_new();
  SoupMessage *request = soup_message_new(SOUP_METHOD_GET, c.url);
  if (!request) {
    std::fprintf(stderr, "steady-webrtc-peer: --url %s is not a URL\n", c.url);
    return 2;
  }
  soup_session_websocket_connect_async(c.session, request, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                       nullptr, on_connected, &c);
  g_object_unref(request);

  auto quit = [](gpointer data) -> gboolean {
    auto &c = *static_cast<Client *>(data);
    if (c.bye.empty())
      c.bye = "signal";
    g_main_loop_quit(c.loop);
    return G_SOURCE_CONTINUE;
  };
  const guint sigint = g_unix_signal_add(SIGINT, quit, &c);
  const guint sigterm = g_unix_signal_add(SIGTERM, quit, &c);
  // --seconds counts from the first frame shown, so a slow start (negotiation on a loaded
  // machine) does not shorten what is measured; no frame within kFirstFrameS is a failure.
  constexpr gint64 kFirstFrameS = 20;
  c.started_us = g_get_monotonic_time();
  const guint leave = g_timeout_add(
      100,
      [](gpointer data) -> gboolean {
        auto &c = *static_cast<Client *>(data);
        const gint64 now = g_get_monotonic_time();
        if (c.frames.load() > 0 && c.first_frame_us == 0)
          c.first_frame_us = now;
        if (c.first_frame_us == 0 && now - c.started_us > kFirstFrameS * G_USEC_PER_SEC) {
          c.bye = "no-frame";
          c.exit_code = 1;
          g_main_loop_quit(c.loop);
        } else if (c.seconds > 0 && c.first_frame_us != 0 &&
                   now - c.first_frame_us >= c.seconds * G_USEC_PER_SEC) {
          c.bye = "done";
          g_main_loop_quit(c.loop);
        }
        return G_SOURCE_CONTINUE;
      },
      &c);
  const guint progress = g_timeout_add(
      250,
      [](gpointer data) -> gboolean {
        static int ticks = 0;
        auto &c = *static_cast<Client *>(data);
        std::printf("peer: progress frames=%" G_GUINT64_FORMAT " missing=%" G_GUINT64_FORMAT
                    " bad=%" G_GUINT64_FORMAT "\n",
                    c.frames.load(), c.missing.load(), c.bad.load());
        if (++ticks % 4 == 0) {
          JsonBuilder *stats = json_message("stats");
          json_builder_set_member_name(stats, "frames");
          json_builder_add_int_value(stats, static_cast<gint64>(c.frames.load()));
          send(c, stats);
        }
        return G_SOURCE_CONTINUE;
      },
      &c);
  guint storm = 0;
  if (c.pli_every_ms > 0)
    storm = g_timeout_add(
        static_cast<guint>(c.pli_every_ms),
        [](gpointer data) -> gboolean {
          auto &c = *static_cast<Client *>(data);
          if (c.depay_src) {
            gst_pad_send_event(c.depay_src.get(), gst_video_event_new_upstream_force_key_unit(
                                                      GST_CLOCK_TIME_NONE, TRUE, 0));
            c.pli_sent++;
          }
          return G_SOURCE_CONTINUE;
        },
        &c);

  g_main_loop_run(c.loop);

  for (guint source : {sigint, sigterm, leave, progress, storm, bus_watch})
    if (source)
      g_source_remove(source);
  if (c.ws) {
    g_signal_handlers_disconnect_by_data(c.ws, &c);
    if (soup_websocket_connection_get_state(c.ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(c.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    g_object_unref(c.ws);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  std::vector<int> latencies;
  {
    std::lock_guard<std::mutex> guard(c.lock);
    latencies = c.latencies_ms;
  }
  std::printf("peer: final frames=%" G_GUINT64_FORMAT " bad=%" G_GUINT64_FORMAT
              " missing=%" G_GUINT64_FORMAT " decode-errors=%" G_GUINT64_FORMAT
              " lat-p50-ms=%d lat-p95-ms=%d lat-p99-ms=%d pli-sent=%" G_GUINT64_FORMAT " end=%s\n",
              c.frames.load(), c.bad.load(), c.missing.load(), c.decode_errors.load(),
              percentile(latencies, 0.5), percentile(latencies, 0.95), percentile(latencies, 0.99),
              c.pli_sent.load(), c.bye.empty() ? "?" : c.bye.c_str());
  c.depay_src.reset();
  c.webrtc.reset();
  c.pipeline.reset();
  g_object_unref(c.session);
  g_main_loop_unref(c.loop);
  g_free(c.url);
  g_free(c.ice_addresses);
  return c.exit_code;
}
