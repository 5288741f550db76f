// --audit: runs the process under gst-steady's leakwatch tracer.
#pragma once

#include <string>

#include "options.h"

namespace steady_rtsp {

// Before gst_init(): creates the report directory and sets GST_TRACERS to
// leakwatch(report=DIR/leakwatch.json,html=DIR/leakwatch.html,report-interval=N).
// Leaves a GST_TRACERS the user set alone (and says so).
bool prepare_audit(const Options &options, std::string &error);
// After gst_init(): true when a leakwatch tracer is really active.
bool audit_active();
// Where the reports go (absolute paths).
std::string audit_json_path(const Options &options);
std::string audit_html_path(const Options &options);

}  // namespace steady_rtsp
