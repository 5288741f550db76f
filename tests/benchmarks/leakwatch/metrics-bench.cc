// Cost of one scrape of leakwatch's metrics endpoint in a large process.
//
//   bench-leakwatch-metrics [--scrapes N]
//
// Runs under GST_TRACERS="leakwatch(metrics-port=0,interval=0)" (set here before gst_init):
// 500 GstObject types of its own with one live instance each, 200 live pipelines, 40 of them
// with a boundedqueue (10 series each: 400 element series), one sample taken. Then fetches
// /metrics N times in each format over HTTP and prints the median time per scrape, the size
// of the document and the number of series. Times are wall-clock on a loaded machine: the
// medians and bytes are the figures, not the absolute values.
#include "steady-tracing.h"
#include <gst/gst.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include "steady-stats.h"

namespace {

std::string fetch(int port, const char *accept) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0) {
    std::string req = std::string("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                      (accept ? std::string("Accept: ") + accept + "\r\n" : "") + "\r\n";
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
      out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

size_t series_in(const std::string &response) {
  size_t body = response.find("\r\n\r\n");
  size_t n = 0;
  for (size_t p = body + 4; p < response.size();) {
    size_t e = response.find('\n', p);
    if (e == std::string::npos)
      break;
    if (response[p] != '#')
      n++;
    p = e + 1;
  }
  return n;
}

}  // namespace

int main(int argc, char **argv) {
  int scrapes = 30;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--scrapes"))
      scrapes = std::atoi(argv[++i]);
  g_setenv("GST_TRACERS", "leakwatch(metrics-port=0,interval=0,summary=false)", TRUE);
  gst_init(nullptr, nullptr);
  GstObject *tracer = steady::find_active_tracer("GstLeakwatchTracer");
  if (tracer == nullptr) {
    std::fprintf(stderr, "leakwatch is not active (GST_PLUGIN_PATH?)\n");
    return 2;
  }
  int port = -1;
  g_object_get(tracer, "metrics-port", &port, nullptr);

  std::vector<GstObject *> objects;
  for (int i = 0; i < 500; ++i) {
    std::string name = "BenchMetricsType" + std::to_string(i);
    GType t = g_type_register_static_simple(GST_TYPE_OBJECT, name.c_str(), sizeof(GstObjectClass),
                                            nullptr, sizeof(GstObject), nullptr,
                                            static_cast<GTypeFlags>(0));
    objects.push_back(GST_OBJECT(gst_object_ref_sink(g_object_new(t, nullptr))));
  }
  std::vector<GstElement *> pipelines;
  for (int i = 0; i < 200; ++i) {
    std::string name = "session-" + std::to_string(i);
    GstElement *p = gst_pipeline_new(name.c_str());
    if (i % 5 == 0)
      gst_bin_add(GST_BIN(p), gst_element_factory_make("boundedqueue", nullptr));
    pipelines.push_back(p);
  }
  guint alerts = 0;
  g_signal_emit_by_name(tracer, "sample-now", &alerts);

  struct Format {
    const char *label;
    const char *accept;
    std::vector<double> ms;
    size_t bytes = 0, series = 0;
  } formats[] = {{"text 0.0.4", nullptr, {}, 0, 0},
                 {"OpenMetrics 1.0", "application/openmetrics-text; version=1.0.0", {}, 0, 0}};
  for (int r = 0; r < scrapes; ++r)
    for (Format &f : formats) {
      gint64 start = g_get_monotonic_time();
      std::string resp = fetch(port, f.accept);
      f.ms.push_back(static_cast<double>(g_get_monotonic_time() - start) / 1000.0);
      f.bytes = resp.size() - resp.find("\r\n\r\n") - 4;
      f.series = series_in(resp);
    }
  std::printf(
      "500 own GstObject types (one live instance each), 200 live pipelines, 40 "
      "boundedqueues; %d scrapes per format over HTTP\n\n",
      scrapes);
  std::printf("%-16s %14s %10s %8s\n", "format", "median ms", "bytes", "series");
  for (const Format &f : formats)
    std::printf("%-16s %14.2f %10zu %8zu\n", f.label, steady::median(f.ms), f.bytes, f.series);

  for (GstElement *p : pipelines)
    gst_object_unref(p);
  for (GstObject *o : objects)
    gst_object_unref(o);
  gst_object_unref(tracer);
  gst_deinit();
  return 0;
}
