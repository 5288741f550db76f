// Helpers shared by the vapoolenc-on-vasim tests (vapoolenc-va.cc) and their leakwatch child
// scenarios (vapoolenc-va-leakwatch.cc): pool statistics, probing up front, session pipelines.
#pragma once

#include "steady-check.h"
#include "vasim-pipelines.h"
#include "vasim-testing.h"

#include <gst/gst.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vapoolenc_va {

// The leakwatch child scenarios run outside libcheck's test runner, where fail_unless cannot
// report (it exits with "No messaging setup" even when the check holds): the helpers below
// check with VA_CHECK, which prints and exits there.
inline bool &child_mode() {
  static bool child = false;
  return child;
}

#define VA_CHECK(cond, ...)                             \
  do {                                                  \
    if (vapoolenc_va::child_mode()) {                   \
      if (!(cond)) {                                    \
        std::printf("CHILD CHECK FAILED: %s: ", #cond); \
        std::printf(__VA_ARGS__);                       \
        std::printf("\n");                              \
        std::fflush(stdout);                            \
        std::exit(1);                                   \
      }                                                 \
    } else {                                            \
      fail_unless(cond, __VA_ARGS__);                   \
    }                                                   \
  } while (0)

// The raw format every session here encodes: one pool key.
inline const char *kCaps = "video/x-raw,format=NV12,width=320,height=240,framerate=30/1";

// vapoolenc's process-wide pool-stats, read through a throw-away instance.
struct PoolStats {
  guint64 created = 0, reused = 0, destroyed = 0, fallbacks = 0, cleanup_failures = 0;
  guint parked = 0, active = 0;
  double reuse_rate = 0;
};

inline PoolStats pool_stats() {
  GstElement *e = gst_element_factory_make("vapoolenc", nullptr);
  VA_CHECK(e != nullptr, "vapoolenc not found");
  gst_object_ref_sink(e);
  GstStructure *s = nullptr;
  g_object_get(e, "pool-stats", &s, nullptr);
  PoolStats p;
  VA_CHECK(
      gst_structure_get(s, "created", G_TYPE_UINT64, &p.created, "reused", G_TYPE_UINT64, &p.reused,
                        "destroyed", G_TYPE_UINT64, &p.destroyed, "fallbacks", G_TYPE_UINT64,
                        &p.fallbacks, "cleanup-failures", G_TYPE_UINT64, &p.cleanup_failures,
                        "parked", G_TYPE_UINT, &p.parked, "active", G_TYPE_UINT, &p.active,
                        "reuse-rate", G_TYPE_DOUBLE, &p.reuse_rate, nullptr),
      "pool-stats fields");
  gst_structure_free(s);
  gst_object_unref(e);
  return p;
}

// Destroys every parked session (waiting for each), returns how many.
inline guint drain_pool() {
  GstElement *e = gst_element_factory_make("vapoolenc", nullptr);
  VA_CHECK(e != nullptr, "vapoolenc not found");
  gst_object_ref_sink(e);
  guint n = 0;
  g_signal_emit_by_name(e, "drain-pool", &n);
  gst_object_unref(e);
  return n;
}

// Runs vapoolenc's probing (done once per process, at NULL->READY) for `props` now, so that
// the driver's counts taken afterwards are those of the sessions alone.
inline void probe(const std::string &props) {
  const std::string desc = "fakesrc ! vapoolenc " + props + " ! fakesink";
  GstElement *p = gst_parse_launch(desc.c_str(), nullptr);
  VA_CHECK(p != nullptr, "cannot build %s", desc.c_str());
  VA_CHECK(gst_element_set_state(p, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS,
           "vapoolenc %s did not reach READY", props.c_str());
  VA_CHECK(gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS, "to NULL");
  gst_object_unref(p);
}

template <typename T>
T get(GstElement *pipeline, const char *element, const char *prop) {
  GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), element);
  fail_unless(e != nullptr, "no element %s", element);
  T v{};
  g_object_get(e, prop, &v, nullptr);
  gst_object_unref(e);
  return v;
}

inline std::string get_string(GstElement *pipeline, const char *element, const char *prop) {
  gchar *v = get<gchar *>(pipeline, element, prop);
  std::string s = v ? v : "";
  g_free(v);
  return s;
}

// One short session: 3 frames through `encoder` (a launch-line fragment named `enc`). Returns
// the time from PLAYING to the first encoded buffer, in ms. The pipeline is left PLAYING after
// EOS (the session still holds what it holds) for the caller to inspect and stop.
inline double session(GstElement *p, guint frames = 3) {
  vasim_test::SrcWatch watch;
  watch.attach(p, "enc");
  const auto start = std::chrono::steady_clock::now();
  gst_element_set_state(p, GST_STATE_PLAYING);
  const std::string err = vasim_test::wait_end(p);
  fail_unless(err.empty(), "session error: %s", err.c_str());
  fail_unless_equals_int(watch.count(), frames);
  return std::chrono::duration<double, std::milli>(watch.first - start).count();
}

inline std::string session_desc(const std::string &encoder, guint frames = 3) {
  return "videotestsrc num-buffers=" + std::to_string(frames) + " ! " + kCaps + " ! " + encoder +
         " name=enc ! fakesink sync=false";
}

}  // namespace vapoolenc_va
