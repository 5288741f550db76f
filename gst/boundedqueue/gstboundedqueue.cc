/**
 * SECTION:element-boundedqueue
 * @title: boundedqueue
 *
 * A drop-in for `queue` in live pipelines that is never unbounded. It decouples upstream
 * from downstream with its own streaming thread like `queue`, and adds guarantees `queue`
 * does not give:
 *
 * - a hard bound on what it holds (buffers, bytes, running time; a configuration with every
 *   bound off is refused at the state change);
 * - drops that never break a GOP: with `gop-aware` a delta unit whose reference was dropped
 *   is never delivered, the first buffer after a gap carries DISCONT and, with
 *   `request-keyframe`, upstream is asked for a new keyframe at once;
 * - serialized events are never dropped, sticky events keep their order;
 * - exact accounting: buffers-in == buffers-out + buffers-dropped + current-level-buffers at
 *   every moment (read the `stats` property for a consistent snapshot);
 * - a `boundedqueue-stalled` message when the consumer has not taken anything for
 *   `stall-timeout` milliseconds.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true num-buffers=100 ! x264enc tune=zerolatency ! \
 *     boundedqueue max-size-buffers=8 leaky=downstream ! avdec_h264 ! fakesink
 * ]|
 */
#include <config.h>

#include "gstboundedqueue.h"

#include <gst/video/video.h>
#include <steady-ptr.h>

#include <memory>
#include <mutex>

#include "boundedqueue-core.h"
#include "gstboundedqueue-timer.h"

GST_DEBUG_CATEGORY_STATIC(bounded_queue_debug);
#define GST_CAT_DEFAULT bounded_queue_debug

using boundedqueue::Bounds;
using boundedqueue::Leaky;

namespace {

constexpr guint kDefaultMaxBuffers = 2;
constexpr guint kDefaultMaxBytes = 0;
constexpr guint64 kDefaultMaxTime = 0;
constexpr Leaky kDefaultLeaky = Leaky::kDownstream;
constexpr guint kMaxStallTimeoutMs = 24 * 3600 * 1000;

enum {
  PROP_0,
  PROP_MAX_SIZE_BUFFERS,
  PROP_MAX_SIZE_BYTES,
  PROP_MAX_SIZE_TIME,
  PROP_LEAKY,
  PROP_GOP_AWARE,
  PROP_REQUEST_KEYFRAME,
  PROP_STALL_TIMEOUT,
  PROP_SILENT,
  PROP_FLUSH_ON_EOS,
  PROP_CURRENT_LEVEL_BUFFERS,
  PROP_CURRENT_LEVEL_BYTES,
  PROP_CURRENT_LEVEL_TIME,
  PROP_BUFFERS_IN,
  PROP_BUFFERS_OUT,
  PROP_BUFFERS_DROPPED,
  PROP_BYTES_DROPPED,
  PROP_KEYFRAMES_REQUESTED,
  PROP_PEAK_LEVEL_BUFFERS,
  PROP_PEAK_LEVEL_BYTES,
  PROP_STATS,
};

// Everything C++ the element owns, constructed in init and destroyed in finalize.
struct Private {
  boundedqueue::Core core;
  boundedqueue::ClockTimer stall_timer;
  std::mutex settings_mu;  // serializes read-modify-write of the bounds
  std::atomic<bool> silent{true};
};

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

}  // namespace

struct _GstBoundedQueue {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  Private *priv;
};

G_DEFINE_TYPE(GstBoundedQueue, gst_bounded_queue, GST_TYPE_ELEMENT)
GST_ELEMENT_REGISTER_DEFINE(boundedqueue, "boundedqueue", GST_RANK_NONE, GST_TYPE_BOUNDED_QUEUE)

