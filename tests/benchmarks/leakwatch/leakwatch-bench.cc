// leakwatch overhead benchmark.
//
//   bench-leakwatch [--buffers N] [--runs R]
//
// Runs `fakesrc num-buffers=N ! queue ! fakesink` (default N = 2000000) in a fresh child
// process per run for each configuration: no tracer, GST_TRACERS=leaks, GST_TRACERS=leakwatch,
// and two references: the core `factories` tracer (the hook-dispatch floor of any tracer) and
// leakwatch(objects=false) (process sampling only, no hooks).
// Configurations are interleaved run by run so machine noise hits all of them alike. Each
// child reports the wall time from PLAYING to EOS; the parent prints every run, the medians
// and the ratios to the no-tracer median.
#include <gst/gst.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int run_child(long buffers) {
  gst_init(nullptr, nullptr);
  std::string desc = "fakesrc num-buffers=" + std::to_string(buffers) + " ! queue ! fakesink";
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(desc.c_str(), &error);
  if (pipeline == nullptr) {
    std::fprintf(stderr, "parse error: %s\n", error ? error->message : "?");
    g_clear_error(&error);
    return 2;
  }
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE);
  gint64 start = g_get_monotonic_time();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, GST_CLOCK_TIME_NONE, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gint64 end = g_get_monotonic_time();
  int rc = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS ? 0 : 3;
  gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  std::printf("%lld\n", static_cast<long long>(end - start));
  std::fflush(stdout);
  gst_deinit();
  return rc;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

}  // namespace

int main(int argc, char **argv) {
  long buffers = 2000000;
  int runs = 7;
  const char *self = argv[0];
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--child"))
      return run_child(std::atol(argv[i + 1]));
    if (!std::strcmp(argv[i], "--buffers") && i + 1 < argc)
      buffers = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = std::atoi(argv[++i]);
  }
  struct Config {
    const char *label;
    const char *tracers;  // nullptr = none
    std::vector<double> ms;
  };
  std::vector<Config> configs = {{"no tracer", nullptr, {}},
                                 {"core leaks", "leaks", {}},
                                 {"leakwatch (defaults)", "leakwatch", {}},
                                 // GStreamer 1.22 dispatches every hook point (a clock read
                                 // and two hash lookups) once any tracer registers any hook:
                                 // core `factories` does nothing per buffer, so it measures
                                 // that floor.
                                 {"core factories (floor)", "factories", {}},
                                 {"leakwatch objects=false", "leakwatch(objects=false)", {}}};
  std::printf("fakesrc num-buffers=%ld ! queue ! fakesink, %d runs per configuration\n", buffers,
              runs);
  for (int r = 0; r < runs; ++r) {
    for (Config &c : configs) {
      gchar **env = g_get_environ();
      env = g_environ_unsetenv(env, "GST_TRACERS");
      env = g_environ_unsetenv(env, "GST_DEBUG");
      if (c.tracers)
        env = g_environ_setenv(env, "GST_TRACERS", c.tracers, TRUE);
      std::string n = std::to_string(buffers);
      const gchar *child_argv[] = {self, "--child", n.c_str(), nullptr};
      gchar *out = nullptr;
      gint status = 0;
      GError *error = nullptr;
      gboolean ok =
          g_spawn_sync(nullptr, const_cast<gchar **>(child_argv), env, G_SPAWN_STDERR_TO_DEV_NULL,
                       nullptr, nullptr, &out, nullptr, &status, &error);
      g_strfreev(env);
      if (!ok || !g_spawn_check_wait_status(status, nullptr)) {
        std::fprintf(stderr, "run of '%s' failed: %s\n", c.label,
                     error ? error->message : "status");
        g_clear_error(&error);
        g_free(out);
        return 1;
      }
      double ms = std::atof(out) / 1000.0;
      g_free(out);
      c.ms.push_back(ms);
      std::printf("run %d  %-22s %9.1f ms\n", r + 1, c.label, ms);
      std::fflush(stdout);
    }
  }
  const double base = median(configs[0].ms);
  std::printf("\n%-22s %12s %8s\n", "configuration", "median ms", "ratio");
  for (const Config &c : configs)
    std::printf("%-22s %12.1f %7.3fx\n", c.label, median(c.ms), median(c.ms) / base);
  return 0;
}
