// libvasim-udev-shim.so: an LD_PRELOAD shim that lets GStreamer's `va` plugin (plugins-bad
// 1.22, built with GUdev as Debian builds it) enumerate vasim's node. The plugin finds render
// nodes only through g_udev_client_query_by_subsystem("drm"), which reads sysfs
// (/sys/class/drm), and a container has no DRM devices there; GST_VA_ALL_DRIVERS does not
// exist in 1.22 and the plugin has no other way to be pointed at a node. This shim answers
// exactly three GUdev calls, and only as far as vasim's node (VASIM_NODE=<path>) is concerned:
//   g_udev_client_query_by_subsystem(client, "drm")   the real list plus one stand-in device
//   g_udev_device_get_device_file(stand-in)           VASIM_NODE
//   g_udev_device_get_name(stand-in)                  "renderD128" (the plugin keeps only
//                                                     devices whose name starts "renderD")
// The stand-in is a plain GObject (the plugin only reads those two properties and unrefs it);
// every other device and call goes to the real libgudev (dlsym(RTLD_NEXT)).
#include <dlfcn.h>
#include <glib-object.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

namespace {

std::mutex g_lock;
std::set<const void *> *g_standins = nullptr;  // never freed: preload lifetime

void forget(gpointer, GObject *where) {
  std::lock_guard<std::mutex> g(g_lock);
  g_standins->erase(where);
}

bool is_standin(const void *dev) {
  std::lock_guard<std::mutex> g(g_lock);
  return g_standins && g_standins->count(dev) != 0;
}

template <typename Fn>
Fn real(const char *name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) GList *g_udev_client_query_by_subsystem(void *client,
                                                                               const char *sub) {
  auto fn = real<GList *(*)(void *, const char *)>("g_udev_client_query_by_subsystem");
  GList *list = fn ? fn(client, sub) : nullptr;
  const char *node = std::getenv("VASIM_NODE");
  if (sub && std::strcmp(sub, "drm") == 0 && node && *node) {
    GObject *standin = G_OBJECT(g_object_new(G_TYPE_OBJECT, nullptr));
    {
      std::lock_guard<std::mutex> g(g_lock);
      if (!g_standins)
        g_standins = new std::set<const void *>();
      g_standins->insert(standin);
    }
    g_object_weak_ref(standin, forget, nullptr);
    list = g_list_append(list, standin);
  }
  return list;
}

__attribute__((visibility("default"))) const char *g_udev_device_get_device_file(void *dev) {
  if (is_standin(dev))
    return std::getenv("VASIM_NODE");
  auto fn = real<const char *(*)(void *)>("g_udev_device_get_device_file");
  return fn ? fn(dev) : nullptr;
}

__attribute__((visibility("default"))) const char *g_udev_device_get_name(void *dev) {
  if (is_standin(dev))
    return "renderD128";
  auto fn = real<const char *(*)(void *)>("g_udev_device_get_name");
  return fn ? fn(dev) : nullptr;
}

}  // extern "C"
