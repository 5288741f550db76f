#include "options.h"

#include <glib.h>

#include <cstdio>

#include "common/command-line.h"

namespace steady_webrtc {

namespace {

using steady_examples::in_range;

constexpr const char *kProgram = "steady-webrtc";

}  // namespace

bool Options::parse(int argc, char **argv, int &exit_code) {
  steady_examples::OptionStorage raw;
  // --ice-addresses is one comma-separated text, split below.
  std::string ice_list;
  for (const std::string &address : ice_addresses)
    ice_list += (ice_list.empty() ? "" : ",") + address;
  const GOptionEntry entries[] = {
      {"address", 0, 0, G_OPTION_ARG_STRING, raw.text(address),
       "Address the page and the signalling listen on (default 127.0.0.1)", "ADDR"},
      {"port", 'p', 0, G_OPTION_ARG_INT, &port,
       "Port of the page and the signalling; 0 picks a free one (default 8080)", "PORT"},
      {"ice-addresses", 0, 0, G_OPTION_ARG_STRING, raw.text(ice_list),
       "Comma-separated local addresses ICE gathers candidates on; empty for every interface "
       "(default 127.0.0.1)",
       "LIST"},
      {"web-root", 0, 0, G_OPTION_ARG_STRING, raw.text(web_root),
       "Folder holding index.html (default: the example's web/ folder)", "DIR"},
      {"source", 0, 0, G_OPTION_ARG_STRING, raw.text(source),
       "Launch fragment of the shared live source producing raw video (default \"videotestsrc "
       "is-live=true pattern=smpte\")",
       "FRAGMENT"},
      {"codec", 0, 0, G_OPTION_ARG_STRING, raw.text(codec), "vp8 or h264 (default vp8)", "CODEC"},
      {"width", 0, 0, G_OPTION_ARG_INT, &width, "Encoded width (default 640)", "PIXELS"},
      {"height", 0, 0, G_OPTION_ARG_INT, &height, "Encoded height (default 360)", "PIXELS"},
      {"framerate", 0, 0, G_OPTION_ARG_INT, &framerate, "Frames per second (default 30)", "FPS"},
      {"bitrate", 0, 0, G_OPTION_ARG_INT, &bitrate_kbps, "Encoder bitrate in kbit/s (default 1000)",
       "KBPS"},
      {"key-int-max", 0, 0, G_OPTION_ARG_INT, &key_int_max, "Frames between keyframes (default 60)",
       "FRAMES"},
      {"baseline", 0, 0, G_OPTION_ARG_NONE, raw.flag(baseline),
       "Build the field reports' version instead: tee, then queue max-size-buffers=20 "
       "max-size-time=500000000 and webrtcbin per peer, a plain encoder",
       nullptr},
      {"ring", 0, 0, G_OPTION_ARG_INT, &ring_buffers,
       "sharedframetee capacity-buffers: the ring shared by all peers (default 16)", "N"},
      {"peer-queue-ms", 0, 0, G_OPTION_ARG_INT, &peer_queue_ms,
       "boundedqueue max-size-time of each peer's branch, ms (default 100)", "MS"},
      {"keyframe-min-interval", 0, 0, G_OPTION_ARG_INT, &keyframe_min_ms,
       "Keyframe requests (PLI/FIR) from all peers reach the encoder at most once per this many "
       "ms, coalesced (default 500)",
       "MS"},
      {"peer-timeout", 0, 0, G_OPTION_ARG_INT, &peer_timeout_s,
       "Remove a peer that sends no signalling message for this long, s (default 5)", "S"},
      {"status-interval", 0, 0, G_OPTION_ARG_INT, &status_interval_s,
       "Seconds between status lines; 0 for none (default 5)", "S"},
      {"audit", 0, 0, G_OPTION_ARG_NONE, raw.flag(audit.enabled),
       "Run under gst-steady's leakwatch tracer, writing JSON and HTML reports", nullptr},
      {"audit-dir", 0, 0, G_OPTION_ARG_STRING, raw.text(audit.dir),
       "Where --audit writes its reports (default steady-webrtc-audit)", "DIR"},
      {"report-interval", 0, 0, G_OPTION_ARG_INT, &audit.report_interval_s,
       "Seconds between leakwatch's periodic reports with --audit (default 10)", "S"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  if (!steady_examples::parse_command_line(kProgram, "- WebRTC streamer built from gst-steady",
                                           nullptr, entries, raw, argc, argv)) {
    exit_code = 2;
    return false;
  }
  ice_addresses.clear();
  g_auto(GStrv) parts = g_strsplit(ice_list.c_str(), ",", -1);
  for (gchar **p = parts; *p; ++p) {
    g_strstrip(*p);
    if (**p)
      ice_addresses.emplace_back(*p);
  }
  exit_code = 2;
  if (codec != "vp8" && codec != "h264") {
    std::fprintf(stderr, "%s: --codec=%s: use vp8 or h264\n", kProgram, codec.c_str());
    return false;
  }
  // The painted timestamp needs 32 blocks across and two rows of them.
  if (!in_range(kProgram, {{"width", width, 64, 7680},
                           {"height", height, 48, 4320},
                           {"framerate", framerate, 1, 240},
                           {"bitrate", bitrate_kbps, 50, 100000},
                           {"key-int-max", key_int_max, 1, 10000},
                           {"ring", ring_buffers, 2, 4096},
                           {"peer-queue-ms", peer_queue_ms, 10, 60000},
                           {"keyframe-min-interval", keyframe_min_ms, 0, 60000},
                           {"peer-timeout", peer_timeout_s, 1, 3600},
                           {"port", port, 0, 65535},
                           {"status-interval", status_interval_s, 0, 3600},
                           {"report-interval", audit.report_interval_s, 1, 3600}}))
    return false;
  exit_code = 0;
  return true;
}

}  // namespace steady_webrtc
