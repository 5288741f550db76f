// Finding a tracer instance that GST_TRACERS enabled, for applications, tests and benchmarks
// that talk to it (leakwatch's `checkpoint` and `sample-now` action signals).
#pragma once

#include <gst/gst.h>

namespace steady {

// The active tracer whose GType is @type_name (e.g. "GstLeakwatchTracer"), with a reference
// the caller owns, or nullptr when GST_TRACERS did not enable it.
inline GstObject *find_active_tracer(const char *type_name) {
  GList *tracers = gst_tracing_get_active_tracers();
  GstObject *found = nullptr;
  for (GList *l = tracers; l != nullptr && found == nullptr; l = l->next)
    if (g_str_equal(G_OBJECT_TYPE_NAME(l->data), type_name))
      found = GST_OBJECT(gst_object_ref(l->data));
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

}  // namespace steady