GType gst_bounded_queue_leaky_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Leaky::kNo), "Block upstream while full", "no"},
      {static_cast<gint>(Leaky::kUpstream), "Drop the incoming buffer while full", "upstream"},
      {static_cast<gint>(Leaky::kDownstream), "Drop the oldest held buffer while full",
       "downstream"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstBoundedQueueLeaky", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

// ---- messages and upstream requests ----

static void post_dropped(GstBoundedQueue *self, const boundedqueue::Popped &p) {
  if (self->priv->silent.load(std::memory_order_relaxed))
    return;
  GstStructure *s = gst_structure_new("boundedqueue-dropped", "buffers", G_TYPE_UINT64,
                                      p.burst_buffers, "bytes", G_TYPE_UINT64, p.burst_bytes,
                                      "buffers-dropped", G_TYPE_UINT64, p.total_dropped, nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static void request_keyframe(GstBoundedQueue *self) {
  guint64 count = self->priv->core.stats().keyframes_requested;
  GST_DEBUG_OBJECT(self, "GOP broken by a drop: asking upstream for a keyframe");
  gst_pad_push_event(self->sinkpad, gst_video_event_new_upstream_force_key_unit(
                                        GST_CLOCK_TIME_NONE, TRUE, static_cast<guint>(count)));
}

static void stall_timer_fired(GstElement *element, GstClockTime now);

static void arm_stall_timer(GstBoundedQueue *self, GstClockTime at) {
  if (!GST_CLOCK_TIME_IS_VALID(at))
    return;
  if (!self->priv->stall_timer.arm(GST_ELEMENT(self), at, stall_timer_fired))
    self->priv->core.stall_timer_cancelled();
}

static void stall_timer_fired(GstElement *element, GstClockTime now) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(element);
  guint64 dropped = 0;
  boundedqueue::StallDetector::Fired f = self->priv->core.stall_timer_fired(now, &dropped);
  if (f.post) {
    GST_WARNING_OBJECT(self, "full for %" GST_TIME_FORMAT ": consumer stalled",
                       GST_TIME_ARGS(f.stalled_for));
    GstStructure *s =
        gst_structure_new("boundedqueue-stalled", "stalled-for", G_TYPE_UINT64, f.stalled_for,
                          "buffers-dropped", G_TYPE_UINT64, dropped, nullptr);
    gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
  }
  arm_stall_timer(self, f.rearm_at);
}

static void handle_sink_result(GstBoundedQueue *self, const boundedqueue::SinkResult &r) {
  if (G_UNLIKELY(r.request_keyframe))
    request_keyframe(self);
  if (G_UNLIKELY(GST_CLOCK_TIME_IS_VALID(r.arm_stall_at)))
    arm_stall_timer(self, r.arm_stall_at);
}

// ---- source task ----

static void gst_bounded_queue_loop(gpointer data) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(data);
  boundedqueue::Core &core = self->priv->core;
  boundedqueue::Popped p;
  if (!core.pop(p)) {
    GST_DEBUG_OBJECT(self, "pausing task: %s", gst_flow_get_name(core.srcresult()));
    gst_pad_pause_task(self->srcpad);
    return;
  }
  if (G_UNLIKELY(p.burst_buffers > 0))
    post_dropped(self, p);

  GstFlowReturn ret = GST_FLOW_OK;
  switch (p.item.kind()) {
    case boundedqueue::Item::Kind::kBuffer: {
      const bool discont = p.item.discont();
      GstBuffer *buf = GST_BUFFER_CAST(p.item.release());
      if (G_UNLIKELY(discont)) {
        buf = gst_buffer_make_writable(buf);
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
      }
      ret = gst_pad_push(self->srcpad, buf);
      break;
    }
    case boundedqueue::Item::Kind::kEvent: {
      GstEvent *event = GST_EVENT_CAST(p.item.release());
      const bool is_eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
      gst_pad_push_event(self->srcpad, event);
      if (is_eos)
        ret = GST_FLOW_EOS;
      break;
    }
    case boundedqueue::Item::Kind::kQuery: {
      gboolean res = gst_pad_peer_query(self->srcpad, p.item.peek_query());
      p.item.release();  // borrowed from the thread waiting for the answer
      core.query_answered(res);
      break;
    }
    case boundedqueue::Item::Kind::kNone:
      break;
  }
  if (G_LIKELY(ret == GST_FLOW_OK))
    return;

  core.set_srcresult(ret);
  GST_DEBUG_OBJECT(self, "pausing task after push: %s", gst_flow_get_name(ret));
  gst_pad_pause_task(self->srcpad);
  // Upstream learns about NOT_LINKED/errors from our chain's return value, as with queue.
  // Once EOS is queued nobody upstream will see a return value again: tell the application.
  if ((ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) && core.eos()) {
    GST_ELEMENT_FLOW_ERROR(self, ret);
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
  }
}

// ---- sink pad ----

static GstFlowReturn gst_bounded_queue_chain(GstPad *pad, GstObject *parent, GstBuffer *buf) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  boundedqueue::Core &core = self->priv->core;
  GstClockTime now = GST_CLOCK_TIME_NONE;
  if (G_UNLIKELY(core.stall_enabled())) {
    auto clock = steady::ObjectRef<GstClock>::adopt(gst_element_get_clock(GST_ELEMENT(self)));
    if (clock)
      now = gst_clock_get_time(clock.get());
  }
  boundedqueue::SinkResult r = core.push_buffer(buf, now);
  handle_sink_result(self, r);
  return r.flow;
}

