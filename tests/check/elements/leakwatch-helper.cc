// Child process for the leakwatch tests: runs one scenario under whatever GST_TRACERS the test
// gives it, then gst_deinit(), where leakwatch writes its summary and reports and applies
// fail-on-leak. Deliberate leaks happen here, never in the test process (whose own core
// `leaks` tracer must stay clean).
//
//   leakwatch-helper SCENARIO
#include "steady-tracing.h"
#include <gst/gst.h>

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

GstElement *find_element_or_die(const char *desc) {
  GError *error = nullptr;
  GstElement *e = gst_parse_launch(desc, &error);
  if (e == nullptr) {
    std::fprintf(stderr, "helper: cannot build '%s': %s\n", desc, error ? error->message : "?");
    std::exit(2);
  }
  return e;
}

void run_to_eos(GstElement *pipeline) {
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (msg == nullptr || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS) {
    std::fprintf(stderr, "helper: pipeline did not reach EOS\n");
    std::exit(3);
  }
  gst_message_unref(msg);
  gst_object_unref(bus);
}

GstObject *leakwatch_tracer() {
  GstObject *found = steady::find_active_tracer("GstLeakwatchTracer");
  return found;
}

void sample_now() {
  GstObject *tracer = leakwatch_tracer();
  if (tracer == nullptr) {
    std::fprintf(stderr, "helper: no leakwatch tracer active\n");
    std::exit(4);
  }
  guint alerts = 0;
  g_signal_emit_by_name(tracer, "sample-now", &alerts);
  gst_object_unref(tracer);
}

// Deliberately leaked objects that must be modified after creation.
GstElement *volatile kept_element = nullptr;
GstCaps *volatile kept_caps = nullptr;

// Counts the sampler thread's "sample taken" log lines; main waits on the condition.
GMutex sample_lock;
GCond sample_cond;
int samples_seen = 0;
bool samples_on_leakwatch_thread = true;

void count_samples(GstDebugCategory *category, GstDebugLevel, const gchar *, const gchar *, gint,
                   GObject *, GstDebugMessage *message, gpointer) {
  if (g_strcmp0(gst_debug_category_get_name(category), "leakwatch") != 0 ||
      !g_str_has_prefix(gst_debug_message_get(message), "sample taken"))
    return;
  char name[16] = "";
  pthread_getname_np(pthread_self(), name, sizeof(name));
  g_mutex_lock(&sample_lock);
  samples_seen++;
  if (g_strcmp0(name, "leakwatch") != 0)
    samples_on_leakwatch_thread = false;
  g_cond_broadcast(&sample_cond);
  g_mutex_unlock(&sample_lock);
}

}  // namespace

// "deinit-at-exit": an application that leaves gst_deinit() to an atexit handler, with
// handlers of its own registered before and after it and a static destructor.
static void early_handler() {
  std::printf("helper: atexit handler registered before gst_init ran\n");
}
static void late_handler() {
  std::printf("helper: atexit handler registered after gst_deinit's ran\n");
}
struct StaticMarker {
  bool armed = false;
  ~StaticMarker() {
    if (armed)
      std::printf("helper: static destructor ran\n");
  }
};
static StaticMarker static_marker;

