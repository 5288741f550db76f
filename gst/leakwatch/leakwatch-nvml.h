// NVIDIA GPU memory used by this process, through NVML loaded at run time.
//
// libnvidia-ml.so.1 is opened with dlopen() on first use; when it is absent (no NVIDIA
// driver) every query answers -1 and nothing else happens. It is never a build dependency.
#pragma once

#include <cstdint>
#include <mutex>

namespace leakwatch {

class NvmlProbe {
 public:
  NvmlProbe() = default;
  ~NvmlProbe();
  NvmlProbe(const NvmlProbe &) = delete;
  NvmlProbe &operator=(const NvmlProbe &) = delete;

  // Bytes of GPU memory used by process @pid on all NVIDIA devices; -1 when NVML is missing.
  int64_t process_used_bytes(unsigned pid);
  bool available();

 private:
  bool load();

  std::mutex mutex_;
  bool tried_ = false;
  void *lib_ = nullptr;
  struct Api;
  Api *api_ = nullptr;
};

}  // namespace leakwatch
