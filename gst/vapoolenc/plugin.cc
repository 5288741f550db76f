// The vapoolenc plugin.
//
// Shutdown: GStreamer has no plugin-unload hook, but gst_deinit() drops the registry, and the
// registry holds the only reference to this plugin's GstPlugin object. A weak reference on it
// therefore fires inside gst_deinit(), before the tracers (core `leaks`, `leakwatch`) report:
// there the process-wide pool is drained (every parked session set to NULL and freed, the
// shared displays closed, the pool thread joined). No atexit handler is involved; processes
// that never call gst_deinit() simply exit with their parked sessions.
#include <config.h>

#include "gstvapoolenc.h"
#include "vapoolenc-pool.h"

static void on_plugin_finalized(gpointer, GObject *) {
  vapoolenc::SessionPool::global().shutdown();
}

static gboolean plugin_init(GstPlugin *plugin) {
  g_object_weak_ref(G_OBJECT(plugin), on_plugin_finalized, nullptr);
  return GST_ELEMENT_REGISTER(vapoolenc, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, vapoolenc,
                  "Pooled hardware encoder sessions with a session limit, cached probing and "
                  "software fallback",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
