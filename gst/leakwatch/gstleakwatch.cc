/**
 * SECTION:tracer-leakwatch
 * @title: leakwatch
 * @short_description: names what outlives its session: objects, pipelines, descriptors,
 * threads, RSS and GPU memory, with trend alerts, at low overhead
 *
 * A tracer for long-running GStreamer services and CI jobs. It counts every GstObject and
 * GstMiniObject per type with lock-free counters, records resource-bearing objects (elements,
 * pads, pools, allocators, buses, clocks, displays, contexts) one by one, follows the
 * lifecycle of every top-level pipeline (logged as "Pipeline lifecycle: ..." in the
 * `leakwatch` debug category), samples the process from its own thread (RSS, descriptors by
 * class, threads by name, GPU memory) and raises `leakwatch-alert` element messages on the bus
 * of every live pipeline when a metric keeps growing.
 *
 * ## Example launch line
 * |[
 * GST_TRACERS="leakwatch(html=/tmp/leakwatch.html)" gst-launch-1.0 videotestsrc num-buffers=100 !
 * queue ! fakesink
 * ]|
 *
 * Applications get the instance with gst_tracing_get_active_tracers() and call the `checkpoint`
 * action signal; see docs/leakwatch.md for every parameter, the reports and the exit status of
 * `fail-on-leak=true`.
 */
#include <config.h>

#include "gstleakwatch.h"

#include "leakwatch-exporter.h"
#include "leakwatch-monitor.h"
#include "leakwatch-report.h"
#include "leakwatch-ticker.h"
#include "steady-ptr.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

GST_DEBUG_CATEGORY_STATIC(gst_leakwatch_debug);
#define GST_CAT_DEFAULT gst_leakwatch_debug

struct _GstLeakwatchTracer {
  GstTracer parent;
  leakwatch::Monitor *monitor;
  leakwatch::Ticker *ticker;
  leakwatch::Exporter *exporter;  // metrics endpoint and metrics file
  std::mutex *report_mutex;       // serializes report writing and the periodic-report clock
  int64_t last_report_ns;
};

G_DEFINE_TYPE(GstLeakwatchTracer, gst_leakwatch_tracer, GST_TYPE_TRACER)

enum { SIGNAL_CHECKPOINT, SIGNAL_SAMPLE_NOW, SIGNAL_WRITE_REPORTS, N_SIGNALS };
static guint signals[N_SIGNALS];
enum { PROP_0, PROP_METRICS_PORT };

#define LW(obj) (reinterpret_cast<GstLeakwatchTracer *>(obj))

/* ---- hooks: forward to the monitor, read nothing an object may have freed ---- */

static void on_object_created(GObject *self, GstClockTime, GstObject *object) {
  LW(self)->monitor->object_created(object, G_OBJECT_TYPE(object), GST_OBJECT_NAME(object),
                                    GST_IS_PIPELINE(object), G_OBJECT(object));
}

static void on_object_destroyed(GObject *self, GstClockTime, GstObject *object) {
  // Finalize already freed the name: the monitor only uses the address.
  LW(self)->monitor->object_destroyed(object);
}

static void on_mini_object_created(GObject *self, GstClockTime, GstMiniObject *object) {
  LW(self)->monitor->mini_created(object, GST_MINI_OBJECT_TYPE(object));
}

static void on_mini_object_destroyed(GObject *self, GstClockTime, GstMiniObject *object) {
  // Fires before the free function: the type field is still valid.
  LW(self)->monitor->mini_destroyed(object, GST_MINI_OBJECT_TYPE(object));
}

static void forward_name(GstLeakwatchTracer *lw, GstElement *element) {
  g_autofree gchar *name = gst_object_get_name(GST_OBJECT(element));
  lw->monitor->object_named(element, name, GST_IS_PIPELINE(element));
}

static void on_element_new(GObject *self, GstClockTime, GstElement *element) {
  forward_name(LW(self), element);
}

