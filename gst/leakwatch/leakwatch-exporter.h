// The metrics endpoint and metrics file of one leakwatch instance: builds the exposition from
// the monitor's data and the live pipelines' element statistics, serves it over HTTP
// (metrics-port, metrics-address) and writes it atomically (metrics-file).
#pragma once

#include "leakwatch-http.h"
#include "leakwatch-metrics.h"
#include "leakwatch-monitor.h"

#include <memory>
#include <string>

namespace leakwatch {

class Exporter {
 public:
  explicit Exporter(Monitor &monitor) : monitor_(monitor) {}
  ~Exporter() { stop(); }
  Exporter(const Exporter &) = delete;
  Exporter &operator=(const Exporter &) = delete;

  // Starts the HTTP endpoint when metrics-port is set. Returns a line for the user ("serving
  // ..." or why not), "" when there is no endpoint to start.
  std::string start();
  void stop() { server_.stop(); }
  // Bound port, -1 when no endpoint runs.
  int port() const { return running_ ? server_.port() : -1; }

  // The document as served now (reads the monitor and the live pipelines' elements).
  std::string text(metrics::Format format);
  // Rewrites metrics-file (no-op without one); false with @error on failure.
  bool write_file(std::string &error);

  HttpResponse handle(const HttpRequest &request);

 private:
  Monitor &monitor_;
  HttpServer server_;
  bool running_ = false;
};

}  // namespace leakwatch
