#include "program.h"

#include <gst/gst.h>

#include <cstdio>
#include <string>

namespace steady_examples {

int run_with_gstreamer(const char *program, const AuditSettings &audit,
                       const std::function<int()> &run) {
  if (audit.enabled) {
    std::string error;
    if (!prepare_audit(program, audit, error)) {
      std::fprintf(stderr, "%s: %s\n", program, error.c_str());
      return 2;
    }
  }
  gst_init(nullptr, nullptr);
  if (audit.enabled) {
    if (!audit_active()) {
      std::fprintf(stderr,
                   "%s: --audit: the leakwatch tracer is not available; build gst-steady with "
                   "leakwatch and set GST_PLUGIN_PATH to its build dir\n",
                   program);
      gst_deinit();
      return 2;
    }
    std::printf("%s: auditing with leakwatch: %s, %s\n", program, audit_json_path(audit).c_str(),
                audit_html_path(audit).c_str());
  }
  const int exit_code = run();
  // Pooled encoder sessions are released here, and leakwatch writes its final reports.
  gst_deinit();
  return exit_code;
}

}  // namespace steady_examples