static gboolean gst_bounded_queue_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  boundedqueue::Core &core = self->priv->core;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      core.set_flushing();
      gst_pad_push_event(self->srcpad, event);
      gst_pad_pause_task(self->srcpad);
      self->priv->stall_timer.cancel();
      core.stall_timer_cancelled();
      return TRUE;
    case GST_EVENT_FLUSH_STOP: {
      gst_pad_push_event(self->srcpad, event);
      core.clear(true);
      core.restart();
      if (gst_pad_is_active(self->srcpad))
        gst_pad_start_task(self->srcpad, gst_bounded_queue_loop, self, nullptr);
      return TRUE;
    }
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED(event))
    return gst_pad_push_event(self->srcpad, event);

  const bool is_eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
  boundedqueue::EventResult r = core.push_event(event);
  if (!r.accepted && is_eos && (r.srcresult == GST_FLOW_NOT_LINKED || r.srcresult < GST_FLOW_EOS))
    GST_ELEMENT_FLOW_ERROR(self, r.srcresult);
  return r.accepted;
}

static gboolean gst_bounded_queue_sink_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  if (GST_QUERY_IS_SERIALIZED(query))
    return self->priv->core.push_query(query);
  return gst_pad_query_default(pad, parent, query);
}

static gboolean gst_bounded_queue_sink_activate_mode(GstPad *pad, GstObject *parent,
                                                     GstPadMode mode, gboolean active) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (!active)
    self->priv->core.set_flushing();  // wakes a chain waiting for room
  return TRUE;
}

// ---- source pad ----

static gboolean gst_bounded_queue_src_activate_mode(GstPad *pad, GstObject *parent, GstPadMode mode,
                                                    gboolean active) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    self->priv->core.restart();
    return gst_pad_start_task(pad, gst_bounded_queue_loop, self, nullptr);
  }
  self->priv->core.set_flushing();
  return gst_pad_stop_task(pad);
}

static gboolean gst_bounded_queue_src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_RECONFIGURE &&
      self->priv->core.srcresult() == GST_FLOW_NOT_LINKED) {
    // Downstream was relinked: try again, as queue does.
    self->priv->core.set_srcresult(GST_FLOW_OK);
    gst_pad_start_task(self->srcpad, gst_bounded_queue_loop, self, nullptr);
  }
  return gst_pad_event_default(pad, parent, event);
}

static gboolean gst_bounded_queue_src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return gst_pad_query_default(pad, parent, query);

  if (!gst_pad_peer_query(self->sinkpad, query))
    return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  // What we can add: everything we may hold. Bounded by time when a time bound is set,
  // estimated from the buffer bound and upstream's per-buffer latency otherwise; with
  // only a byte bound we cannot know.
  Bounds b = self->priv->core.bounds();
  if (GST_CLOCK_TIME_IS_VALID(max)) {
    if (b.time != 0)
      max += b.time;
    else if (b.buffers != 0 && min > 0)
      max += b.buffers * min;
    else
      max = GST_CLOCK_TIME_NONE;
  }
  GST_DEBUG_OBJECT(self, "latency: live %d min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT, live,
                   GST_TIME_ARGS(min), GST_TIME_ARGS(max));
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}

// ---- properties ----

static const char *bound_name(guint prop_id) {
  switch (prop_id) {
    case PROP_MAX_SIZE_BUFFERS:
      return "max-size-buffers";
    case PROP_MAX_SIZE_BYTES:
      return "max-size-bytes";
    default:
      return "max-size-time";
  }
}

