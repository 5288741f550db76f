// Properties of the boundedqueue element: settings, read-only counters and the consistent
// `stats` snapshot.
#include <config.h>

#include <steady-ptr.h>

#include "gstboundedqueue-private.h"

using boundedqueue::Bounds;
using boundedqueue::Leaky;

namespace {

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

}  // namespace

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

static bool set_bound_locked(GstBoundedQueue *self, guint prop_id, const GValue *value,
                             boundedqueue::SinkResult *r) {
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
  if (!self->priv->core.set_bounds(b, state == GST_STATE_NULL, r)) {
    g_warning(
        "boundedqueue %s: refusing %s=0 while %s: max-size-buffers, max-size-bytes and "
        "max-size-time would all be 0 (unbounded). Set another bound first.",
        GST_OBJECT_NAME(self), bound_name(prop_id), gst_element_state_get_name(state));
    return false;
  }
  return true;
}

static void set_bound(GstBoundedQueue *self, guint prop_id, const GValue *value) {
  boundedqueue::SinkResult r;
  {
    std::lock_guard<std::mutex> lk(self->priv->settings_mu);
    if (!set_bound_locked(self, prop_id, value, &r))
      return;
  }
  // Outside the settings lock: the keyframe request goes upstream, whose handlers may set
  // or read our properties.
  gst_bounded_queue_handle_sink_result(self, r);
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

void gst_bounded_queue_install_properties(GObjectClass *gobject_class) {
  gobject_class->set_property = gst_bounded_queue_set_property;
  gobject_class->get_property = gst_bounded_queue_get_property;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                           GST_PARAM_MUTABLE_PLAYING);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE_BUFFERS,
      g_param_spec_uint("max-size-buffers", "Max. size (buffers)",
                        "Most buffers held at once (0 = no buffer bound). At least one of the "
                        "three max-size bounds must be set.",
                        0, G_MAXUINT, boundedqueue::kDefaultMaxBuffers, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE_BYTES,
      g_param_spec_uint("max-size-bytes", "Max. size (bytes)",
                        "Most bytes held at once, plus at most one buffer (0 = no byte bound).", 0,
                        G_MAXUINT, boundedqueue::kDefaultMaxBytes, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE_TIME,
      g_param_spec_uint64("max-size-time", "Max. size (ns)",
                          "Most running time held at once, in nanoseconds (0 = no time bound).", 0,
                          G_MAXUINT64, boundedqueue::kDefaultMaxTime, rw));
  g_object_class_install_property(
      gobject_class, PROP_LEAKY,
      g_param_spec_enum("leaky", "Leaky",
                        "What happens when full: block upstream (no), drop the incoming buffer "
                        "(upstream) or drop the oldest held buffer (downstream). Events are "
                        "never dropped.",
                        GST_TYPE_BOUNDED_QUEUE_LEAKY,
                        static_cast<gint>(boundedqueue::kDefaultLeaky), rw));
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
                        "Post a boundedqueue-stalled message when the queue filled up and "
                        "the consumer has taken nothing since, for this many milliseconds "
                        "(0 = off; drops do not end a stall). Timed on the pipeline clock.",
                        0, boundedqueue::kMaxStallTimeoutMs, 0, rw));
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
                         "All the counters and levels, taken at one instant so that they always "
                         "add up (a boundedqueue-stats structure).",
                         GST_TYPE_STRUCTURE, ro));
}
