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
#include <glib-unix.h>
#include <gst/gst.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "audit.h"
#include "live-source.h"
#include "options.h"
#include "pipelines.h"
#include "server.h"

GST_DEBUG_CATEGORY(steady_rtsp_debug);
#define GST_CAT_DEFAULT steady_rtsp_debug

namespace steady_rtsp {
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
    std::fprintf(stderr, "steady-rtsp: element '%s' is not available.%s\n", name.c_str(),
                 options.baseline
                     ? " Install the GStreamer plugin that provides it."
                     : " Build gst-steady with that plugin and set GST_PLUGIN_PATH to its build "
                       "dir (or run with --baseline).");
  }
  return ok;
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
  Server *server_for_evictions = nullptr;
  auto live = std::make_shared<LiveSource>(
      options,
      [&server_for_evictions](GstRTSPMedia *media, const std::string &) {
        if (server_for_evictions)
          server_for_evictions->evict(media);
      },
      [&state](const std::string &error) {
        std::fprintf(stderr, "steady-rtsp: %s\n", error.c_str());
        state.exit_code = 1;
        g_main_loop_quit(state.loop);
      });
  std::string error;
  if (!live->start(error)) {
    std::fprintf(stderr, "steady-rtsp: %s\n", error.c_str());
    return 1;
  }
  int final_code = 0;
  {
    Server server(options, live);
    if (!server.start(error)) {
      std::fprintf(stderr, "steady-rtsp: %s\n", error.c_str());
      return 1;
    }
    server_for_evictions = &server;

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
            std::printf("steady-rtsp: %s\n", ctx.server->status_line(ctx.state->uptime()).c_str());
            std::fflush(stdout);
            return G_SOURCE_CONTINUE;
          },
          &status_context);
    }

    g_main_loop_run(state.loop);

    std::printf("steady-rtsp: shutting down\n");
    if (status)
      g_source_remove(status);
    g_source_remove(sigint);
    g_source_remove(sigterm);
    server_for_evictions = nullptr;
    const bool clean = server.shutdown();
    std::printf("steady-rtsp: %s\n", server.status_line(state.uptime()).c_str());
    std::printf("steady-rtsp: %s\n", server.final_summary().c_str());
    if (!clean) {
      std::fprintf(stderr, "steady-rtsp: some client media were still alive after shutdown\n");
      final_code = 3;
    }
  }
  live->stop();
  return state.exit_code ? state.exit_code : final_code;
}

}  // namespace
}  // namespace steady_rtsp

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  steady_rtsp::Options options;
  int exit_code = 0;
  if (!options.parse(argc, argv, exit_code))
    return exit_code;
  if (options.audit) {
    std::string error;
    if (!steady_rtsp::prepare_audit(options, error)) {
      std::fprintf(stderr, "steady-rtsp: %s\n", error.c_str());
      return 2;
    }
  }
  gst_init(nullptr, nullptr);
  GST_DEBUG_CATEGORY_INIT(steady_rtsp_debug, "steady-rtsp", 0, "steady-rtsp example server");
  if (options.audit) {
    if (!steady_rtsp::audit_active()) {
      std::fprintf(stderr,
                   "steady-rtsp: --audit: the leakwatch tracer is not available; build gst-steady "
                   "with leakwatch and set GST_PLUGIN_PATH to its build dir\n");
      gst_deinit();
      return 2;
    }
    std::printf("steady-rtsp: auditing with leakwatch: %s, %s\n",
                steady_rtsp::audit_json_path(options).c_str(),
                steady_rtsp::audit_html_path(options).c_str());
  }
  exit_code = steady_rtsp::run(options);
  // Pooled encoder sessions are released here, and leakwatch writes its final reports.
  gst_deinit();
  return exit_code;
}
