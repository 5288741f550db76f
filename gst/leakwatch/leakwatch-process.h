// What the process holds, read from /proc: RSS, descriptors by class, threads by name, GPU
// memory per DRM driver (fdinfo), and NVIDIA memory through NVML when it can be loaded.
//
// Descriptor classes (from the /proc/self/fd link target, then fstat of the open file):
//   drm-render   character device of major 226 with minor >= 128, or any path whose last
//                component is renderD<N> (so simulated render nodes in a temp dir count too)
//   drm-primary  character device of major 226 with minor < 128, or a path ending in
//                dri/card<N>
//   nvidia       a path under /dev/nvidia (nvidiactl, nvidia0, nvidia-uvm...)
//   dmabuf       anon_inode:dmabuf or /dmabuf: targets
//   socket       socket:[inode]
//   pipe         pipe:[inode]
//   eventfd      anon_inode:[eventfd]
//   file         any other regular file, including memfds (/memfd:name) and deleted files
//   other        everything else (ttys, /dev/null, epoll and timerfd inodes, directories...)
#pragma once

#include "leakwatch-nvml.h"

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace leakwatch {

enum class FdClass : int {
  kDrmRender = 0,
  kDrmPrimary,
  kNvidia,
  kDmabuf,
  kSocket,
  kPipe,
  kEventfd,
  kFile,
  kOther,
  kCount
};
constexpr int kFdClassCount = static_cast<int>(FdClass::kCount);
const char *fd_class_name(FdClass c);

// @target: readlink() of /proc/self/fd/N. @have_stat/@mode/@rdev: stat() of the open file.
FdClass classify_fd(const std::string &target, bool have_stat, mode_t mode, dev_t rdev);

// Thread grouping key: runs of digits are folded into '#', so queue0:src and queue17:src both
// count as queue#:src; an empty name becomes "(unnamed)".
std::string thread_group(const std::string &comm);

// GLib's own helper threads, at most one of each per process: the thread-pool spawner
// (`pool-spawner`, GLib 2.76+, so Debian 13 but not 12), the GIO worker (`gmain`) and the
// D-Bus worker (`gdbus`). The first one appearing is GLib starting its helper, not growth.
bool glib_helper_thread(const std::string &group);

// One DRM client as described by /proc/self/fdinfo/N (kernel drm-usage-stats keys).
struct DrmClient {
  std::string driver;     // drm-driver
  std::string client_id;  // drm-client-id (several descriptors may share one client)
  int64_t total = 0;      // sum of drm-total-* (or drm-memory-* on older kernels), bytes
  int64_t resident = 0;   // sum of drm-resident-*, bytes
  bool has_memory = false;
};
// Returns false when the text has no drm-driver key (not a DRM client).
bool parse_drm_fdinfo(const std::string &text, DrmClient &out);

struct ProcessSnapshot {
  int64_t rss = 0;  // bytes
  std::array<int64_t, kFdClassCount> fds{};
  int64_t fds_total = 0;
  std::map<std::string, int64_t> threads;  // thread_group() -> count
  int64_t threads_total = 0;
  std::map<std::string, int64_t> gpu;  // "<driver>" and "<driver>-resident" -> bytes
  int64_t nvml = -1;                   // bytes used by this process on NVIDIA GPUs, -1 = n/a
};

class ProcessProbe {
 public:
  explicit ProcessProbe(bool use_nvml = true);
  ProcessSnapshot sample();

 private:
  std::string drm_driver_name(int fd, const std::string &fdinfo_driver);
  bool use_nvml_;
  NvmlProbe nvml_;
};

}  // namespace leakwatch
