// Reports built from a ReportData: the human summary, the JSON document and the HTML page.
#pragma once

#include "leakwatch-monitor.h"

#include <string>

namespace leakwatch {

// The stderr summary: leaks grouped by type with counts, example names and owning pipelines;
// pipeline verdicts; descriptor and thread classes that grew; trend verdicts.
std::string format_summary(const ReportData &d);

// The JSON report (schema documented in docs/leakwatch.md), full sample series included.
std::string to_json(const ReportData &d);

// One self-contained HTML page: inline SVG plots and a little inline JavaScript, no network.
std::string to_html(const ReportData &d);

// Writes @content to @path through a temporary file and a rename, so a reader never sees a
// half-written report. Returns false and fills @error on failure.
bool write_file_atomic(const std::string &path, const std::string &content, std::string &error);

// Shared helpers.
std::string json_escape(const std::string &s);
std::string html_escape(const std::string &s);
std::string human_bytes(double bytes);

// Leaked objects grouped by type: (type, objects) in descending count order.
struct LeakGroup {
  std::string type;
  std::vector<const AliveObject *> objects;
};
std::vector<LeakGroup> group_leaks(const ReportData &d);

}  // namespace leakwatch
