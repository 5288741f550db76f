#include "leakwatch-nvml.h"

#include <dlfcn.h>

#include <vector>

namespace leakwatch {

namespace {
// The few NVML declarations needed, written from the public API documentation.
using nvmlReturn = int;
using nvmlDevice = void *;
constexpr nvmlReturn kNvmlSuccess = 0;
constexpr nvmlReturn kNvmlInsufficientSize = 7;
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
};
struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};
constexpr unsigned long long kNvmlValueNotAvailable = ~0ull;
}  // namespace

struct NvmlProbe::Api {
  nvmlReturn (*init)() = nullptr;
  nvmlReturn (*shutdown)() = nullptr;
  nvmlReturn (*device_count)(unsigned int *) = nullptr;
  nvmlReturn (*device_by_index)(unsigned int, nvmlDevice *) = nullptr;
  // v2/v3 variants take ProcessInfoV2, the original one ProcessInfoV1.
  nvmlReturn (*compute_v2)(nvmlDevice, unsigned int *, ProcessInfoV2 *) = nullptr;
  nvmlReturn (*graphics_v2)(nvmlDevice, unsigned int *, ProcessInfoV2 *) = nullptr;
  nvmlReturn (*compute_v1)(nvmlDevice, unsigned int *, ProcessInfoV1 *) = nullptr;
  nvmlReturn (*graphics_v1)(nvmlDevice, unsigned int *, ProcessInfoV1 *) = nullptr;
};

NvmlProbe::~NvmlProbe() {
  if (api_ != nullptr && api_->shutdown != nullptr)
    api_->shutdown();
  delete api_;
  if (lib_ != nullptr)
    dlclose(lib_);
}

bool NvmlProbe::load() {
  if (tried_)
    return api_ != nullptr;
  tried_ = true;
  lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib_ == nullptr)
    return false;
  auto api = new Api();
  auto sym = [this](const char *name) { return dlsym(lib_, name); };
  api->init = reinterpret_cast<decltype(api->init)>(sym("nvmlInit_v2"));
  api->shutdown = reinterpret_cast<decltype(api->shutdown)>(sym("nvmlShutdown"));
  api->device_count = reinterpret_cast<decltype(api->device_count)>(sym("nvmlDeviceGetCount_v2"));
  api->device_by_index =
      reinterpret_cast<decltype(api->device_by_index)>(sym("nvmlDeviceGetHandleByIndex_v2"));
  void *c = sym("nvmlDeviceGetComputeRunningProcesses_v3");
  if (c == nullptr)
    c = sym("nvmlDeviceGetComputeRunningProcesses_v2");
  void *g = sym("nvmlDeviceGetGraphicsRunningProcesses_v3");
  if (g == nullptr)
    g = sym("nvmlDeviceGetGraphicsRunningProcesses_v2");
  api->compute_v2 = reinterpret_cast<decltype(api->compute_v2)>(c);
  api->graphics_v2 = reinterpret_cast<decltype(api->graphics_v2)>(g);
  if (c == nullptr)
    api->compute_v1 =
        reinterpret_cast<decltype(api->compute_v1)>(sym("nvmlDeviceGetComputeRunningProcesses"));
  if (g == nullptr)
    api->graphics_v1 =
        reinterpret_cast<decltype(api->graphics_v1)>(sym("nvmlDeviceGetGraphicsRunningProcesses"));
  if (api->init == nullptr || api->device_count == nullptr || api->device_by_index == nullptr ||
      api->init() != kNvmlSuccess) {
    delete api;
    dlclose(lib_);
    lib_ = nullptr;
    return false;
  }
  api_ = api;
  return true;
}

bool NvmlProbe::available() {
  std::lock_guard<std::mutex> lock(mutex_);
  return load();
}

int64_t NvmlProbe::process_used_bytes(unsigned pid) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!load())
    return -1;
  unsigned int count = 0;
  if (api_->device_count(&count) != kNvmlSuccess)
    return -1;
  int64_t used = 0;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice dev = nullptr;
    if (api_->device_by_index(i, &dev) != kNvmlSuccess)
      continue;
    auto add_v2 = [&](nvmlReturn (*fn)(nvmlDevice, unsigned int *, ProcessInfoV2 *)) {
      if (fn == nullptr)
        return;
      std::vector<ProcessInfoV2> infos(64);
      unsigned int n = static_cast<unsigned int>(infos.size());
      nvmlReturn r = fn(dev, &n, infos.data());
      if (r == kNvmlInsufficientSize) {
        infos.resize(n + 16);
        n = static_cast<unsigned int>(infos.size());
        r = fn(dev, &n, infos.data());
      }
      if (r != kNvmlSuccess)
        return;
      for (unsigned int k = 0; k < n && k < infos.size(); ++k)
        if (infos[k].pid == pid && infos[k].used_gpu_memory != kNvmlValueNotAvailable)
          used += static_cast<int64_t>(infos[k].used_gpu_memory);
    };
    auto add_v1 = [&](nvmlReturn (*fn)(nvmlDevice, unsigned int *, ProcessInfoV1 *)) {
      if (fn == nullptr)
        return;
      std::vector<ProcessInfoV1> infos(64);
      unsigned int n = static_cast<unsigned int>(infos.size());
      if (fn(dev, &n, infos.data()) != kNvmlSuccess)
        return;
      for (unsigned int k = 0; k < n && k < infos.size(); ++k)
        if (infos[k].pid == pid && infos[k].used_gpu_memory != kNvmlValueNotAvailable)
          used += static_cast<int64_t>(infos[k].used_gpu_memory);
    };
    add_v2(api_->compute_v2);
    add_v2(api_->graphics_v2);
    add_v1(api_->compute_v1);
    add_v1(api_->graphics_v1);
  }
  return used;
}

}  // namespace leakwatch