static void on_bin_add_post(GObject *self, GstClockTime, GstBin *bin, GstElement *element,
                            gboolean result) {
  if (!result)
    return;
  forward_name(LW(self), element);
  LW(self)->monitor->added_to_bin(bin, element, GST_IS_PIPELINE(element));
}

// bin-remove-post does not name the element; removal only fails for an element that is not
// in the bin, which then has no owner to drop anyway. A bin being disposed removes its
// children the same way, after dropping its child bus (set for a bin's whole life
// otherwise): those children stay the pipeline's, so what outlives it is still blamed on it.
static void on_bin_remove_pre(GObject *self, GstClockTime, GstBin *bin, GstElement *element) {
  if (bin->child_bus == nullptr)
    return;
  LW(self)->monitor->removed_from_bin(element);
}

static void on_element_add_pad(GObject *self, GstClockTime, GstElement *element, GstPad *pad) {
  LW(self)->monitor->pad_added(element, pad);
}

// The objects a have-context message carries (GstCudaContext, GstGLContext, displays...) are
// in no bin: the posting element's pipeline is where they were made.
static void note_context_objects(GstLeakwatchTracer *lw, GstElement *element, GstMessage *message) {
  GstContext *context = nullptr;
  gst_message_parse_have_context(message, &context);
  if (context == nullptr)
    return;
  // The pipeline's current name: one given after creation (gst_object_set_name) is otherwise
  // picked up only at its first state change, which a decoder's context can precede.
  GstObject *top = GST_OBJECT(gst_object_ref(element));
  while (GstObject *up = gst_object_get_parent(top)) {
    gst_object_unref(top);
    top = up;
  }
  if (GST_IS_PIPELINE(top))
    forward_name(lw, GST_ELEMENT(top));
  gst_object_unref(top);
  const GstStructure *s = gst_context_get_structure(context);
  for (gint i = 0; i < gst_structure_n_fields(s); ++i) {
    const GValue *v = gst_structure_get_value(s, gst_structure_nth_field_name(s, i));
    if (G_VALUE_HOLDS(v, GST_TYPE_OBJECT) && g_value_get_object(v) != nullptr)
      lw->monitor->context_posted(element, g_value_get_object(v));
  }
  gst_context_unref(context);
}

static void on_post_message_pre(GObject *self, GstClockTime, GstElement *element,
                                GstMessage *message) {
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_HAVE_CONTEXT) {
    note_context_objects(LW(self), element, message);
    return;
  }
  if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_STATE_CHANGED ||
      GST_MESSAGE_SRC(message) != GST_OBJECT_CAST(element) || !GST_IS_PIPELINE(element))
    return;
  GstState old_state, new_state;
  gst_message_parse_state_changed(message, &old_state, &new_state, nullptr);
  // The pipeline is in use here: a good moment to pick up a name given after creation.
  forward_name(LW(self), element);
  LW(self)->monitor->pipeline_state_changed(element, old_state, new_state);
}

static void on_change_state_post(GObject *self, GstClockTime, GstElement *element,
                                 GstStateChange transition, GstStateChangeReturn result) {
  if (result != GST_STATE_CHANGE_FAILURE || !GST_IS_PIPELINE(element))
    return;
  LW(self)->monitor->pipeline_change_failed(element, GST_STATE_TRANSITION_CURRENT(transition),
                                            GST_STATE_TRANSITION_NEXT(transition));
}

/* ---- sampling, alerts, reports ---- */

static void post_alerts(GstLeakwatchTracer *lw, const std::vector<leakwatch::Alert> &alerts) {
  if (alerts.empty())
    return;
  std::vector<GObject *> pipelines = lw->monitor->lifecycle().live_pipelines();
  for (const leakwatch::Alert &a : alerts) {
    GST_WARNING_OBJECT(lw, "leak trend: %s grows %.4g per minute (+%.4g over %zu samples)",
                       a.metric.c_str(), a.slope_per_minute, a.growth, a.window);
    for (GObject *p : pipelines) {
      GstStructure *s = gst_structure_new("leakwatch-alert", "metric", G_TYPE_STRING,
                                          a.metric.c_str(), "slope-per-minute", G_TYPE_DOUBLE,
                                          a.slope_per_minute, "growth", G_TYPE_DOUBLE, a.growth,
                                          "window", G_TYPE_UINT, static_cast<guint>(a.window),
                                          "window-seconds", G_TYPE_DOUBLE, a.window_s, nullptr);
      gst_element_post_message(GST_ELEMENT(p), gst_message_new_element(GST_OBJECT(p), s));
    }
  }
  for (GObject *p : pipelines)
    g_object_unref(p);  // may finalize here: no lock of ours is held
}

