// Child process for the NVIDIA hardware tests (tests/hw/leakwatch-nvidia.cc) and the
// benchmark in tests/hw/run.sh: runs sessions of a CUDA pipeline under whatever GST_TRACERS it
// is given, each session its own pipeline created, run to EOS, set to NULL and destroyed, then
// gst_deinit() (where leakwatch prints its summary, writes its report and applies
// fail-on-leak).
//
//   leakwatch-nvidia-helper convert SESSIONS [leak]
//   leakwatch-nvidia-helper decode SESSIONS H264FILE [leak]
//   leakwatch-nvidia-helper nvml-cost QUERIES
//
// With `leak`, one reference to each session's GstCudaContext is kept on purpose: it is taken
// from the have-context message the CUDA element posts when it creates the context (the
// context's structure holds the GstCudaContext), so gstreamer-cuda is never linked.
// When leakwatch is active, `sample-now` is emitted after every session (unless
// LEAKWATCH_HW_SAMPLE_EACH=0, as the sampling-overhead benchmark sets): with interval=0 the
// report then holds exactly one sample per session.
// Prints "helper: SESSIONS sessions in S s" (the churn's wall time) and, with `leak`, the
// number of contexts kept.
#include "leakwatch-nvml.h"
#include "steady-tracing.h"

#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Deliberately leaked references, one per session with `leak`.
std::vector<GObject *> kept_contexts;

GstBusSyncReply keep_cuda_context(GstBus *, GstMessage *msg, gpointer) {
  if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_HAVE_CONTEXT)
    return GST_BUS_PASS;
  GstContext *context = nullptr;
  gst_message_parse_have_context(msg, &context);
  if (g_strcmp0(gst_context_get_context_type(context), "gst.cuda.context") == 0) {
    const GValue *v =
        gst_structure_get_value(gst_context_get_structure(context), "gst.cuda.context");
    if (v != nullptr && G_VALUE_HOLDS_OBJECT(v))
      kept_contexts.push_back(G_OBJECT(g_value_dup_object(v)));  // the deliberate leak
  }
  gst_context_unref(context);
  return GST_BUS_PASS;
}

void run_session(const std::string &desc, const char *clip, int index, bool leak) {
  GError *error = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &error);
  if (p == nullptr) {
    std::fprintf(stderr, "helper: cannot build '%s': %s\n", desc.c_str(),
                 error ? error->message : "?");
    std::exit(2);
  }
  if (clip != nullptr) {
    GstElement *src = gst_bin_get_by_name(GST_BIN(p), "clip");
    g_object_set(src, "location", clip, nullptr);
    gst_object_unref(src);
  }
  gchar *name = g_strdup_printf("session-%d", index);
  gst_object_set_name(GST_OBJECT(p), name);
  g_free(name);
  GstBus *bus = gst_element_get_bus(p);
  if (leak)
    gst_bus_set_sync_handler(bus, keep_cuda_context, nullptr, nullptr);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (msg == nullptr || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS) {
    gchar *debug = nullptr;
    GError *err = nullptr;
    if (msg != nullptr)
      gst_message_parse_error(msg, &err, &debug);
    std::fprintf(stderr, "helper: session %d did not reach EOS: %s (%s)\n", index,
                 err ? err->message : "timeout", debug ? debug : "");
    std::exit(3);
  }
  gst_message_unref(msg);
  gst_element_set_state(p, GST_STATE_NULL);
  if (leak)
    gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(p);
}

void sample_now() {
  GstObject *tracer = steady::find_active_tracer("GstLeakwatchTracer");
  if (tracer == nullptr)
    return;  // the benchmark's anchor runs without leakwatch
  guint alerts = 0;
  g_signal_emit_by_name(tracer, "sample-now", &alerts);
  gst_object_unref(tracer);
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  const char *scenario = argc > 1 ? argv[1] : "";
  const int n = argc > 2 ? std::atoi(argv[2]) : 0;

  if (!std::strcmp(scenario, "nvml-cost")) {
    // The cost of one NVML query as leakwatch's sampler makes it.
    leakwatch::NvmlProbe nvml;
    if (!nvml.available()) {
      std::printf("helper: NVML not available\n");
      return 4;
    }
    gint64 t0 = g_get_monotonic_time();
    int64_t used = 0;
    for (int i = 0; i < n; ++i)
      used = nvml.process_used_bytes(static_cast<unsigned>(getpid()));
    gint64 t1 = g_get_monotonic_time();
    std::printf("helper: %d NVML queries in %.3f s (%.1f us each), last %lld bytes\n", n,
                (t1 - t0) / 1e6, n ? (t1 - t0) / static_cast<double>(n) : 0.0,
                static_cast<long long>(used));
    gst_deinit();
    return 0;
  }

  std::string desc;
  const char *clip = nullptr;  // set as a property: no quoting rules of gst_parse to meet
  bool leak = false;
  if (!std::strcmp(scenario, "convert")) {
    desc =
        "videotestsrc num-buffers=30 ! video/x-raw,format=NV12,width=640,height=480 ! "
        "cudaupload ! cudaconvert ! video/x-raw(memory:CUDAMemory),format=I420 ! "
        "cudadownload ! fakesink";
    leak = argc > 3 && !std::strcmp(argv[3], "leak");
  } else if (!std::strcmp(scenario, "decode") && argc > 3) {
    desc = "filesrc name=clip ! h264parse ! nvh264dec ! fakesink";
    clip = argv[3];
    leak = argc > 4 && !std::strcmp(argv[4], "leak");
  } else {
    std::fprintf(stderr, "helper: usage: convert N [leak] | decode N FILE [leak] | nvml-cost N\n");
    return 2;
  }

  const bool sample_each = g_strcmp0(g_getenv("LEAKWATCH_HW_SAMPLE_EACH"), "0") != 0;
  gint64 t0 = g_get_monotonic_time();
  for (int i = 1; i <= n; ++i) {
    run_session(desc, clip, i, leak);
    if (sample_each)
      sample_now();
  }
  gint64 t1 = g_get_monotonic_time();
  std::printf("helper: %d sessions in %.3f s\n", n, (t1 - t0) / 1e6);
  if (leak)
    std::printf("helper: kept %zu GstCudaContext references\n", kept_contexts.size());
  std::fflush(stdout);
  gst_deinit();
  return 0;
}
