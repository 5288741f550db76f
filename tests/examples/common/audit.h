// --audit: runs the process under gst-steady's leakwatch tracer.
#pragma once

#include <string>

namespace steady_examples {

// What --audit, --audit-dir and --report-interval asked for.
struct AuditSettings {
  bool enabled = false;
  std::string dir;
  int report_interval_s = 10;
};

// Before gst_init(): creates the report directory and sets GST_TRACERS to
// leakwatch(report=DIR/leakwatch.json,html=DIR/leakwatch.html,report-interval=N).
// Leaves a GST_TRACERS the user set alone (and says so, prefixed with program).
bool prepare_audit(const char *program, const AuditSettings &audit, std::string &error);
// After gst_init(): true when a leakwatch tracer is really active.
bool audit_active();
// Where the reports go (absolute paths).
std::string audit_json_path(const AuditSettings &audit);
std::string audit_html_path(const AuditSettings &audit);

}  // namespace steady_examples
