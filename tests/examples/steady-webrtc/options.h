// Command-line options of steady-webrtc. Parsed before gst_init() so that --audit can set
// GST_TRACERS first (tracers are read once, by gst_init()).
#pragma once

#include <string>
#include <vector>

#include "common/audit.h"

namespace steady_webrtc {

struct Options {
  // Network: the HTTP page and the WebSocket signalling share one port.
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: let the kernel pick a free one (printed on the "listening" line)
  // Local addresses the ICE agent gathers candidates on (empty: every interface). The default
  // keeps all media on loopback: libnice skips loopback unless it is named here.
  std::vector<std::string> ice_addresses = {"127.0.0.1"};
  std::string web_root;  // the page; default: the web/ folder next to the sources

  // What is served.
  std::string source = "videotestsrc is-live=true pattern=smpte";
  std::string codec = "vp8";  // vp8 or h264
  int width = 640;
  int height = 360;
  int framerate = 30;
  int bitrate_kbps = 1000;
  int key_int_max = 60;  // frames between keyframes (two seconds at 30 fps)

  // Elements.
  bool baseline = false;      // tee ! queue(20 buffers, 500 ms) ! webrtcbin per peer
  int ring_buffers = 16;      // sharedframetee capacity-buffers=
  int peer_queue_ms = 100;    // boundedqueue max-size-time= (ms) of each peer's branch
  int keyframe_min_ms = 500;  // keyframe requests from peers reach the encoder at most this often

  // Sessions.
  int peer_timeout_s = 5;  // a peer that sends no message for this long is removed

  // Observability.
  int status_interval_s = 5;  // 0: no status line
  // --audit, --audit-dir, --report-interval
  steady_examples::AuditSettings audit{false, "steady-webrtc-audit", 10};

  // Parses argv; on error or --help prints to stderr/stdout and returns false with exit_code set.
  bool parse(int argc, char **argv, int &exit_code);
};

}  // namespace steady_webrtc
