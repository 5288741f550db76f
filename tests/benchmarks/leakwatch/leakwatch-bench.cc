// leakwatch overhead benchmark.
//
//   bench-leakwatch [--buffers N] [--runs R]
//
// Runs `fakesrc num-buffers=N ! queue ! fakesink` (default N = 2000000) in a fresh child
// process per run for each configuration: no tracer, GST_TRACERS=leaks, GST_TRACERS=leakwatch,
// and two references: the core `factories` tracer (the hook-dispatch floor of any tracer) and
// leakwatch(objects=false) (process sampling only, no hooks).
// Configurations are interleaved run by run so machine noise hits all of them alike. Each
// child reports the wall time and the process CPU time (user + system, all threads) from
// PLAYING to EOS; the parent prints every run, the medians and the ratios to the no-tracer
// medians. On a loaded shared machine the CPU-time ratio is the steadier figure.
// "leakwatch + metrics" serves the metrics endpoint and a thread of the child scrapes it every
// 100 ms during the run (Prometheus' default is every 15 s): the endpoint's cost, served and
// fetched in the same process.
#include "steady-tracing.h"
#include <gst/gst.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "steady-stats.h"

namespace {

// User + system CPU time of the whole process (all threads), microseconds.
gint64 cpu_us() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_GINT64_CONSTANT(1000000) +
         ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

// Fetches /metrics from @port every @period until stopped; returns the bytes of the last one.
class Scraper {
 public:
  Scraper(int port, std::chrono::milliseconds period) {
    thread_ = std::thread([this, port, period] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stop_) {
        lock.unlock();
        scrape(port);
        lock.lock();
        cond_.wait_for(lock, period, [this] { return stop_; });
      }
    });
  }
  ~Scraper() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cond_.notify_all();
    thread_.join();
  }
  size_t scrapes = 0, last_bytes = 0;

 private:
  void scrape(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0) {
      const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
      char buf[65536];
      size_t total = 0;
      ssize_t n;
      while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        total += static_cast<size_t>(n);
      last_bytes = total;
      scrapes++;
    }
    close(fd);
  }
  std::mutex mutex_;
  std::condition_variable cond_;
  bool stop_ = false;
  std::thread thread_;
};

int run_child(long buffers) {
  gst_init(nullptr, nullptr);
  std::unique_ptr<Scraper> scraper;
  if (GstObject *t = steady::find_active_tracer("GstLeakwatchTracer")) {
    int port = -1;
    g_object_get(t, "metrics-port", &port, nullptr);
    gst_object_unref(t);
    if (port > 0)
      scraper = std::make_unique<Scraper>(port, std::chrono::milliseconds(100));
  }
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
  gint64 cpu_start = cpu_us();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, GST_CLOCK_TIME_NONE, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gint64 end = g_get_monotonic_time();
  gint64 cpu_end = cpu_us();
  int rc = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS ? 0 : 3;
  gst_message_unref(msg);
  if (scraper && scraper->scrapes == 0) {
    std::fprintf(stderr, "the metrics endpoint was never scraped\n");
    rc = 4;
  }
  scraper.reset();
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  std::printf("%lld %lld\n", static_cast<long long>(end - start),
              static_cast<long long>(cpu_end - cpu_start));
  std::fflush(stdout);
  gst_deinit();
  return rc;
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
    std::vector<double> cpu_ms;
  };
  std::vector<Config> configs = {{"no tracer", nullptr, {}, {}},
                                 {"core leaks", "leaks", {}, {}},
                                 {"leakwatch (defaults)", "leakwatch", {}, {}},
                                 // GStreamer 1.22 dispatches every hook point (a clock read
                                 // and two hash lookups) once any tracer registers any hook:
                                 // core `factories` does nothing per buffer, so it measures
                                 // that floor.
                                 {"core factories (floor)", "factories", {}, {}},
                                 {"leakwatch objects=false", "leakwatch(objects=false)", {}, {}},
                                 {"leakwatch + metrics", "leakwatch(metrics-port=0)", {}, {}}};
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
      long long wall_us = 0, cpu = 0;
      std::sscanf(out, "%lld %lld", &wall_us, &cpu);
      g_free(out);
      double ms = wall_us / 1000.0, cpu_ms = cpu / 1000.0;
      c.ms.push_back(ms);
      c.cpu_ms.push_back(cpu_ms);
      std::printf("run %d  %-24s wall %9.1f ms  cpu %9.1f ms\n", r + 1, c.label, ms, cpu_ms);
      std::fflush(stdout);
    }
  }
  const double base = steady::median(configs[0].ms), cpu_base = steady::median(configs[0].cpu_ms);
  std::printf("\n%-24s %14s %8s %14s %8s\n", "configuration", "median wall ms", "ratio",
              "median cpu ms", "ratio");
  for (const Config &c : configs)
    std::printf("%-24s %14.1f %7.3fx %14.1f %7.3fx\n", c.label, steady::median(c.ms),
                steady::median(c.ms) / base, steady::median(c.cpu_ms),
                steady::median(c.cpu_ms) / cpu_base);
  return 0;
}