static void set_bound(GstBoundedQueue *self, guint prop_id, const GValue *value) {
  std::lock_guard<std::mutex> lk(self->priv->settings_mu);
  Bounds b = self->priv->core.bounds();
  switch (prop_id) {
    case PROP_MAX_SIZE_BUFFERS:
      b.buffers = g_value_get_uint(value);
      break;
    case PROP_MAX_SIZE_BYTES:
      b.bytes = g_value_get_uint(value);
      break;
    default:
      b.time = g_value_get_uint64(value);
      break;
  }
  GstState state;
  {
    steady::ObjectLock lock(self);
    state = GST_STATE(self);
  }
  // In NULL the bounds may pass through "all off" while being set one by one; the state
  // change checks the result. Once running, an unbounded queue is refused right here.
  boundedqueue::SinkResult r;
  if (!self->priv->core.set_bounds(b, state == GST_STATE_NULL, &r)) {
    g_warning(
        "boundedqueue %s: refusing %s=0 while %s: max-size-buffers, max-size-bytes and "
        "max-size-time would all be 0 (unbounded). Set another bound first.",
        GST_OBJECT_NAME(self), bound_name(prop_id), gst_element_state_get_name(state));
    return;
  }
  handle_sink_result(self, r);
}

static void gst_bounded_queue_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(object);
  boundedqueue::Core &core = self->priv->core;
  switch (prop_id) {
    case PROP_MAX_SIZE_BUFFERS:
    case PROP_MAX_SIZE_BYTES:
    case PROP_MAX_SIZE_TIME:
      set_bound(self, prop_id, value);
      break;
    case PROP_LEAKY:
      core.set_leaky(static_cast<Leaky>(g_value_get_enum(value)));
      break;
    case PROP_GOP_AWARE:
      core.set_gop_aware(g_value_get_boolean(value));
      break;
    case PROP_REQUEST_KEYFRAME:
      core.set_request_keyframe(g_value_get_boolean(value));
      break;
    case PROP_STALL_TIMEOUT:
      core.set_stall_timeout(g_value_get_uint(value) * GST_MSECOND);
      break;
    case PROP_SILENT:
      self->priv->silent.store(g_value_get_boolean(value));
      break;
    case PROP_FLUSH_ON_EOS:
      core.set_flush_on_eos(g_value_get_boolean(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static GstStructure *stats_structure(const boundedqueue::Stats &s) {
  return gst_structure_new(
      "boundedqueue-stats", "buffers-in", G_TYPE_UINT64, s.in, "buffers-out", G_TYPE_UINT64, s.out,
      "buffers-dropped", G_TYPE_UINT64, s.dropped, "bytes-dropped", G_TYPE_UINT64, s.bytes_dropped,
      "keyframes-requested", G_TYPE_UINT64, s.keyframes_requested, "current-level-buffers",
      G_TYPE_UINT64, s.level.buffers, "current-level-bytes", G_TYPE_UINT64, s.level.bytes,
      "current-level-time", G_TYPE_UINT64, s.level.time, "peak-level-buffers", G_TYPE_UINT64,
      s.peak_buffers, "peak-level-bytes", G_TYPE_UINT64, s.peak_bytes, nullptr);
}

static guint clamp_uint(guint64 v) {
  return v > G_MAXUINT ? G_MAXUINT : static_cast<guint>(v);
}

static void gst_bounded_queue_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(object);
  boundedqueue::Core &core = self->priv->core;
  switch (prop_id) {
    case PROP_MAX_SIZE_BUFFERS:
      g_value_set_uint(value, clamp_uint(core.bounds().buffers));
      return;
    case PROP_MAX_SIZE_BYTES:
      g_value_set_uint(value, clamp_uint(core.bounds().bytes));
      return;
    case PROP_MAX_SIZE_TIME:
      g_value_set_uint64(value, core.bounds().time);
      return;
    case PROP_LEAKY:
      g_value_set_enum(value, static_cast<gint>(core.leaky()));
      return;
    case PROP_GOP_AWARE:
      g_value_set_boolean(value, core.gop_aware());
      return;
    case PROP_REQUEST_KEYFRAME:
      g_value_set_boolean(value, core.request_keyframe());
      return;
    case PROP_STALL_TIMEOUT:
      g_value_set_uint(value, static_cast<guint>(core.stall_timeout() / GST_MSECOND));
      return;
    case PROP_SILENT:
      g_value_set_boolean(value, self->priv->silent.load());
      return;
    case PROP_FLUSH_ON_EOS:
      g_value_set_boolean(value, core.flush_on_eos());
      return;
    default:
      break;
  }
  const boundedqueue::Stats s = core.stats();
  switch (prop_id) {
    case PROP_CURRENT_LEVEL_BUFFERS:
      g_value_set_uint(value, clamp_uint(s.level.buffers));
      break;
    case PROP_CURRENT_LEVEL_BYTES:
      g_value_set_uint(value, clamp_uint(s.level.bytes));
      break;
    case PROP_CURRENT_LEVEL_TIME:
      g_value_set_uint64(value, s.level.time);
      break;
    case PROP_BUFFERS_IN:
      g_value_set_uint64(value, s.in);
      break;
    case PROP_BUFFERS_OUT:
      g_value_set_uint64(value, s.out);
      break;
    case PROP_BUFFERS_DROPPED:
      g_value_set_uint64(value, s.dropped);
      break;
    case PROP_BYTES_DROPPED:
      g_value_set_uint64(value, s.bytes_dropped);
      break;
    case PROP_KEYFRAMES_REQUESTED:
      g_value_set_uint64(value, s.keyframes_requested);
      break;
    case PROP_PEAK_LEVEL_BUFFERS:
      g_value_set_uint(value, clamp_uint(s.peak_buffers));
      break;
    case PROP_PEAK_LEVEL_BYTES:
      g_value_set_uint64(value, s.peak_bytes);
      break;
    case PROP_STATS:
      g_value_take_boxed(value, stats_structure(s));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

// ---- state ----

static GstStateChangeReturn gst_bounded_queue_change_state(GstElement *element,
                                                           GstStateChange transition) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(element);
  boundedqueue::Core &core = self->priv->core;
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (core.bounds().unbounded()) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                          ("boundedqueue never runs unbounded: max-size-buffers, max-size-bytes "
                           "and max-size-time are all 0."),
                          ("Set at least one of them, e.g. max-size-buffers=2 (the default), "
                           "max-size-bytes=1048576 or max-size-time=200000000."));
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      core.reset_counters();
      break;
    default:
      break;
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_bounded_queue_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    self->priv->stall_timer.cancel();
    core.stall_timer_cancelled();
    core.clear(false);  // what was still held counts as dropped
  }
  return ret;
}

// ---- class ----

static void gst_bounded_queue_finalize(GObject *object) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_bounded_queue_parent_class)->finalize(object);
}

