// steady-webrtc: the field reports' WebRTC streamer built from gst-steady's elements.
//
// One live source, its capture time painted into every frame, encoded once by vapoolenc (VP8
// or H.264) and fanned out by sharedframetee; each peer gets a boundedqueue (gop-aware) and its
// own webrtcbin in a bin of its own, added and removed while the source runs. The page and the
// JSON-over-WebSocket signalling are served on one port. Keyframe requests from peers reach the
// shared encoder coalesced and rate-limited. --audit runs it under leakwatch; --baseline builds
// the field reports' version (tee, queue of 20 buffers / 500 ms, webrtcbin per peer).
// See docs/steady-webrtc.md.
//
//   steady-webrtc --port 8080 &
//   chromium http://127.0.0.1:8080/
#include <gst/gst.h>

#include <cstdio>
#include <string>

#include "common/factories.h"
#include "common/program.h"
#include "common/service-loop.h"
#include "options.h"
#include "pipelines.h"
#include "server.h"

GST_DEBUG_CATEGORY(steady_webrtc_debug);
#define GST_CAT_DEFAULT steady_webrtc_debug

namespace steady_webrtc {
namespace {

constexpr const char *kProgram = "steady-webrtc";

std::string factory_hint(const Options &options, const std::string &name) {
  if (name == "nicesrc" || name == "nicesink")
    return " Install gstreamer1.0-nice (libnice's GStreamer plugin).";
  if (options.baseline || name == "webrtcbin")
    return " Install the GStreamer plugin that provides it.";
  return " Build gst-steady with that plugin and set GST_PLUGIN_PATH to its build dir (or run "
         "with --baseline).";
}

int run(const Options &options) {
  if (!steady_examples::have_factories(
          kProgram, required_factories(options),
          [&options](const std::string &name) { return factory_hint(options, name); }))
    return 2;
  steady_examples::ServiceLoop loop(kProgram);
  Server server(options, [&loop](const std::string &error) { loop.fail(error); });
  std::string error;
  if (!server.start(error)) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
    server.shutdown();
    return 1;
  }
  loop.run(options.status_interval_s,
           [&server](double uptime_s) { return server.status_line(uptime_s); });
  const bool clean = server.shutdown();
  return loop.finish(clean, server.status_line(loop.uptime()), server.final_summary(),
                     "some peer bins or webrtcbins were still alive after shutdown");
}

}  // namespace
}  // namespace steady_webrtc

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  steady_webrtc::Options options;
#ifdef STEADY_WEBRTC_WEB_ROOT
  options.web_root = STEADY_WEBRTC_WEB_ROOT;
#endif
  int exit_code = 0;
  if (!options.parse(argc, argv, exit_code))
    return exit_code;
  return steady_examples::run_with_gstreamer(steady_webrtc::kProgram, options.audit, [&] {
    GST_DEBUG_CATEGORY_INIT(steady_webrtc_debug, "steady-webrtc", 0, "steady-webrtc example");
    return steady_webrtc::run(options);
  });
}
