// Element statistics for the metrics endpoint, read on leakwatch's own thread at scrape time.
//
// Walks every live top-level pipeline (nested bins included) and reads, by property name and
// only when the property exists with the expected type (element versions may rename them):
//   boundedqueue    its `stats` structure (counters, current and peak levels)
//   sharedframetee  `buffers-in` and `num-src-pads`, and each src pad's `stats` structure
//   vapoolenc       `failovers`, `frames-in/-out/-lost`, `reused`, and once per process the
//                   shared pool's `pool-stats` structure
//   any element     with `generic=true`: the numeric fields of a read-only `stats` property
//                   holding a GstStructure (rtpjitterbuffer, rtpsession, srtsink...)
// Each property read takes the element's own lock for a counter read, as gst-inspect does; no
// streaming thread runs this code. At most @max_series values are returned, the rest counted.
#pragma once

#include "leakwatch-metrics.h"

#include <glib-object.h>
#include <gst/gst.h>

#include <string>
#include <vector>

namespace leakwatch {

metrics::ElementValues collect_element_values(const std::vector<GObject *> &pipelines, bool generic,
                                              size_t max_series);

// The metric name of one field of a stats structure: @prefix + the field with '-' as '_',
// "-time" nanosecond fields renamed to "_seconds" (@scale set to 1e-9), and whether the
// field is a counter (integers that only grow) or a gauge (levels, peaks, lags, booleans,
// rates).
struct FieldMetric {
  std::string name;
  metrics::Type type = metrics::Type::kGauge;
  double scale = 1;
};
FieldMetric field_metric(const std::string &prefix, const std::string &field, bool integer);

}  // namespace leakwatch
