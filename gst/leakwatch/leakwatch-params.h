// The tracer's parameters: GST_TRACERS="leakwatch(name=value,...)".
//
// As in every GStreamer 1.22 tracer, the params string is parsed as the fields of a
// GstStructure ("leakwatch," + params). Values cannot contain ')' or ';'; lists (track) are
// quoted and separated by ',' or '|' or spaces.
#pragma once

#include <string>
#include <vector>

namespace leakwatch {

struct Params {
  double interval_s = 1.0;         // sampling period; 0 = no sampler thread (sample-now only)
  unsigned window = 60;            // samples per trend window
  double grace_s = 5.0;            // NULL -> destroyed grace period
  std::vector<std::string> track;  // extra type names to record one by one
  std::string report;              // JSON report path
  std::string html;                // HTML report path
  double report_interval_s = 0;    // periodic rewrite of the reports, 0 = off
  bool fail_on_leak = false;
  bool stack = false;   // creation stacks for detailed records
  bool summary = true;  // stderr summary at gst_deinit()
  bool nvml = true;
  bool objects = true;          // object/pipeline hooks; false = process sampling only
  unsigned history = 3600;      // sample rows kept for reports (older ones thinned)
  double rss_slope = 1048576;   // bytes per minute
  double rss_growth = 2097152;  // bytes
  double fd_growth = 2;         // DRM, /dev/nvidia and dmabuf descriptors
  double fd_other_growth = 16;  // every other descriptor class and the total
  double thread_slope = 0.1;    // threads per minute (one per ten minutes)
  double thread_growth = 2;     // threads
  double gpu_slope = 1048576;   // bytes per minute
  double gpu_growth = 4194304;  // bytes
  double object_growth = 4;     // live objects of one tracked type
  // Metrics endpoint (docs/leakwatch.md, "Prometheus"): -1 = off, 0 = a free port.
  int metrics_port = -1;
  std::string metrics_address = "127.0.0.1";
  std::string metrics_file;            // exposition rewritten every interval
  unsigned metrics_max_types = 0;      // 0 = every GType its own series
  bool metrics_element_stats = false;  // other elements' `stats` structures too
  unsigned metrics_max_element_series = 2000;
};

// Exit status of a process whose leakwatch found leaks with fail-on-leak=true.
constexpr int kFailOnLeakExitStatus = 65;

// Parses @params (may be null or empty) into @out (defaults for everything not given).
// Returns "" when everything was understood, else one human-readable warning naming the
// offending parameters and listing the accepted ones.
std::string parse_params(const char *params, Params &out);

// "interval=1, window=60, ..." — every parameter with its default.
std::string accepted_params();

}  // namespace leakwatch
