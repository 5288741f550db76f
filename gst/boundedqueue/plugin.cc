// The boundedqueue plugin: registers the boundedqueue element.
#include <config.h>

#include <gst/gst.h>

#include "gstboundedqueue.h"

static gboolean plugin_init(GstPlugin *plugin) {
  return GST_ELEMENT_REGISTER(boundedqueue, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, boundedqueue,
                  "A queue with a hard bound, GOP-safe drops and exact accounting", plugin_init,
                  VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
