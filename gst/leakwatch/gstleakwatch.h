// leakwatch tracer: the GObject glue. The logic lives in leakwatch-*.h.
#pragma once

#include <gst/gst.h>
#include <gst/gsttracer.h>

G_BEGIN_DECLS

#define GST_TYPE_LEAKWATCH_TRACER (gst_leakwatch_tracer_get_type())
G_DECLARE_FINAL_TYPE(GstLeakwatchTracer, gst_leakwatch_tracer, GST, LEAKWATCH_TRACER, GstTracer)

G_END_DECLS
