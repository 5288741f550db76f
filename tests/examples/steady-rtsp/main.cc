// steady-rtsp: an RTSP server built from gst-steady's elements, and a model of how to embed
// them in a long-running service.
//
//   /live       one shared source, encoded once by vapoolenc and fanned out by sharedframetee;
//               each client's branch sits behind its own boundedqueue (gop-aware), so a slow
//               client never stalls the others and a stalled one is evicted.
//   /transcode  one pipeline per client with its own vapoolenc session, taken from the pool.
//
// Every client's pipeline reaches NULL and is freed when the client goes, TEARDOWN or not.
// --audit runs it under leakwatch; --baseline builds the same service the usual way (tee !
// queue, a plain x264enc per client) for comparison. See docs/steady-rtsp.md.
//
//   steady-rtsp --port 8554 &
//   ffplay rtsp://127.0.0.1:8554/live
#include <gst/gst.h>

#include <cstdio>
#include <memory>
#include <string>

#include "common/factories.h"
#include "common/program.h"
#include "common/service-loop.h"
#include "live-source.h"
#include "options.h"
#include "pipelines.h"
#include "server.h"

GST_DEBUG_CATEGORY(steady_rtsp_debug);
#define GST_CAT_DEFAULT steady_rtsp_debug

namespace steady_rtsp {
namespace {

constexpr const char *kProgram = "steady-rtsp";

std::string factory_hint(const Options &options) {
  return options.baseline ? " Install the GStreamer plugin that provides it."
                          : " Build gst-steady with that plugin and set GST_PLUGIN_PATH to its "
                            "build dir (or run with --baseline).";
}

int run(const Options &options) {
  if (!steady_examples::have_factories(
          kProgram, required_factories(options),
          [&options](const std::string &) { return factory_hint(options); }))
    return 2;
  steady_examples::ServiceLoop loop(kProgram);
  Server *server_for_evictions = nullptr;
  auto live = std::make_shared<LiveSource>(
      options,
      [&server_for_evictions](GstRTSPMedia *media, const std::string &) {
        if (server_for_evictions)
          server_for_evictions->evict(media);
      },
      [&loop](const std::string &error) { loop.fail(error); });
  std::string error;
  if (!live->start(error)) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
    return 1;
  }
  int exit_code = 0;
  {
    Server server(options, live);
    if (!server.start(error)) {
      std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
      return 1;
    }
    server_for_evictions = &server;
    loop.run(options.status_interval_s,
             [&server](double uptime_s) { return server.status_line(uptime_s); });
    server_for_evictions = nullptr;
    const bool clean = server.shutdown();
    exit_code = loop.finish(clean, server.status_line(loop.uptime()), server.final_summary(),
                            "some client media were still alive after shutdown");
  }
  live->stop();
  return exit_code;
}

}  // namespace
}  // namespace steady_rtsp

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  steady_rtsp::Options options;
  int exit_code = 0;
  if (!options.parse(argc, argv, exit_code))
    return exit_code;
  return steady_examples::run_with_gstreamer(steady_rtsp::kProgram, options.audit, [&] {
    GST_DEBUG_CATEGORY_INIT(steady_rtsp_debug, "steady-rtsp", 0, "steady-rtsp example server");
    return steady_rtsp::run(options);
  });
}
