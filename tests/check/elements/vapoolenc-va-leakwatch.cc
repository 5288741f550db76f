// Child scenarios of the vapoolenc-va tests, run by test-vapoolenc-va itself as
// `test-vapoolenc-va --leakwatch-child=SCENARIO` with GST_TRACERS=leakwatch(...) set, since
// tracers are chosen at gst_init(). Each prints CHILD lines on stdout for the parent to check
// and exits 0 when its own checks held (1 otherwise); leakwatch prints its summary on stderr
// and writes its JSON report at gst_deinit().
//
//   pool-churn   40 sessions through `vapoolenc device=vaapi` after a warm-up one, a
//                leakwatch checkpoint after each; then the pool is drained.
//   plain-leak   10 sessions of plain vaapih264enc, one pipeline of which ("leaked-session")
//                is deliberately left in READY, never set to NULL nor unreffed.
#include "steady-tracing.h"
#include "vapoolenc-va-common.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

using namespace vapoolenc_va;

#define CHILD_CHECK VA_CHECK

GstObject *find_leakwatch() {
  GstObject *found = steady::find_active_tracer("GstLeakwatchTracer");
  return found;
}

struct Checkpoint {
  guint objects = 0;
  gint drm_render = 0;  // change of drm-render descriptors since the previous checkpoint
  std::string text;
};

Checkpoint checkpoint(GstObject *lw) {
  guint alerts = 0;
  g_signal_emit_by_name(lw, "sample-now", &alerts);
  GstStructure *cp = nullptr;
  g_signal_emit_by_name(lw, "checkpoint", &cp);
  CHILD_CHECK(cp != nullptr, "no checkpoint");
  Checkpoint c;
  gst_structure_get_uint(cp, "objects", &c.objects);
  GstStructure *cls = nullptr;
  if (gst_structure_get(cp, "fds-by-class", GST_TYPE_STRUCTURE, &cls, nullptr)) {
    gst_structure_get_int(cls, "drm-render", &c.drm_render);
    gst_structure_free(cls);
  }
  gchar *text = gst_structure_to_string(cp);
  c.text = text;
  g_free(text);
  gst_structure_free(cp);
  return c;
}

void run_to_end(GstElement *p) {
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  CHILD_CHECK(m != nullptr, "no EOS within 60 s");
  CHILD_CHECK(GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS, "session failed");
  gst_message_unref(m);
  gst_object_unref(bus);
}

GstElement *parse(const std::string &desc) {
  GstElement *p = gst_parse_launch(desc.c_str(), nullptr);
  CHILD_CHECK(p != nullptr, "cannot build %s", desc.c_str());
  return p;
}

// Stops a session and waits until its pipeline is finalized (a GStreamer thread may hold the
// last reference a moment after the caller's unref), so a checkpoint taken next sees it gone.
void stop(GstElement *p) {
  CHILD_CHECK(gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS, "stop");
  struct Gone {
    std::mutex lock;
    std::condition_variable cv;
    bool gone = false;
  } gone;
  // Object data is freed at the very end of finalization (after the tracers' destroyed hook);
  // a weak reference would fire earlier, at dispose.
  g_object_set_qdata_full(G_OBJECT(p), g_quark_from_static_string("vapoolenc-va-gone"), &gone,
                          [](gpointer data) {
                            auto *g = static_cast<Gone *>(data);
                            std::lock_guard<std::mutex> guard(g->lock);
                            g->gone = true;
                            g->cv.notify_all();
                          });
  gst_object_unref(p);
  std::unique_lock<std::mutex> lk(gone.lock);
  CHILD_CHECK(gone.cv.wait_for(lk, std::chrono::seconds(10), [&] { return gone.gone; }),
              "a stopped pipeline was not freed within 10 s");
}

