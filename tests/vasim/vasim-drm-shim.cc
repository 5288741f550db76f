// libvasim-drm-shim.so: an LD_PRELOAD shim that makes one regular file (VASIM_NODE=<path>)
// look like a DRM render node to libva, GStreamer and our own probing, which check
// descriptors through libdrm (ioctls and sysfs, which a container cannot fake). For a
// descriptor open on that file, and only for it, it answers:
//   drmGetNodeTypeFromFd      DRM_NODE_RENDER   libva's vaGetDisplayDRM takes the fd only
//                                               if it is a render or primary node (needed)
//   drmGetVersion             kernel driver "vasim": libva asks it when it picks the
//                                               driver, libgstva when it opens a node (needed)
//   drmFreeVersion            frees what the drmGetVersion above returned
//   drmGetDeviceNameFromFd2,  the configured path: for code that maps a descriptor back to
//   drmGetDeviceNameFromFd,   its node (display sharing keyed by node); not called by libva
//   drmGetRenderDeviceNameFromFd   or the GStreamer VA plugins
//   drmGetDevice2, drmGetDevice    a (made-up) PCI device whose render node is the path
// and, for enumeration (drmGetDevices2/drmGetDevices, as the brief says to enumerate render
// nodes), it appends that same device to what the real libdrm finds. Devices are allocated
// as one block, as libdrm lays out PCI devices, so the real drmFreeDevice(s) frees them.
// Every other call, and these calls for any other descriptor, go to the real libdrm
// (dlsym(RTLD_NEXT)). VASIM_SHIM_DEBUG=1 logs each answered call to stderr.
#include <xf86drm.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cerrno>
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

bool have_node() {
  const char *path = std::getenv("VASIM_NODE");
  struct stat st;
  return path && *path && stat(path, &st) == 0;
}

// One allocation holding the device, its node array, bus and device info and the path, as
// libdrm lays out a PCI device (drmFreeDevice frees a PCI device with one free()). The PCI
// identity is made up: vendor 0xffff (no vendor), bus 0000:ff:1f.7.
drmDevicePtr make_device() {
  const char *path = std::getenv("VASIM_NODE");
  const size_t path_len = std::strlen(path) + 1;
  const size_t size = sizeof(drmDevice) + DRM_NODE_MAX * sizeof(char *) + sizeof(drmPciBusInfo) +
                      sizeof(drmPciDeviceInfo) + path_len;
  auto *block = static_cast<char *>(std::calloc(1, size));
  if (!block)
    return nullptr;
  auto *dev = reinterpret_cast<drmDevicePtr>(block);
  char *p = block + sizeof(drmDevice);
  dev->nodes = reinterpret_cast<char **>(p);
  p += DRM_NODE_MAX * sizeof(char *);
  dev->businfo.pci = reinterpret_cast<drmPciBusInfoPtr>(p);
  p += sizeof(drmPciBusInfo);
  dev->deviceinfo.pci = reinterpret_cast<drmPciDeviceInfoPtr>(p);
  p += sizeof(drmPciDeviceInfo);
  std::memcpy(p, path, path_len);
  dev->nodes[DRM_NODE_RENDER] = p;
  dev->available_nodes = 1 << DRM_NODE_RENDER;
  dev->bustype = DRM_BUS_PCI;
  dev->businfo.pci->domain = 0;
  dev->businfo.pci->bus = 0xff;
  dev->businfo.pci->dev = 0x1f;
  dev->businfo.pci->func = 7;
  dev->deviceinfo.pci->vendor_id = 0xffff;
  dev->deviceinfo.pci->device_id = 0x0001;
  dev->deviceinfo.pci->subvendor_id = 0xffff;
  dev->deviceinfo.pci->subdevice_id = 0x0001;
  return dev;
}

int append_device(int found, drmDevicePtr devices[], int max) {
  if (!have_node())
    return found;
  found = found < 0 ? 0 : found;
  if (devices) {
    if (found >= max)
      return found;
    devices[found] = make_device();
    if (!devices[found])
      return found;
  }
  trace("drmGetDevices2", -1);
  return found + 1;
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

__attribute__((visibility("default"))) int drmGetDevice2(int fd, uint32_t flags,
                                                         drmDevicePtr *device) {
  if (is_vasim_fd(fd) && device) {
    trace("drmGetDevice2", fd);
    *device = make_device();
    return *device ? 0 : -ENOMEM;
  }
  auto fn = real<int (*)(int, uint32_t, drmDevicePtr *)>("drmGetDevice2");
  return fn ? fn(fd, flags, device) : -ENODEV;
}

__attribute__((visibility("default"))) int drmGetDevice(int fd, drmDevicePtr *device) {
  if (is_vasim_fd(fd) && device) {
    trace("drmGetDevice", fd);
    *device = make_device();
    return *device ? 0 : -ENOMEM;
  }
  auto fn = real<int (*)(int, drmDevicePtr *)>("drmGetDevice");
  return fn ? fn(fd, device) : -ENODEV;
}

__attribute__((visibility("default"))) int drmGetDevices2(uint32_t flags, drmDevicePtr devices[],
                                                          int max) {
  auto fn = real<int (*)(uint32_t, drmDevicePtr[], int)>("drmGetDevices2");
  return append_device(fn ? fn(flags, devices, max) : 0, devices, max);
}

__attribute__((visibility("default"))) int drmGetDevices(drmDevicePtr devices[], int max) {
  auto fn = real<int (*)(drmDevicePtr[], int)>("drmGetDevices");
  return append_device(fn ? fn(devices, max) : 0, devices, max);
}

}  // extern "C"