static void write_reports(GstLeakwatchTracer *lw, const leakwatch::ReportData &d) {
  const leakwatch::Params &p = lw->monitor->params();
  std::string error;
  if (!p.report.empty() && !leakwatch::write_file_atomic(p.report, leakwatch::to_json(d), error))
    g_printerr("leakwatch: could not write report: %s\n", error.c_str());
  if (!p.html.empty() && !leakwatch::write_file_atomic(p.html, leakwatch::to_html(d), error))
    g_printerr("leakwatch: could not write html report: %s\n", error.c_str());
}

// One sampling round: sample, post alerts, rewrite periodic reports when due.
static guint sample_round(GstLeakwatchTracer *lw) {
  std::vector<leakwatch::Alert> alerts = lw->monitor->sample();
  GST_LOG_OBJECT(lw, "sample taken, %zu alert(s)", alerts.size());
  post_alerts(lw, alerts);
  const leakwatch::Params &p = lw->monitor->params();
  if (p.report_interval_s > 0 && (!p.report.empty() || !p.html.empty())) {
    std::lock_guard<std::mutex> lock(*lw->report_mutex);
    int64_t now = lw->monitor->now_ns();
    if (now - lw->last_report_ns >= static_cast<int64_t>(p.report_interval_s * 1e9)) {
      lw->last_report_ns = now;
      write_reports(lw, lw->monitor->report(false));
    }
  }
  std::string error;
  if (!lw->exporter->write_file(error))
    g_printerr("leakwatch: could not write metrics file: %s\n", error.c_str());
  return static_cast<guint>(alerts.size());
}

static guint sample_now_impl(GstLeakwatchTracer *lw) {
  return sample_round(lw);
}

static gboolean write_reports_impl(GstLeakwatchTracer *lw) {
  std::lock_guard<std::mutex> lock(*lw->report_mutex);
  write_reports(lw, lw->monitor->report(false));
  return TRUE;
}

static GstStructure *object_structure(const leakwatch::AliveObject &o) {
  return gst_structure_new("object", "type", G_TYPE_STRING, o.type.c_str(), "name", G_TYPE_STRING,
                           o.name.c_str(), "pipeline", G_TYPE_STRING, o.pipeline.c_str(),
                           "refcount", G_TYPE_INT, o.refcount, "created", G_TYPE_DOUBLE,
                           static_cast<double>(o.created_ns) / 1e9, nullptr);
}

