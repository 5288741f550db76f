#include "leakwatch-exporter.h"

#include "leakwatch-elements.h"
#include "leakwatch-report.h"

namespace leakwatch {

std::string Exporter::start() {
  const Params &p = monitor_.params();
  if (p.metrics_port < 0)
    return std::string();
  HttpServer::Options options;
  options.address = p.metrics_address;
  options.port = p.metrics_port;
  std::string error;
  running_ = server_.start(
      options, [this](const HttpRequest &r) { return handle(r); }, error);
  if (!running_)
    return "leakwatch: no metrics endpoint: " + error +
           " (set metrics-port to a free port, or 0 for any)";
  const bool v6 = p.metrics_address.find(':') != std::string::npos;
  return "leakwatch: serving metrics on http://" +
         (v6 ? "[" + p.metrics_address + "]" : p.metrics_address) + ":" +
         std::to_string(server_.port()) + "/metrics";
}

std::string Exporter::text(metrics::Format format) {
  const Params &p = monitor_.params();
  ReportData d = monitor_.metrics_data();
  metrics::Input in;
  in.last = d.last;
  in.samples = d.samples;
  in.stat = metrics::read_process_stat();
  in.types = std::move(d.types);
  in.pipelines = std::move(d.pipelines);
  in.trends = std::move(d.trends);
  in.max_types = p.metrics_max_types;
  in.interval_s = p.interval_s;
  std::vector<GObject *> pipelines = monitor_.lifecycle().live_pipelines();
  in.elements =
      collect_element_values(pipelines, p.metrics_element_stats, p.metrics_max_element_series);
  for (GObject *o : pipelines)
    g_object_unref(o);  // may finalize a pipeline here: no lock of ours is held
  return metrics::build_exposition(in).render(format);
}

bool Exporter::write_file(std::string &error) {
  const std::string &path = monitor_.params().metrics_file;
  if (path.empty())
    return true;
  return write_file_atomic(path, text(metrics::Format::kPrometheus), error);
}

HttpResponse Exporter::handle(const HttpRequest &request) {
  HttpResponse r;
  if (request.path != "/metrics") {
    r.status = 404;
    r.body = "leakwatch serves /metrics only\n";
    return r;
  }
  metrics::Format f = metrics::negotiate(request.accept);
  r.content_type = metrics::content_type(f);
  r.body = text(f);
  return r;
}

}  // namespace leakwatch