int pool_churn(GstObject *lw) {
  const std::string node = vasim_test::node_path();
  probe("device=vaapi");
  const std::string desc = session_desc("vapoolenc device=vaapi");
  // Warm-up: the session is created, then parked with its display (one descriptor).
  GstElement *p = parse(desc);
  run_to_end(p);
  stop(p);
  const Checkpoint base = checkpoint(lw);
  std::printf("CHILD baseline drm-render=%+d objects=%u\n", base.drm_render, base.objects);
  const int kSessions = 40;
  int drm_max = 0, objects_max = 0;
  for (int i = 0; i < kSessions; ++i) {
    p = parse(desc);
    run_to_end(p);
    CHILD_CHECK(vasim_test::count_fds_on(node) == 1, "session %d: %d descriptors", i,
                vasim_test::count_fds_on(node));
    stop(p);
    const Checkpoint c = checkpoint(lw);
    drm_max = std::max(drm_max, std::abs(c.drm_render));
    objects_max = std::max(objects_max, int(c.objects));
    CHILD_CHECK(c.drm_render == 0, "session %d changed the render-node descriptors: %s", i,
                c.text.c_str());
    CHILD_CHECK(c.objects == 0, "session %d left objects: %s", i, c.text.c_str());
  }
  const PoolStats st = pool_stats();
  std::printf("CHILD sessions=%d drm-render-delta-max=%d objects-left-max=%d reused=%llu\n",
              kSessions, drm_max, objects_max, static_cast<unsigned long long>(st.reused));
  CHILD_CHECK(st.reused == guint64(kSessions), "reused %llu",
              static_cast<unsigned long long>(st.reused));
  CHILD_CHECK(drain_pool() == 1, "drain");
  const Checkpoint drained = checkpoint(lw);
  std::printf("CHILD drained drm-render=%+d\n", drained.drm_render);
  CHILD_CHECK(vasim_test::count_fds_on(node) == 0, "descriptors after the drain");
  std::printf("CHILD pool-churn ok\n");
  return 0;
}

int plain_leak(GstObject *lw) {
  const int kSessions = 10, kLeaked = 6;
  GstElement *leaked = nullptr;
  for (int i = 0; i < kSessions; ++i) {
    std::string desc = "videotestsrc num-buffers=3 ! " + std::string(kCaps) +
                       " ! vaapih264enc name=" + (i == kLeaked ? "vaapih264enc-leaked" : "enc") +
                       " ! fakesink sync=false";
    GstElement *p = parse(desc);
    gst_object_set_name(GST_OBJECT(p),
                        i == kLeaked ? "leaked-session" : ("session-" + std::to_string(i)).c_str());
    run_to_end(p);
    if (i == kLeaked) {
      // The bug: this session is only taken back to READY (its streaming threads stop, so
      // gst_deinit() does not wait on them) and never to NULL nor unreffed. Its encoder keeps
      // its VA display, and so its render-node descriptor.
      CHILD_CHECK(gst_element_set_state(p, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS, "READY");
      leaked = p;
    } else {
      stop(p);
    }
    checkpoint(lw);
  }
  CHILD_CHECK(leaked != nullptr, "no leaked pipeline");
  std::printf("CHILD plain-leak ok sessions=%d leaked=%s\n", kSessions, GST_OBJECT_NAME(leaked));
  return 0;
}

}  // namespace

int vapoolenc_va_leakwatch_child(const char *scenario) {
  vapoolenc_va::child_mode() = true;
  gst_init(nullptr, nullptr);
  GstObject *lw = find_leakwatch();
  CHILD_CHECK(lw != nullptr, "leakwatch is not active (GST_TRACERS=%s)", g_getenv("GST_TRACERS"));
  int status = 2;
  if (std::strcmp(scenario, "pool-churn") == 0)
    status = pool_churn(lw);
  else if (std::strcmp(scenario, "plain-leak") == 0)
    status = plain_leak(lw);
  else
    std::printf("CHILD unknown scenario %s\n", scenario);
  std::fflush(stdout);
  gst_object_unref(lw);
  gst_deinit();  // leakwatch's summary and report
  return status;
}
