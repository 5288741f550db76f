// The test-facing API of vasim_drv_video.so, the simulated VA-API driver of gst-steady's
// tests. The driver is loaded by libva; a test reaches these functions with
//   void *h = dlopen("<LIBVA_DRIVERS_PATH>/vasim_drv_video.so", RTLD_NOW);
//   auto get = (vasim_get_counts_fn) dlsym(h, "vasim_get_counts");
// (dlopen of the same path returns the already loaded driver, and keeping the handle keeps
// the process-wide counters alive across vaTerminate's dlclose).
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VASIM_COUNTS_VERSION 1

// Live objects (now) and totals since the driver was loaded, summed over every display.
struct vasim_counts {
  int32_t version;  // VASIM_COUNTS_VERSION
  // Live now.
  int32_t displays;  // initialised driver instances (vaInitialize .. vaTerminate)
  int32_t configs;
  int32_t contexts;
  int32_t surfaces;
  int32_t buffers;  // every VA buffer, including coded buffers and image buffers
  int32_t images;
  // Peaks of the live counts since load (or the last vasim_reset_totals).
  int32_t peak_contexts;
  int32_t peak_surfaces;
  // Totals since load (or the last vasim_reset_totals).
  int64_t displays_opened;
  int64_t contexts_created;
  int64_t contexts_refused;  // vaCreateContext failed because of VASIM_MAX_CONTEXTS
  int64_t frames_encoded;
  int64_t frames_failed;  // vaEndPicture failed because of VASIM_FAIL_AFTER_FRAMES
  // Objects still alive when their display was terminated (freed by the driver then).
  int64_t leaked_at_terminate;
};

// Fills *out; returns 0, or -1 when out is NULL or out->version is not VASIM_COUNTS_VERSION.
int vasim_get_counts(struct vasim_counts *out);
typedef int (*vasim_get_counts_fn)(struct vasim_counts *out);

// Resets the totals and peaks (not the live counts). Returns 0.
int vasim_reset_totals(void);
typedef int (*vasim_reset_totals_fn)(void);

// Waits until `displays` displays are live (a GStreamer element may drop its last display
// reference on another thread just after its pipeline is freed). Returns 0, or -1 when the
// timeout passed first.
int vasim_wait_displays(int32_t displays, int32_t timeout_ms);
typedef int (*vasim_wait_displays_fn)(int32_t displays, int32_t timeout_ms);

#ifdef __cplusplus
}
#endif
