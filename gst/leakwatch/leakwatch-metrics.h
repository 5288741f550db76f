// The Prometheus / OpenMetrics exposition of what leakwatch knows, built from plain data.
//
// Two layers, both plain C++ that tests drive directly:
//   - Exposition: metric families (name, type, unit, help, samples with labels) rendered in
//     the Prometheus text format 0.0.4 or OpenMetrics 1.0 text, with names sanitized and label
//     values escaped (backslash, double quote, newline; bytes that are not UTF-8 become
//     U+FFFD, so a pipeline named with Latin-1 bytes still yields a valid document).
//   - build_exposition(): leakwatch's snapshot (process sample, type counters, pipelines,
//     trends, element statistics) turned into those families with Prometheus' naming rules:
//     units in names, `_total` on counters, the standard `process_*` names.
#pragma once

#include "leakwatch-lifecycle.h"
#include "leakwatch-monitor.h"
#include "leakwatch-process.h"
#include "leakwatch-trend.h"

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace leakwatch {
namespace metrics {

enum class Format { kPrometheus, kOpenMetrics };

// "text/plain; version=0.0.4; charset=utf-8" or
// "application/openmetrics-text; version=1.0.0; charset=utf-8".
const char *content_type(Format f);
// OpenMetrics when the Accept header names application/openmetrics-text, else 0.0.4.
Format negotiate(const std::string &accept);

// A metric or label name made of [a-zA-Z0-9_] (':' is reserved for recording rules), never
// starting with a digit; every other byte becomes '_'.
std::string sanitize_name(const std::string &name);
// A label value as it appears between the quotes.
std::string escape_label_value(const std::string &value);
// Shortest text that reads back as @v: integers exactly, NaN, +Inf, -Inf.
std::string format_value(double v);

enum class Type { kCounter, kGauge };
using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  double value = 0;
};

struct Family {
  std::string name;  // without `_total` for counters; ends with `_<unit>` when unit is set
  Type type = Type::kGauge;
  std::string unit;  // "bytes", "seconds" or ""
  std::string help;
  std::vector<Sample> samples;
};

class Exposition {
 public:
  // Adds (or returns the existing) family; @name is sanitized.
  Family &family(const std::string &name, Type type, const std::string &help,
                 const std::string &unit = "");
  void add(Family &f, Labels labels, double value) {
    f.samples.push_back({std::move(labels), value});
  }
  const std::deque<Family> &families() const { return families_; }
  size_t series() const;
  // The document; families with no sample are left out. OpenMetrics ends with "# EOF".
  std::string render(Format format) const;

 private:
  std::deque<Family> families_;  // a deque: family() references stay valid
};

// One value read from an element (or one of its pads) on leakwatch's own thread.
struct ElementValue {
  std::string family;  // full name without `_total`, e.g. steady_boundedqueue_buffers_dropped
  Type type = Type::kGauge;
  std::string help;
  Labels labels;  // pipeline, element, pad...
  double value = 0;
};

struct ElementValues {
  std::vector<ElementValue> values;
  size_t omitted = 0;  // series left out by the max-element-series bound
};

// What /proc says about the process beyond leakwatch's sample (read at scrape time).
struct ProcessStat {
  double cpu_seconds = -1;  // utime + stime
  double start_time = -1;   // seconds since the Unix epoch
  double virtual_bytes = -1;
  double max_fds = -1;  // soft RLIMIT_NOFILE
};
ProcessStat read_process_stat();

struct Input {
  ProcessSnapshot last;  // the latest sample
  size_t samples = 0;
  ProcessStat stat;
  std::vector<TypeCount> types;
  std::vector<PipelineInfo> pipelines;
  std::vector<TrendState> trends;
  ElementValues elements;
  unsigned max_types = 0;  // 0 = every type; else the N with most live objects plus `other`
  double interval_s = 0;
};

Exposition build_exposition(const Input &in);

}  // namespace metrics
}  // namespace leakwatch
