// libvasim-drm-shim.so: an LD_PRELOAD shim that makes one regular file (VASIM_NODE=<path>)
// look like a DRM render node to libva and GStreamer, which check descriptors through
// libdrm (ioctls and sysfs, which a container cannot fake). For a descriptor open on that
// file, and only for it, it answers:
//   drmGetNodeTypeFromFd      DRM_NODE_RENDER  (libva's vaGetDisplayDRM accepts the fd only
//                                               if it is a render or primary node)
//   drmGetVersion             kernel driver "vasim" (libva asks it to pick a driver name;
//                                               libgstva asks it when it opens the node)
//   drmFreeVersion            frees what the drmGetVersion above returned
//   drmGetDeviceNameFromFd2,  the configured path (callers that want the node's name back)
//   drmGetDeviceNameFromFd,
//   drmGetRenderDeviceNameFromFd
// Every other call, and these calls for any other descriptor, go to the real libdrm
// (dlsym(RTLD_NEXT)). VASIM_SHIM_DEBUG=1 logs each answered call to stderr.
#include <xf86drm.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

namespace {

bool is_vasim_fd(int fd) {
  const char *path = std::getenv("VASIM_NODE");
  if (fd < 0 || !path || !*path)
    return false;
  struct stat a, b;
  if (fstat(fd, &a) != 0 || stat(path, &b) != 0)
    return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void trace(const char *call, int fd) {
  const char *dbg = std::getenv("VASIM_SHIM_DEBUG");
  if (dbg && *dbg && std::strcmp(dbg, "0") != 0)
    std::fprintf(stderr, "vasim-drm-shim: answered %s(fd=%d)\n", call, fd);
}

template <typename Fn>
Fn real(const char *name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// drmVersion structs we handed out, so drmFreeVersion can tell ours from libdrm's.
std::mutex g_lock;
std::set<drmVersionPtr> *g_versions = nullptr;  // never freed: preload lifetime

char *node_path_copy() {
  return strdup(std::getenv("VASIM_NODE"));
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int drmGetNodeTypeFromFd(int fd) {
  if (is_vasim_fd(fd)) {
    trace("drmGetNodeTypeFromFd", fd);
    return DRM_NODE_RENDER;
  }
  auto fn = real<int (*)(int)>("drmGetNodeTypeFromFd");
  return fn ? fn(fd) : -1;
}

__attribute__((visibility("default"))) drmVersionPtr drmGetVersion(int fd) {
  if (is_vasim_fd(fd)) {
    trace("drmGetVersion", fd);
    auto *v = static_cast<drmVersionPtr>(std::calloc(1, sizeof(drmVersion)));
    if (!v)
      return nullptr;
    v->version_major = 1;
    v->name = strdup("vasim");
    v->name_len = static_cast<int>(std::strlen(v->name));
    v->date = strdup("20261121");
    v->date_len = static_cast<int>(std::strlen(v->date));
    v->desc = strdup("gst-steady simulated render node");
    v->desc_len = static_cast<int>(std::strlen(v->desc));
    std::lock_guard<std::mutex> g(g_lock);
    if (!g_versions)
      g_versions = new std::set<drmVersionPtr>();
    g_versions->insert(v);
    return v;
  }
  auto fn = real<drmVersionPtr (*)(int)>("drmGetVersion");
  return fn ? fn(fd) : nullptr;
}

__attribute__((visibility("default"))) void drmFreeVersion(drmVersionPtr v) {
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (v && g_versions && g_versions->erase(v) != 0) {
      std::free(v->name);
      std::free(v->date);
      std::free(v->desc);
      std::free(v);
      return;
    }
  }
  auto fn = real<void (*)(drmVersionPtr)>("drmFreeVersion");
  if (fn)
    fn(v);
}

__attribute__((visibility("default"))) char *drmGetDeviceNameFromFd2(int fd) {
  if (is_vasim_fd(fd)) {
    trace("drmGetDeviceNameFromFd2", fd);
    return node_path_copy();
  }
  auto fn = real<char *(*)(int)>("drmGetDeviceNameFromFd2");
  return fn ? fn(fd) : nullptr;
}

__attribute__((visibility("default"))) char *drmGetDeviceNameFromFd(int fd) {
  if (is_vasim_fd(fd)) {
    trace("drmGetDeviceNameFromFd", fd);
    return node_path_copy();
  }
  auto fn = real<char *(*)(int)>("drmGetDeviceNameFromFd");
  return fn ? fn(fd) : nullptr;
}

__attribute__((visibility("default"))) char *drmGetRenderDeviceNameFromFd(int fd) {
  if (is_vasim_fd(fd)) {
    trace("drmGetRenderDeviceNameFromFd", fd);
    return node_path_copy();
  }
  auto fn = real<char *(*)(int)>("drmGetRenderDeviceNameFromFd");
  return fn ? fn(fd) : nullptr;
}

}  // extern "C"
