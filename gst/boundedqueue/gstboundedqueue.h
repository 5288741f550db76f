// GObject glue of the boundedqueue element; the logic lives in boundedqueue-*.h.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_BOUNDED_QUEUE (gst_bounded_queue_get_type())
G_DECLARE_FINAL_TYPE(GstBoundedQueue, gst_bounded_queue, GST, BOUNDED_QUEUE, GstElement)

#define GST_TYPE_BOUNDED_QUEUE_LEAKY (gst_bounded_queue_leaky_get_type())
GType gst_bounded_queue_leaky_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(boundedqueue);

G_END_DECLS
