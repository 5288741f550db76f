#include "audit.h"

#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>

namespace steady_rtsp {

namespace {

std::string absolute(const std::string &path) {
  gchar *canonical = g_canonicalize_filename(path.c_str(), nullptr);
  std::string result(canonical);
  g_free(canonical);
  return result;
}

}  // namespace

std::string audit_json_path(const Options &o) {
  return absolute(o.audit_dir) + "/leakwatch.json";
}
std::string audit_html_path(const Options &o) {
  return absolute(o.audit_dir) + "/leakwatch.html";
}

bool prepare_audit(const Options &o, std::string &error) {
  const std::string dir = absolute(o.audit_dir);
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
    std::fprintf(stderr, "steady-rtsp: --audit: keeping GST_TRACERS=%s as set\n", existing);
    return true;
  }
  gchar *tracers =
      g_strdup_printf("leakwatch(report=\"%s\",html=\"%s\",report-interval=%d)",
                      audit_json_path(o).c_str(), audit_html_path(o).c_str(), o.report_interval_s);
  g_setenv("GST_TRACERS", tracers, TRUE);
  g_free(tracers);
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

}  // namespace steady_rtsp
