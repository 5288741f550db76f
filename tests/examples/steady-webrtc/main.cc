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
#include <glib-unix.h>
#include <gst/gst.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "../steady-rtsp/audit.h"
#include "options.h"
#include "pipelines.h"
#include "server.h"

GST_DEBUG_CATEGORY(steady_webrtc_debug);
#define GST_CAT_DEFAULT steady_webrtc_debug

namespace steady_webrtc {
namespace {

bool check_factories(const Options &options) {
  bool ok = true;
  for (const std::string &name : required_factories(options)) {
    GstElementFactory *factory = gst_element_factory_find(name.c_str());
    if (factory) {
      gst_object_unref(factory);
      continue;
    }
    ok = false;
    std::fprintf(stderr, "steady-webrtc: element '%s' is not available.%s\n", name.c_str(),
                 name == "nicesrc" || name == "nicesink"
                     ? " Install gstreamer1.0-nice (libnice's GStreamer plugin)."
                 : options.baseline || name == "webrtcbin"
                     ? " Install the GStreamer plugin that provides it."
                     : " Build gst-steady with that plugin and set GST_PLUGIN_PATH to its build "
                       "dir (or run with --baseline).");
  }
  return ok;
}

// The audit helpers are steady-rtsp's: they read only the report directory and interval.
steady_rtsp::Options audit_options(const Options &options) {
  steady_rtsp::Options audit;
  audit.audit_dir = options.audit_dir;
  audit.report_interval_s = options.report_interval_s;
  return audit;
}

struct Run {
  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  int exit_code = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  ~Run() { g_main_loop_unref(loop); }
  double uptime() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
};

int run(const Options &options) {
  if (!check_factories(options))
    return 2;
  Run state;
  int final_code = 0;
  Server server(options, [&state](const std::string &error) {
    std::fprintf(stderr, "steady-webrtc: %s\n", error.c_str());
    state.exit_code = 1;
    g_main_loop_quit(state.loop);
  });
  std::string error;
  if (!server.start(error)) {
    std::fprintf(stderr, "steady-webrtc: %s\n", error.c_str());
    server.shutdown();
    return 1;
  }
  auto quit = [](gpointer data) -> gboolean {
    g_main_loop_quit(static_cast<Run *>(data)->loop);
    return G_SOURCE_CONTINUE;  // removed below, with the others
  };
  const guint sigint = g_unix_signal_add(SIGINT, quit, &state);
  const guint sigterm = g_unix_signal_add(SIGTERM, quit, &state);
  struct StatusContext {
    Server *server;
    Run *state;
  } status_context{&server, &state};
  guint status = 0;
  if (options.status_interval_s > 0) {
    status = g_timeout_add_seconds(
        options.status_interval_s,
        [](gpointer data) -> gboolean {
          auto &ctx = *static_cast<StatusContext *>(data);
          std::printf("steady-webrtc: %s\n", ctx.server->status_line(ctx.state->uptime()).c_str());
          return G_SOURCE_CONTINUE;
        },
        &status_context);
  }

  g_main_loop_run(state.loop);

  std::printf("steady-webrtc: shutting down\n");
  if (status)
    g_source_remove(status);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  const bool clean = server.shutdown();
  std::printf("steady-webrtc: %s\n", server.status_line(state.uptime()).c_str());
  std::printf("steady-webrtc: %s\n", server.final_summary().c_str());
  if (!clean) {
    std::fprintf(stderr,
                 "steady-webrtc: some peer bins or webrtcbins were still alive after "
                 "shutdown\n");
    final_code = 3;
  }
  return state.exit_code ? state.exit_code : final_code;
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
  const steady_rtsp::Options audit = steady_webrtc::audit_options(options);
  if (options.audit) {
    std::string error;
    if (!steady_rtsp::prepare_audit(audit, error)) {
      std::fprintf(stderr, "steady-webrtc: %s\n", error.c_str());
      return 2;
    }
  }
  gst_init(nullptr, nullptr);
  GST_DEBUG_CATEGORY_INIT(steady_webrtc_debug, "steady-webrtc", 0, "steady-webrtc example");
  if (options.audit) {
    if (!steady_rtsp::audit_active()) {
      std::fprintf(stderr,
                   "steady-webrtc: --audit: the leakwatch tracer is not available; build "
                   "gst-steady with leakwatch and set GST_PLUGIN_PATH to its build dir\n");
      gst_deinit();
      return 2;
    }
    std::printf("steady-webrtc: auditing with leakwatch: %s, %s\n",
                steady_rtsp::audit_json_path(audit).c_str(),
                steady_rtsp::audit_html_path(audit).c_str());
  }
  exit_code = steady_webrtc::run(options);
  // Pooled encoder sessions are released here, and leakwatch writes its final reports.
  gst_deinit();
  return exit_code;
}