static GstStructure *checkpoint_impl(GstLeakwatchTracer *lw) {
  leakwatch::CheckpointResult r = lw->monitor->checkpoint();
  GstStructure *s = gst_structure_new(
      "leakwatch-checkpoint", "index", G_TYPE_UINT, r.index, "time", G_TYPE_DOUBLE, r.t_s,
      "objects", G_TYPE_UINT, static_cast<guint>(r.objects.size()), "fds", G_TYPE_INT,
      static_cast<gint>(r.fds_total), "fds-delta", G_TYPE_INT, static_cast<gint>(r.fds_total_delta),
      "threads", G_TYPE_INT, static_cast<gint>(r.threads_total), "threads-delta", G_TYPE_INT,
      static_cast<gint>(r.threads_total_delta), "rss", G_TYPE_INT64, static_cast<gint64>(r.rss),
      "rss-delta", G_TYPE_INT64, static_cast<gint64>(r.rss_delta), "pipelines-alive", G_TYPE_UINT,
      static_cast<guint>(r.pipelines_alive), nullptr);

  GValue list = G_VALUE_INIT;
  gst_value_array_init(&list, r.objects.size());
  for (const leakwatch::AliveObject &o : r.objects) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&v, object_structure(o));
    gst_value_array_append_and_take_value(&list, &v);
  }
  gst_structure_take_value(s, "object-list", &list);

  GstStructure *fds = gst_structure_new_empty("fds-delta");
  for (const auto &kv : r.fds_delta)
    gst_structure_set(fds, kv.first.c_str(), G_TYPE_INT, static_cast<gint>(kv.second), nullptr);
  gst_structure_set(s, "fds-by-class", GST_TYPE_STRUCTURE, fds, nullptr);
  gst_structure_free(fds);

  GValue threads = G_VALUE_INIT;
  gst_value_array_init(&threads, r.threads_delta.size());
  for (const auto &kv : r.threads_delta) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed(
        &v, gst_structure_new("thread-group", "name", G_TYPE_STRING, kv.first.c_str(), "delta",
                              G_TYPE_INT, static_cast<gint>(kv.second), nullptr));
    gst_value_array_append_and_take_value(&threads, &v);
  }
  gst_structure_take_value(s, "threads-by-name", &threads);

  GstStructure *live = gst_structure_new_empty("live-delta");
  for (const auto &kv : r.live_delta)
    gst_structure_set(live, kv.first.c_str(), G_TYPE_INT64, static_cast<gint64>(kv.second),
                      nullptr);
  gst_structure_set(s, "live-delta", GST_TYPE_STRUCTURE, live, nullptr);
  gst_structure_free(live);
  return s;
}

/* ---- GObject ---- */

static bool final_report(GstLeakwatchTracer *lw);

// fail-on-leak: the final report's verdict, applied as the exit status once every atexit
// handler and static destructor has run (see leakwatch_apply_exit_status below).
static std::atomic<bool> fail_on_leak_verdict{false};

static void record_verdict(bool fail) {
  if (!fail)
    return;
  fail_on_leak_verdict.store(true);
  g_printerr("leakwatch: fail-on-leak: exiting with status %d\n", leakwatch::kFailOnLeakExitStatus);
}

// An ELF destructor of this plugin. glibc runs the destructors of loaded objects (ours is
// dlopen()ed by GStreamer, never closed) from _dl_fini, which __libc_start_main registered
// with atexit() before main(): it runs after every atexit handler the application registered
// (gst_deinit() among them, whenever it was registered) and after the C++ static destructors
// registered through __cxa_atexit. Nothing calls exit() from inside gst_deinit() any more;
// here the final status is replaced by 65 with _exit(), stdio flushed first.
__attribute__((destructor)) static void leakwatch_apply_exit_status() {
  if (!fail_on_leak_verdict.load())
    return;
  std::fflush(nullptr);
  _exit(leakwatch::kFailOnLeakExitStatus);
}

// objects=false: the tracer registered no hook, so gst_deinit() never finalizes it.
static GstLeakwatchTracer *sampling_only_tracer = nullptr;
static void sampling_only_at_exit() {
  if (sampling_only_tracer != nullptr && sampling_only_tracer->monitor != nullptr) {
    sampling_only_tracer->ticker->stop();
    sampling_only_tracer->exporter->stop();
    record_verdict(final_report(sampling_only_tracer));
  }
}

static void register_hooks(GstTracer *tracer) {
  gst_tracing_register_hook(tracer, "object-created", G_CALLBACK(on_object_created));
  gst_tracing_register_hook(tracer, "object-destroyed", G_CALLBACK(on_object_destroyed));
  gst_tracing_register_hook(tracer, "mini-object-created", G_CALLBACK(on_mini_object_created));
  gst_tracing_register_hook(tracer, "mini-object-destroyed", G_CALLBACK(on_mini_object_destroyed));
  gst_tracing_register_hook(tracer, "element-new", G_CALLBACK(on_element_new));
  gst_tracing_register_hook(tracer, "bin-add-post", G_CALLBACK(on_bin_add_post));
  gst_tracing_register_hook(tracer, "bin-remove-pre", G_CALLBACK(on_bin_remove_pre));
  gst_tracing_register_hook(tracer, "element-add-pad", G_CALLBACK(on_element_add_pad));
  gst_tracing_register_hook(tracer, "element-post-message-pre", G_CALLBACK(on_post_message_pre));
  gst_tracing_register_hook(tracer, "element-change-state-post", G_CALLBACK(on_change_state_post));
}

