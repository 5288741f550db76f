// Command-line options of steady-rtsp. Parsed before gst_init() so that --audit can set
// GST_TRACERS first (tracers are read once, by gst_init()).
#pragma once

#include <string>

#include "common/audit.h"

namespace steady_rtsp {

struct Options {
  // Network.
  std::string address = "0.0.0.0";
  int port = 8554;  // 0: let the kernel pick a free port (printed on the "listening" line)

  // What is served.
  std::string source = "videotestsrc is-live=true";  // /live: one shared source for all clients
  std::string transcode_source =
      "videotestsrc is-live=true pattern=ball";  // /transcode, per client
  int width = 640;
  int height = 360;
  int framerate = 30;
  int bitrate_kbps = 1000;
  int key_int_max = 30;  // frames between keyframes (one second at 30 fps)

  // Elements.
  bool baseline = false;  // tee ! queue and a plain x264enc per client, for comparison
  std::string baseline_queue = "queue";   // per-branch queue of the baseline /live fan-out
  std::string device = "auto";            // vapoolenc device=
  std::string hardware_factories;         // vapoolenc hardware-factories= (empty: built-in order)
  int pool_max_idle = 4;                  // vapoolenc max-idle=
  int ring_buffers = 32;                  // sharedframetee capacity-buffers=
  int stall_timeout_ms = 3000;            // sharedframetee/boundedqueue stall-timeout=
  std::string client_queue_leaky = "no";  // boundedqueue leaky= on each /live branch
  int client_queue_ms = 500;              // boundedqueue max-size-time= (ms) on each /live branch

  // Sessions.
  int session_timeout_s = 10;  // RTSP session timeout announced to clients
  // Kernel send buffer of each client connection, KiB (0: kernel default, which autotunes up
  // to several MiB per slow TCP client before any back-pressure reaches the pipeline).
  int client_sndbuf_kib = 128;

  // Observability.
  int status_interval_s = 5;  // 0: no status line
  // --audit, --audit-dir, --report-interval
  steady_examples::AuditSettings audit{false, "steady-rtsp-audit", 10};

  // Parses argv; on error or --help prints to stderr/stdout and returns false with exit_code set.
  bool parse(int argc, char **argv, int &exit_code);
};

}  // namespace steady_rtsp
