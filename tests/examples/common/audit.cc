#include "audit.h"

#include <gst/gst.h>

#include <cstdio>

namespace steady_examples {

namespace {

std::string absolute(const std::string &path) {
  g_autofree gchar *canonical = g_canonicalize_filename(path.c_str(), nullptr);
  return canonical;
}

}  // namespace

std::string audit_json_path(const AuditSettings &audit) {
  return absolute(audit.dir) + "/leakwatch.json";
}
std::string audit_html_path(const AuditSettings &audit) {
  return absolute(audit.dir) + "/leakwatch.html";
}

bool prepare_audit(const char *program, const AuditSettings &audit, std::string &error) {
  const std::string dir = absolute(audit.dir);
  // GST_TRACERS values cannot hold ')' or ';', and quotes would end the quoted value.
  if (dir.find_first_of(")(;\"") != std::string::npos) {
    error = "--audit-dir must not contain ( ) ; or \": " + dir;
    return false;
  }
  if (g_mkdir_with_parents(dir.c_str(), 0755) != 0) {
    error = "cannot create --audit-dir " + dir;
    return false;
  }
  if (const char *existing = g_getenv("GST_TRACERS")) {
    std::fprintf(stderr, "%s: --audit: keeping GST_TRACERS=%s as set\n", program, existing);
    return true;
  }
  g_autofree gchar *tracers = g_strdup_printf(
      "leakwatch(report=\"%s\",html=\"%s\",report-interval=%d)", audit_json_path(audit).c_str(),
      audit_html_path(audit).c_str(), audit.report_interval_s);
  g_setenv("GST_TRACERS", tracers, TRUE);
  return true;
}

bool audit_active() {
  bool found = false;
  GList *tracers = gst_tracing_get_active_tracers();
  for (GList *l = tracers; l; l = l->next) {
    if (g_strrstr(G_OBJECT_TYPE_NAME(l->data), "LeakWatch") ||
        g_strrstr(G_OBJECT_TYPE_NAME(l->data), "Leakwatch"))
      found = true;
  }
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

}  // namespace steady_examples