static void gst_leakwatch_tracer_constructed(GObject *object) {
  GstLeakwatchTracer *lw = LW(object);
  G_OBJECT_CLASS(gst_leakwatch_tracer_parent_class)->constructed(object);

  g_autofree gchar *params_text = nullptr;
  g_object_get(object, "params", &params_text, nullptr);
  leakwatch::Params params;
  std::string warning = leakwatch::parse_params(params_text, params);
  if (!warning.empty()) {
    // One line on stderr (users must see it without GST_DEBUG) and the same in the log.
    g_printerr("%s\n", warning.c_str());
    GST_WARNING_OBJECT(lw, "%s", warning.c_str());
  }

  leakwatch::Registry::Inspector inspector;
  inspector.may_be_leaked = [](const void *ptr, bool is_mini) -> bool {
    if (is_mini)
      return GST_MINI_OBJECT_FLAG_IS_SET(ptr, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
    return GST_OBJECT_FLAG_IS_SET(ptr, GST_OBJECT_FLAG_MAY_BE_LEAKED);
  };
  inspector.name = [](const void *ptr) -> std::string {
    steady::ObjectLock lock(const_cast<void *>(ptr));
    const gchar *name = GST_OBJECT_NAME(ptr);
    return name ? name : "";
  };
  inspector.refcount = [](const void *ptr, bool is_mini) -> int {
    if (is_mini)
      return GST_MINI_OBJECT_REFCOUNT_VALUE(ptr);
    return static_cast<int>(g_atomic_int_get(&G_OBJECT(ptr)->ref_count));
  };
  leakwatch::Logger logger = [](int level, const std::string &msg) {
    GST_CAT_LEVEL_LOG(gst_leakwatch_debug, static_cast<GstDebugLevel>(level), nullptr, "%s",
                      msg.c_str());
  };
  lw->monitor = new leakwatch::Monitor(params, logger, inspector);
  lw->report_mutex = new std::mutex();
  lw->ticker = new leakwatch::Ticker();
  lw->exporter = new leakwatch::Exporter(*lw->monitor);
  std::string served = lw->exporter->start();
  if (!served.empty()) {
    g_printerr("%s\n", served.c_str());
    GST_INFO_OBJECT(lw, "%s", served.c_str());
  }

  GstTracer *tracer = GST_TRACER(object);
  if (!params.objects) {
    // No hook at all: GStreamer then skips its per-hook-point dispatch (a clock read and two
    // hash lookups at every push, chain, ref and unref), so the pipeline runs at full speed.
    // No hook holds a reference either: keep one ourselves and report at exit().
    GST_INFO_OBJECT(lw, "objects=false: process sampling only, no object or pipeline tracking");
    gst_object_ref(lw);
    sampling_only_tracer = lw;
    std::atexit(sampling_only_at_exit);
  } else {
    register_hooks(tracer);
  }

  if (params.interval_s > 0)
    lw->ticker->start(params.interval_s, "leakwatch", [lw] { sample_round(lw); });
  GST_INFO_OBJECT(lw, "leakwatch active: interval %.3g s, window %u, grace %.3g s",
                  params.interval_s, params.window, params.grace_s);
}

// Summary on stderr and the final reports; returns true when fail-on-leak should fail.
static bool final_report(GstLeakwatchTracer *lw) {
  std::lock_guard<std::mutex> lock(*lw->report_mutex);
  leakwatch::ReportData d = lw->monitor->report(true);
  const leakwatch::Params &p = lw->monitor->params();
  if (p.summary)
    g_printerr("%s", leakwatch::format_summary(d).c_str());
  write_reports(lw, d);
  return p.fail_on_leak && d.has_leaks();
}

static void gst_leakwatch_tracer_finalize(GObject *object) {
  GstLeakwatchTracer *lw = LW(object);
  lw->ticker->stop();
  lw->exporter->stop();
  bool fail = final_report(lw);
  delete lw->exporter;
  lw->exporter = nullptr;
  delete lw->ticker;
  delete lw->monitor;
  delete lw->report_mutex;
  lw->ticker = nullptr;
  lw->monitor = nullptr;
  lw->report_mutex = nullptr;
  record_verdict(fail);
  G_OBJECT_CLASS(gst_leakwatch_tracer_parent_class)->finalize(object);
}

static void gst_leakwatch_tracer_get_property(GObject *object, guint prop_id, GValue *value,
                                              GParamSpec *pspec) {
  if (prop_id == PROP_METRICS_PORT)
    g_value_set_int(value, LW(object)->exporter ? LW(object)->exporter->port() : -1);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void gst_leakwatch_tracer_class_init(GstLeakwatchTracerClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->constructed = gst_leakwatch_tracer_constructed;
  gobject_class->finalize = gst_leakwatch_tracer_finalize;
  gobject_class->get_property = gst_leakwatch_tracer_get_property;

  g_object_class_install_property(
      gobject_class, PROP_METRICS_PORT,
      g_param_spec_int("metrics-port", "Metrics port",
                       "TCP port the metrics endpoint listens on (the one picked when "
                       "metrics-port=0 was given), -1 when no endpoint runs.",
                       -1, 65535, -1,
                       static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstLeakwatchTracer::checkpoint:
   *
   * Returns a GstStructure (caller owns) describing the tracked objects created since the
   * previous checkpoint that are still alive, and descriptor, thread, RSS and per-type live
   * count changes against the previous checkpoint.
   */
  signals[SIGNAL_CHECKPOINT] = g_signal_new_class_handler(
      "checkpoint", G_TYPE_FROM_CLASS(klass),
      static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION), G_CALLBACK(checkpoint_impl),
      nullptr, nullptr, nullptr, GST_TYPE_STRUCTURE, 0);
  /**
   * GstLeakwatchTracer::sample-now:
   *
   * Takes one process sample at once (as the sampler thread does every interval), runs the
   * grace checks and the trend estimator, posts alerts; returns the number of alerts raised.
   */
  signals[SIGNAL_SAMPLE_NOW] = g_signal_new_class_handler(
      "sample-now", G_TYPE_FROM_CLASS(klass),
      static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION), G_CALLBACK(sample_now_impl),
      nullptr, nullptr, nullptr, G_TYPE_UINT, 0);
  /**
   * GstLeakwatchTracer::write-reports:
   *
   * Rewrites the report= and html= files now (as report-interval does periodically).
   */
  signals[SIGNAL_WRITE_REPORTS] = g_signal_new_class_handler(
      "write-reports", G_TYPE_FROM_CLASS(klass),
      static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(write_reports_impl), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 0);
}

static void gst_leakwatch_tracer_init(GstLeakwatchTracer *lw) {
  // The tracer lives until gst_deinit(): never report it as a leak (here or in core `leaks`).
  GST_OBJECT_FLAG_SET(lw, GST_OBJECT_FLAG_MAY_BE_LEAKED);
  lw->monitor = nullptr;
  lw->ticker = nullptr;
  lw->exporter = nullptr;
  lw->report_mutex = nullptr;
  lw->last_report_ns = 0;
}

static gboolean plugin_init(GstPlugin *plugin) {
  GST_DEBUG_CATEGORY_INIT(gst_leakwatch_debug, "leakwatch", 0,
                          "leakwatch tracer: pipeline lifecycles, leaks and trends");
  return gst_tracer_register(plugin, "leakwatch", GST_TYPE_LEAKWATCH_TRACER);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, leakwatch,
                  "Leak and resource-growth tracer for long-running pipelines", plugin_init,
                  VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
