#include "options.h"

#include <glib.h>

#include <cstdio>

#include "common/command-line.h"

namespace steady_rtsp {

namespace {

using steady_examples::in_range;

constexpr const char *kProgram = "steady-rtsp";

}  // namespace

bool Options::parse(int argc, char **argv, int &exit_code) {
  steady_examples::OptionStorage raw;
  const GOptionEntry entries[] = {
      {"address", 0, 0, G_OPTION_ARG_STRING, raw.text(address),
       "Address to listen on (default 0.0.0.0)", "ADDR"},
      {"port", 'p', 0, G_OPTION_ARG_INT, &port,
       "Port to listen on; 0 picks a free one (default 8554)", "PORT"},
      {"source", 0, 0, G_OPTION_ARG_STRING, raw.text(source),
       "Launch fragment of the shared /live source producing raw video (default "
       "\"videotestsrc is-live=true\")",
       "FRAGMENT"},
      {"transcode-source", 0, 0, G_OPTION_ARG_STRING, raw.text(transcode_source),
       "Launch fragment of each /transcode client's own source (default \"videotestsrc "
       "is-live=true pattern=ball\")",
       "FRAGMENT"},
      {"width", 0, 0, G_OPTION_ARG_INT, &width, "Encoded width (default 640)", "PIXELS"},
      {"height", 0, 0, G_OPTION_ARG_INT, &height, "Encoded height (default 360)", "PIXELS"},
      {"framerate", 0, 0, G_OPTION_ARG_INT, &framerate, "Encoded frames per second (default 30)",
       "FPS"},
      {"bitrate", 0, 0, G_OPTION_ARG_INT, &bitrate_kbps, "Encoder bitrate in kbit/s (default 1000)",
       "KBPS"},
      {"key-int-max", 0, 0, G_OPTION_ARG_INT, &key_int_max, "Frames between keyframes (default 30)",
       "FRAMES"},
      {"baseline", 0, 0, G_OPTION_ARG_NONE, raw.flag(baseline),
       "Build the pipelines the usual way instead: tee ! queue per /live client and a plain "
       "x264enc per /transcode client",
       nullptr},
      {"baseline-queue", 0, 0, G_OPTION_ARG_STRING, raw.text(baseline_queue),
       "With --baseline: the queue of each /live branch (default \"queue\")", "FRAGMENT"},
      {"device", 0, 0, G_OPTION_ARG_STRING, raw.text(device),
       "vapoolenc device: auto, va, vaapi, nvenc, software (default auto)", "DEVICE"},
      {"hardware-factories", 0, 0, G_OPTION_ARG_STRING, raw.text(hardware_factories),
       "vapoolenc hardware-factories (comma-separated encoder factories)", "LIST"},
      {"pool-max-idle", 0, 0, G_OPTION_ARG_INT, &pool_max_idle,
       "vapoolenc max-idle: parked encoder sessions kept for reuse (default 4)", "N"},
      {"ring", 0, 0, G_OPTION_ARG_INT, &ring_buffers,
       "sharedframetee capacity-buffers: the /live ring shared by all clients (default 32)", "N"},
      {"stall-timeout", 0, 0, G_OPTION_ARG_INT, &stall_timeout_ms,
       "Evict a /live client that took nothing for this long, in ms (default 3000)", "MS"},
      {"client-queue-leaky", 0, 0, G_OPTION_ARG_STRING, raw.text(client_queue_leaky),
       "boundedqueue leaky mode of each /live branch: no (a slow client lags in the shared ring) "
       "or downstream (its own queue drops whole GOPs) (default no)",
       "MODE"},
      {"client-queue-ms", 0, 0, G_OPTION_ARG_INT, &client_queue_ms,
       "boundedqueue max-size-time of each /live branch, in ms (default 500)", "MS"},
      {"session-timeout", 0, 0, G_OPTION_ARG_INT, &session_timeout_s,
       "RTSP session timeout in seconds (default 10)", "S"},
      {"client-sndbuf", 0, 0, G_OPTION_ARG_INT, &client_sndbuf_kib,
       "Kernel send buffer of each client connection in KiB, so a stalled TCP client is noticed "
       "in seconds; 0 keeps the kernel default (default 128)",
       "KIB"},
      {"status-interval", 0, 0, G_OPTION_ARG_INT, &status_interval_s,
       "Print a status line every S seconds; 0 disables it (default 5)", "S"},
      {"audit", 0, 0, G_OPTION_ARG_NONE, raw.flag(audit.enabled),
       "Run under the leakwatch tracer, writing JSON and HTML reports into --audit-dir", nullptr},
      {"audit-dir", 0, 0, G_OPTION_ARG_STRING, raw.text(audit.dir),
       "Where --audit writes leakwatch.json and leakwatch.html (default steady-rtsp-audit)", "DIR"},
      {"report-interval", 0, 0, G_OPTION_ARG_INT, &audit.report_interval_s,
       "With --audit: rewrite the reports every S seconds (default 10)", "S"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };

  if (!steady_examples::parse_command_line(
          kProgram, "- RTSP server built from gst-steady's elements",
          "Mounts /live (one shared source, encoded once, fanned out to every client) and "
          "/transcode\n(one pipeline and one pooled encoder session per client). See "
          "docs/steady-rtsp.md.\n",
          entries, raw, argc, argv)) {
    exit_code = 2;
    return false;
  }

  const bool valid = in_range(kProgram, {{"port", port, 0, 65535},
                                         {"width", width, 16, 7680},
                                         {"height", height, 16, 4320},
                                         {"framerate", framerate, 1, 240},
                                         {"bitrate", bitrate_kbps, 16, 200000},
                                         {"key-int-max", key_int_max, 1, 3000},
                                         {"pool-max-idle", pool_max_idle, 0, 1000},
                                         {"ring", ring_buffers, 1, 10000},
                                         {"stall-timeout", stall_timeout_ms, 0, 600000},
                                         {"client-queue-ms", client_queue_ms, 1, 60000},
                                         {"session-timeout", session_timeout_s, 1, 3600},
                                         {"client-sndbuf", client_sndbuf_kib, 0, 65536},
                                         {"status-interval", status_interval_s, 0, 3600},
                                         {"report-interval", audit.report_interval_s, 0, 3600}});
  if (!valid) {
    exit_code = 2;
    return false;
  }
  if (client_queue_leaky != "no" && client_queue_leaky != "downstream") {
    std::fprintf(stderr, "%s: --client-queue-leaky must be \"no\" or \"downstream\"\n", kProgram);
    exit_code = 2;
    return false;
  }
  return true;
}

}  // namespace steady_rtsp