int main(int argc, char **argv) {
  const char *scenario = argc > 1 ? argv[1] : "noop";
  const bool deinit_at_exit = !std::strcmp(scenario, "deinit-at-exit");
  if (deinit_at_exit) {
    static_marker.armed = true;
    std::atexit(early_handler);
  }
  gst_init(&argc, &argv);
  if (deinit_at_exit) {
    std::atexit(gst_deinit);
    std::atexit(late_handler);
    GstElement *e = gst_element_factory_make("queue", "leaky-queue");
    (void)e;   // deliberately leaked
    return 0;  // exit() runs the handlers: late_handler, gst_deinit, early_handler
  }

  if (!std::strcmp(scenario, "noop")) {
  } else if (!std::strcmp(scenario, "leak-element")) {
    GstElement *e = gst_element_factory_make("queue", "leaky-queue");
    (void)e;  // deliberately leaked
  } else if (!std::strcmp(scenario, "leak-flagged")) {
    // Flagged as may-be-leaked (as GStreamer does for its own singletons): not a leak.
    // Kept in globals: gst_element_factory_make() is declared G_GNUC_MALLOC, so GCC may drop
    // a flag store into an object that never escapes the function.
    kept_element = gst_element_factory_make("queue", "flagged-queue");
    GST_OBJECT_FLAG_SET(kept_element, GST_OBJECT_FLAG_MAY_BE_LEAKED);
    kept_caps = gst_caps_new_empty_simple("video/x-raw");
    GST_MINI_OBJECT_FLAG_SET(kept_caps, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
  } else if (!std::strcmp(scenario, "leak-caps")) {
    GstCaps *caps = gst_caps_new_empty_simple("video/x-raw");
    (void)caps;  // deliberately leaked
  } else if (!std::strcmp(scenario, "leak-pad")) {
    GstPad *pad = gst_pad_new("leaky-pad", GST_PAD_SRC);
    (void)pad;  // deliberately leaked
  } else if (!std::strcmp(scenario, "leak-pool")) {
    GstBufferPool *pool = gst_buffer_pool_new();
    gst_object_set_name(GST_OBJECT(pool), "leaky-pool");  // deliberately leaked
  } else if (!std::strcmp(scenario, "leak-buffer")) {
    GstBuffer *buffer = gst_buffer_new_allocate(nullptr, 64, nullptr);
    (void)buffer;  // deliberately leaked (with its GstMemory)
  } else if (!std::strcmp(scenario, "leak-from-pipeline")) {
    // An element kept alive after its pipeline was set to NULL and destroyed.
    GstElement *p = find_element_or_die("fakesrc num-buffers=5 ! queue name=kept-queue ! fakesink");
    gst_object_set_name(GST_OBJECT(p), "owner");
    GstElement *q = gst_bin_get_by_name(GST_BIN(p), "kept-queue");  // the leaked reference
    run_to_eos(p);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    sample_now();
    (void)q;
  } else if (!std::strcmp(scenario, "context-from-pipeline")) {
    // An object in no bin, made known by a pipeline's element in a have-context message (as
    // cudaupload posts its GstCudaContext), then kept after the pipeline is gone.
    GstElement *p = gst_pipeline_new("ctx-first-name");
    gst_object_set_name(GST_OBJECT(p), "ctx-owner");  // renamed, no state change yet
    GstElement *poster = gst_element_factory_make("identity", "ctx-poster");
    gst_bin_add(GST_BIN(p), poster);
    GstBufferPool *pool = gst_buffer_pool_new();
    gst_object_set_name(GST_OBJECT(pool), "ctx-pool");
    GstContext *context = gst_context_new("test.context", TRUE);
    gst_structure_set(gst_context_writable_structure(context), "test.object", GST_TYPE_BUFFER_POOL,
                      pool, nullptr);
    gst_element_post_message(poster, gst_message_new_have_context(GST_OBJECT(poster), context));
    GstBus *bus = gst_element_get_bus(p);
    gst_bus_set_flushing(bus, TRUE);  // drop the message (it holds the context)
    gst_object_unref(bus);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    sample_now();
    (void)pool;  // the deliberately kept reference
  } else if (!std::strcmp(scenario, "moved-out-of-pipeline")) {
    // An element taken out of its pipeline (as a pool parks an encoder) and then kept: it is
    // a leak of its own at exit, but not a leftover of the pipeline it left.
    GstElement *p =
        find_element_or_die("fakesrc num-buffers=5 ! queue name=moved-queue ! fakesink");
    gst_object_set_name(GST_OBJECT(p), "former-owner");
    run_to_eos(p);
    gst_element_set_state(p, GST_STATE_NULL);
    GstElement *q = gst_bin_get_by_name(GST_BIN(p), "moved-queue");  // the leaked reference
    gst_bin_remove(GST_BIN(p), q);
    gst_object_unref(p);
    sample_now();
    (void)q;
  } else if (!std::strcmp(scenario, "clean")) {
    // 100 sessions created and destroyed, and one pipeline cycled NULL <-> PLAYING 100 times.
    for (int i = 0; i < 100; ++i) {
      GstElement *p = find_element_or_die("fakesrc num-buffers=10 ! queue ! fakesink");
      run_to_eos(p);
      gst_element_set_state(p, GST_STATE_NULL);
      gst_object_unref(p);
    }
    GstElement *p = find_element_or_die("fakesrc num-buffers=3 ! queue ! fakesink");
    gst_object_set_name(GST_OBJECT(p), "cycled");
    for (int i = 0; i < 100; ++i) {
      run_to_eos(p);
      gst_element_set_state(p, GST_STATE_NULL);
    }
    gst_object_unref(p);
    sample_now();
  } else if (!std::strcmp(scenario, "drop-playing")) {
    GstElement *p = gst_pipeline_new("dropped");
    gst_bin_add(GST_BIN(p), gst_element_factory_make("identity", nullptr));
    gst_element_set_state(p, GST_STATE_PLAYING);
    // Unread state-changed messages on the bus hold references to the pipeline; flush them
    // so the last unref really finalizes it while PLAYING (GStreamer prints a critical).
    GstBus *bus = gst_element_get_bus(p);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
    gst_object_unref(p);
  } else if (!std::strcmp(scenario, "abandon-playing")) {
    // Dropped while PLAYING with its bus still full: the messages keep it alive.
    GstElement *p = gst_pipeline_new("abandoned");
    gst_bin_add(GST_BIN(p), gst_element_factory_make("identity", nullptr));
    gst_element_set_state(p, GST_STATE_PLAYING);
    gst_object_unref(p);
  } else if (!std::strcmp(scenario, "periodic-report")) {
    // report-interval: a sampling round rewrites the report while running.
    const char *path = argc > 2 ? argv[2] : "";
    sample_now();
    gchar *text = nullptr;
    if (g_file_get_contents(path, &text, nullptr, nullptr)) {
      std::printf("periodic: %s\n", std::strstr(text, "\"final\": false") ? "final=false" : "?");
      std::printf("periodic: %s\n",
                  std::strstr(text, "\"verdict\": \"running\"") ? "verdict=running" : "?");
      g_free(text);
    }
  } else if (!std::strcmp(scenario, "sampler-thread")) {
    // Waits (on a condition, with a safety timeout) until leakwatch's own thread sampled 3 times.
    gst_debug_set_threshold_for_name("leakwatch", GST_LEVEL_LOG);
    gst_debug_add_log_function(count_samples, nullptr, nullptr);
    gint64 deadline = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
    g_mutex_lock(&sample_lock);
    while (samples_seen < 3)
      if (!g_cond_wait_until(&sample_cond, &sample_lock, deadline))
        break;
    std::printf("sampler: %s %s\n", samples_seen >= 3 ? "3-samples" : "timeout",
                samples_on_leakwatch_thread ? "on-leakwatch-thread" : "on-another-thread");
    g_mutex_unlock(&sample_lock);
    gst_debug_remove_log_function(count_samples);
  } else if (!std::strcmp(scenario, "keep-after-null")) {
    GstElement *p = gst_pipeline_new("kept");
    GstElement *extra = GST_ELEMENT(gst_object_ref(p));  // a forgotten second reference
    gst_element_set_state(p, GST_STATE_PLAYING);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    sample_now();  // past grace=0: judged now, with its refcount
    (void)extra;
  } else {
    std::fprintf(stderr, "helper: unknown scenario %s\n", scenario);
    return 2;
  }
  gst_deinit();
  return 0;
}