static void gst_bounded_queue_init(GstBoundedQueue *self) {
  self->priv = new Private();
  Bounds b;
  b.buffers = kDefaultMaxBuffers;
  b.bytes = kDefaultMaxBytes;
  b.time = kDefaultMaxTime;
  self->priv->core.set_bounds(b, false, nullptr);
  self->priv->core.set_leaky(kDefaultLeaky);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, gst_bounded_queue_chain);
  gst_pad_set_event_function(self->sinkpad, gst_bounded_queue_sink_event);
  gst_pad_set_query_function(self->sinkpad, gst_bounded_queue_sink_query);
  gst_pad_set_activatemode_function(self->sinkpad, gst_bounded_queue_sink_activate_mode);
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_activatemode_function(self->srcpad, gst_bounded_queue_src_activate_mode);
  gst_pad_set_event_function(self->srcpad, gst_bounded_queue_src_event);
  gst_pad_set_query_function(self->srcpad, gst_bounded_queue_src_query);
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void gst_bounded_queue_class_init(GstBoundedQueueClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(bounded_queue_debug, "boundedqueue", 0,
                          "queue with a hard bound, GOP-safe drops and exact accounting");

  gobject_class->set_property = gst_bounded_queue_set_property;
  gobject_class->get_property = gst_bounded_queue_get_property;
  gobject_class->finalize = gst_bounded_queue_finalize;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                           GST_PARAM_MUTABLE_PLAYING);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE_BUFFERS,
      g_param_spec_uint("max-size-buffers", "Max. size (buffers)",
                        "Most buffers held at once (0 = no buffer bound). At least one of the "
                        "three max-size bounds must be set.",
                        0, G_MAXUINT, kDefaultMaxBuffers, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE_BYTES,
      g_param_spec_uint("max-size-bytes", "Max. size (bytes)",
                        "Most bytes held at once, plus at most one buffer (0 = no byte bound).", 0,
                        G_MAXUINT, kDefaultMaxBytes, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE_TIME,
      g_param_spec_uint64("max-size-time", "Max. size (ns)",
                          "Most running time held at once, in nanoseconds (0 = no time bound).", 0,
                          G_MAXUINT64, kDefaultMaxTime, rw));
  g_object_class_install_property(
      gobject_class, PROP_LEAKY,
      g_param_spec_enum("leaky", "Leaky",
                        "What happens when full: block upstream (no), drop the incoming buffer "
                        "(upstream) or drop the oldest held buffer (downstream). Events are "
                        "never dropped.",
                        GST_TYPE_BOUNDED_QUEUE_LEAKY, static_cast<gint>(kDefaultLeaky), rw));
  g_object_class_install_property(
      gobject_class, PROP_GOP_AWARE,
      g_param_spec_boolean("gop-aware", "GOP aware",
                           "Never deliver a delta unit whose reference was dropped: after a drop, "
                           "delta units are dropped too up to the next keyframe.",
                           TRUE, rw));
  g_object_class_install_property(
      gobject_class, PROP_REQUEST_KEYFRAME,
      g_param_spec_boolean("request-keyframe", "Request keyframe",
                           "After a drop that breaks a GOP, ask upstream for a keyframe (at most "
                           "one request per second until a keyframe arrives).",
                           TRUE, rw));
  g_object_class_install_property(
      gobject_class, PROP_STALL_TIMEOUT,
      g_param_spec_uint("stall-timeout", "Stall timeout (ms)",
                        "Post a boundedqueue-stalled message once the queue has been "
                        "continuously full this many milliseconds (0 = off). Timed on the "
                        "pipeline clock.",
                        0, kMaxStallTimeoutMs, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_SILENT,
      g_param_spec_boolean("silent", "Silent",
                           "Do not post a boundedqueue-dropped message after each burst of drops.",
                           TRUE, rw));
  g_object_class_install_property(
      gobject_class, PROP_FLUSH_ON_EOS,
      g_param_spec_boolean("flush-on-eos", "Flush on EOS",
                           "Drop every held buffer when EOS arrives, so EOS goes downstream at "
                           "once (the buffers count as dropped).",
                           FALSE, rw));

  g_object_class_install_property(
      gobject_class, PROP_CURRENT_LEVEL_BUFFERS,
      g_param_spec_uint("current-level-buffers", "Current level (buffers)", "Buffers held now.", 0,
                        G_MAXUINT, 0, ro));
  g_object_class_install_property(gobject_class, PROP_CURRENT_LEVEL_BYTES,
                                  g_param_spec_uint("current-level-bytes", "Current level (bytes)",
                                                    "Bytes held now.", 0, G_MAXUINT, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_CURRENT_LEVEL_TIME,
      g_param_spec_uint64("current-level-time", "Current level (ns)",
                          "Running time spanned by the buffers held now, in nanoseconds.", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_BUFFERS_IN,
      g_param_spec_uint64("buffers-in", "Buffers in",
                          "Buffers received since the last READY to PAUSED (dropped ones "
                          "included).",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_BUFFERS_OUT,
      g_param_spec_uint64("buffers-out", "Buffers out", "Buffers handed downstream.", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_BUFFERS_DROPPED,
      g_param_spec_uint64("buffers-dropped", "Buffers dropped",
                          "Buffers dropped (by the leaky mode, GOP awareness, flushes, "
                          "flush-on-eos or a stop). buffers-in == buffers-out + buffers-dropped + "
                          "current-level-buffers.",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_BYTES_DROPPED,
      g_param_spec_uint64("bytes-dropped", "Bytes dropped", "Bytes in the dropped buffers.", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_KEYFRAMES_REQUESTED,
      g_param_spec_uint64("keyframes-requested", "Keyframes requested",
                          "Force-key-unit requests sent upstream.", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_PEAK_LEVEL_BUFFERS,
      g_param_spec_uint("peak-level-buffers", "Peak level (buffers)",
                        "Most buffers held at once since the last READY to PAUSED.", 0, G_MAXUINT,
                        0, ro));
  g_object_class_install_property(
      gobject_class, PROP_PEAK_LEVEL_BYTES,
      g_param_spec_uint64("peak-level-bytes", "Peak level (bytes)",
                          "Most bytes held at once since the last READY to PAUSED.", 0, G_MAXUINT64,
                          0, ro));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Every counter and level above taken at one instant, so they always "
                         "add up (a boundedqueue-stats structure).",
                         GST_TYPE_STRUCTURE, ro));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Bounded queue", "Generic",
      "Queue with a hard bound on what it holds, drops that never break a GOP and exact "
      "accounting of every buffer",
      "gst-steady developers");
  element_class->change_state = gst_bounded_queue_change_state;

  gst_type_mark_as_plugin_api(GST_TYPE_BOUNDED_QUEUE_LEAKY, static_cast<GstPluginAPIFlags>(0));
}
