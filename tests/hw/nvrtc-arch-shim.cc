// Test infrastructure for tests/hw/run.sh, not part of any plugin: a stand-in libnvrtc for
// GStreamer 1.22's cudaconvert on hosts whose only NVRTC is CUDA 13's.
//
// GStreamer 1.22's gstcuda compiles its conversion kernels with NVRTC at run time, asking
// first for --gpu-architecture=compute_30 and then compute_52; CUDA 13's NVRTC accepts
// neither (its oldest target is compute_75), so cudaconvert cannot negotiate there. Later
// GStreamer versions pick the architecture of the device. This library forwards the seven
// NVRTC calls gstcuda 1.22 makes to the real library (path in LEAKWATCH_HW_NVRTC) and
// rewrites an architecture option older than compute_75 to compute_75. run.sh points
// GST_CUDA_NVRTC_LIBNAME here only when the host has no NVRTC older than 13.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void *real_lib() {
  static void *lib = [] {
    const char *path = std::getenv("LEAKWATCH_HW_NVRTC");
    void *l = dlopen(path ? path : "libnvrtc.so", RTLD_NOW | RTLD_LOCAL);
    if (l == nullptr)
      std::fprintf(stderr, "nvrtc-arch-shim: cannot open %s: %s\n", path ? path : "libnvrtc.so",
                   dlerror());
    return l;
  }();
  return lib;
}

template <typename Fn>
Fn real(const char *name) {
  void *lib = real_lib();
  return lib ? reinterpret_cast<Fn>(dlsym(lib, name)) : nullptr;
}

constexpr int kNvrtcInternalError = 11;  // NVRTC_ERROR_INTERNAL_ERROR

}  // namespace

extern "C" {

typedef struct _nvrtcProgram *nvrtcProgram;

int nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name, int n_headers,
                       const char *const *headers, const char *const *include_names) {
  auto fn = real<int (*)(nvrtcProgram *, const char *, const char *, int, const char *const *,
                         const char *const *)>("nvrtcCreateProgram");
  return fn ? fn(prog, src, name, n_headers, headers, include_names) : kNvrtcInternalError;
}

int nvrtcCompileProgram(nvrtcProgram prog, int n_options, const char *const *options) {
  auto fn = real<int (*)(nvrtcProgram, int, const char *const *)>("nvrtcCompileProgram");
  if (fn == nullptr)
    return kNvrtcInternalError;
  const std::string prefix = "--gpu-architecture=compute_";
  std::vector<std::string> kept;
  for (int i = 0; i < n_options; ++i) {
    std::string o = options[i];
    if (o.rfind(prefix, 0) == 0 && std::atoi(o.c_str() + prefix.size()) < 75)
      o = prefix + "75";
    kept.push_back(o);
  }
  std::vector<const char *> argv;
  for (const std::string &o : kept)
    argv.push_back(o.c_str());
  return fn(prog, n_options, argv.data());
}

int nvrtcDestroyProgram(nvrtcProgram *prog) {
  auto fn = real<int (*)(nvrtcProgram *)>("nvrtcDestroyProgram");
  return fn ? fn(prog) : kNvrtcInternalError;
}

int nvrtcGetPTXSize(nvrtcProgram prog, size_t *size) {
  auto fn = real<int (*)(nvrtcProgram, size_t *)>("nvrtcGetPTXSize");
  return fn ? fn(prog, size) : kNvrtcInternalError;
}

int nvrtcGetPTX(nvrtcProgram prog, char *ptx) {
  auto fn = real<int (*)(nvrtcProgram, char *)>("nvrtcGetPTX");
  return fn ? fn(prog, ptx) : kNvrtcInternalError;
}

int nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *size) {
  auto fn = real<int (*)(nvrtcProgram, size_t *)>("nvrtcGetProgramLogSize");
  return fn ? fn(prog, size) : kNvrtcInternalError;
}

int nvrtcGetProgramLog(nvrtcProgram prog, char *log) {
  auto fn = real<int (*)(nvrtcProgram, char *)>("nvrtcGetProgramLog");
  return fn ? fn(prog, log) : kNvrtcInternalError;
}

const char *nvrtcGetErrorString(int result) {
  auto fn = real<const char *(*)(int)>("nvrtcGetErrorString");
  return fn ? fn(result) : "nvrtc-arch-shim: real NVRTC not loaded";
}

}  // extern "C"
