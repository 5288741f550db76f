// Test-side helpers for vasim (tests/vasim, docs/testing-va.md): the simulated or real VA
// environment and the driver's counters. Header-only; include from one gst-check test file.
#pragma once

#include "vasim.h"

#include <gst/check/gstcheck.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace vasim_test {

inline bool real_va() {
  const char *v = g_getenv("GST_STEADY_REAL_VA");
  return v && std::strcmp(v, "1") == 0;
}

// The driver's counters, reached through dlopen of the driver libva loads. Holding the
// handle keeps the driver (and its totals) loaded across vaTerminate.
class Counts {
 public:
  Counts() {
    const char *path = g_getenv("VASIM_DRIVER_PATH");
    if (real_va() || !path)
      return;
    handle_ = dlopen(path, RTLD_NOW);
    fail_unless(handle_ != nullptr, "cannot dlopen %s: %s", path, dlerror());
    get_ = reinterpret_cast<vasim_get_counts_fn>(dlsym(handle_, "vasim_get_counts"));
    reset_ = reinterpret_cast<vasim_reset_totals_fn>(dlsym(handle_, "vasim_reset_totals"));
    wait_ = reinterpret_cast<vasim_wait_displays_fn>(dlsym(handle_, "vasim_wait_displays"));
    fail_unless(get_ && reset_ && wait_);
    reset_();
  }
  ~Counts() {
    if (handle_)
      dlclose(handle_);
  }
  Counts(const Counts &) = delete;
  Counts &operator=(const Counts &) = delete;

  bool available() const { return get_ != nullptr; }
  vasim_counts now() const {
    vasim_counts c{};
    c.version = VASIM_COUNTS_VERSION;
    fail_unless(get_ && get_(&c) == 0);
    return c;
  }
  // After a pipeline is freed: its encoder may release the display a moment later from a
  // GStreamer thread, so wait (bounded) for the display to go before reading the counts.
  void expect_nothing_live() const {
    if (!available())
      return;
    fail_unless(wait_(0, 10000) == 0, "a VA display is still open 10 s after the session");
    const vasim_counts c = now();
    fail_unless_equals_int(c.displays, 0);
    fail_unless_equals_int(c.configs, 0);
    fail_unless_equals_int(c.contexts, 0);
    fail_unless_equals_int(c.surfaces, 0);
    fail_unless_equals_int(c.buffers, 0);
    fail_unless_equals_int(c.images, 0);
  }

 private:
  void *handle_ = nullptr;
  vasim_get_counts_fn get_ = nullptr;
  vasim_reset_totals_fn reset_ = nullptr;
  vasim_wait_displays_fn wait_ = nullptr;
};

inline std::string node_path() {
  const char *p = g_getenv("GST_VAAPI_DRM_DEVICE");
  return p ? p : "/dev/dri/renderD128";
}

// Compares two decoded pictures sample by sample (any 4:2:0 layouts). Returns the number
// of differing samples and the luma PSNR.

// With GST_STEADY_REAL_VA=1 the simulated environment the build sets is taken back before
// anything touches VA, so libva and GStreamer find the machine's real device and driver.
inline void use_real_va_if_asked() {
  if (!real_va())
    return;
  const char *node = g_getenv("VASIM_NODE");
  const char *dev = g_getenv("GST_VAAPI_DRM_DEVICE");
  if (node && dev && std::strcmp(node, dev) == 0)
    g_unsetenv("GST_VAAPI_DRM_DEVICE");
  for (const char *v : {"LIBVA_DRIVERS_PATH", "LIBVA_DRIVER_NAME", "VASIM_NODE",
                        "VASIM_DRIVER_PATH", "GST_VAAPI_ALL_DRIVERS", "GST_VA_ALL_DRIVERS"})
    g_unsetenv(v);
}

// Which VA elements register depends on things GStreamer does not track (LD_PRELOAD, the
// shims): a test binary using a private registry named *vasim-check-registry.bin starts
// from an empty one so it always reflects this environment. Call before gst_check_init().
inline void reset_private_registry() {
  const char *registry = g_getenv("GST_REGISTRY_1_0");
  if (registry && g_str_has_suffix(registry, "vasim-check-registry.bin"))
    unlink(registry);
}

}  // namespace vasim_test
