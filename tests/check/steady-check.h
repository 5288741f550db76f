// Shared helpers for gst-steady's gst-check tests.
#pragma once

#include <gst/check/gstcheck.h>

#include <cstdio>

// Check has no notion of a skipped test: a test that needs something absent (hardware, an
// optional plugin) prints this marker and returns. scripts/summarize.py counts the markers
// as skipped, not passed.
#define STEADY_SKIP(...)                                                 \
  do {                                                                   \
    g_autofree gchar *steady_skip_reason = g_strdup_printf(__VA_ARGS__); \
    std::printf("STEADY-SKIP: %s: %s\n", __func__, steady_skip_reason);  \
    std::fflush(stdout);                                                 \
    return;                                                              \
  } while (0)

// True when an element factory is available (plugin installed and loadable).
static inline bool steady_have_factory(const char *name) {
  GstElementFactory *factory = gst_element_factory_find(name);
  if (!factory)
    return false;
  gst_object_unref(factory);
  return true;
}
