#include "vapoolenc-vaprobe.h"

#include <fcntl.h>
#include <unistd.h>

#include <va/va.h>
#include <va/va_drm.h>
#include <xf86drm.h>

#include <cstdlib>
#include <memory>

namespace vapoolenc {

namespace {

// Owns one descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0)
      close(fd_);
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Owns one initialised VADisplay (vaTerminate does not close the descriptor: Fd does).
class VaDpy {
 public:
  explicit VaDpy(VADisplay dpy) : dpy_(dpy) {}
  ~VaDpy() {
    if (dpy_ && initialized_)
      vaTerminate(dpy_);
  }
  VaDpy(const VaDpy &) = delete;
  VaDpy &operator=(const VaDpy &) = delete;
  VADisplay get() const { return dpy_; }
  void set_initialized() { initialized_ = true; }

 private:
  VADisplay dpy_;
  bool initialized_ = false;
};

std::vector<VAProfile> profiles_for(Codec codec) {
  switch (codec) {
    case Codec::kH264:
      return {VAProfileH264ConstrainedBaseline, VAProfileH264Main, VAProfileH264High};
    case Codec::kH265:
      return {VAProfileHEVCMain, VAProfileHEVCMain10};
    case Codec::kVp8:
      return {VAProfileVP8Version0_3};
    case Codec::kVp9:
      return {VAProfileVP9Profile0, VAProfileVP9Profile2};
    case Codec::kAv1:
      return {VAProfileAV1Profile0, VAProfileAV1Profile1};
  }
  return {};
}

void silent_log(void *, const char *) {}

}  // namespace

std::vector<std::string> SystemVaBackend::render_nodes() {
  std::vector<std::string> nodes;
  if (const char *env = std::getenv("VAPOOLENC_RENDER_NODES")) {
    std::string list = env, cur;
    for (char c : list + ":") {
      if (c == ':') {
        if (!cur.empty())
          nodes.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    return nodes;
  }
  int n = drmGetDevices2(0, nullptr, 0);
  if (n <= 0)
    return nodes;
  std::vector<drmDevicePtr> devices(static_cast<size_t>(n), nullptr);
  n = drmGetDevices2(0, devices.data(), n);
  for (int i = 0; i < n; i++) {
    if (devices[i]->available_nodes & (1 << DRM_NODE_RENDER))
      nodes.push_back(devices[i]->nodes[DRM_NODE_RENDER]);
  }
  if (n > 0)
    drmFreeDevices(devices.data(), n);
  return nodes;
}

NodeInfo SystemVaBackend::query_node(const std::string &path) {
  NodeInfo info;
  info.path = path;
  Fd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    info.error = "cannot open " + path;
    return info;
  }
  VaDpy dpy(vaGetDisplayDRM(fd.get()));
  if (!dpy.get()) {
    info.error = "vaGetDisplayDRM failed on " + path;
    return info;
  }
  vaSetErrorCallback(dpy.get(), silent_log, nullptr);
  vaSetInfoCallback(dpy.get(), silent_log, nullptr);
  int major = 0, minor = 0;
  if (vaInitialize(dpy.get(), &major, &minor) != VA_STATUS_SUCCESS) {
    info.error = "vaInitialize failed on " + path + " (no usable VA-API driver)";
    return info;
  }
  dpy.set_initialized();
  info.opened = true;
  if (const char *vendor = vaQueryVendorString(dpy.get()))
    info.driver = vendor;

  int max_profiles = vaMaxNumProfiles(dpy.get());
  std::vector<VAProfile> have(static_cast<size_t>(std::max(max_profiles, 1)));
  int num_profiles = 0;
  if (vaQueryConfigProfiles(dpy.get(), have.data(), &num_profiles) != VA_STATUS_SUCCESS)
    num_profiles = 0;
  have.resize(static_cast<size_t>(num_profiles));

  int max_eps = vaMaxNumEntrypoints(dpy.get());
  for (Codec codec : {Codec::kH264, Codec::kH265, Codec::kVp8, Codec::kVp9, Codec::kAv1}) {
    EncodeEntrypoints eps;
    for (VAProfile p : profiles_for(codec)) {
      bool listed = false;
      for (VAProfile h : have)
        listed = listed || h == p;
      if (!listed)
        continue;
      std::vector<VAEntrypoint> list(static_cast<size_t>(std::max(max_eps, 1)));
      int num = 0;
      if (vaQueryConfigEntrypoints(dpy.get(), p, list.data(), &num) != VA_STATUS_SUCCESS)
        continue;
      for (int i = 0; i < num; i++) {
        eps.slice = eps.slice || list[static_cast<size_t>(i)] == VAEntrypointEncSlice;
        eps.slice_lp = eps.slice_lp || list[static_cast<size_t>(i)] == VAEntrypointEncSliceLP;
      }
    }
    if (eps.slice || eps.slice_lp)
      info.encode[codec] = eps;
  }
  return info;
}

}  // namespace vapoolenc
