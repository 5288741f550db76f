/**
 * SECTION:element-vapoolenc
 * @title: vapoolenc
 *
 * A video encoder bin that takes its encoder from a process-wide pool of sessions. Hardware
 * sessions (VA, VA-API, NVENC) are expensive to create and limited in number; when a user's
 * session ends (the bin leaves PAUSED for READY), vapoolenc parks its encoder, still holding
 * its hardware context, and the next vapoolenc with the same key (encoder, render node,
 * input format, settings) takes it instead of creating one. A process-wide session limit,
 * cached probing, one VA display per render node, software fallback and mid-stream failover
 * complete it. Lifecycle lines (CREATED, ACQUIRED, RELEASED, PARKED, DESTROYED,
 * CLEANUP_FAILED) are logged at INFO in the `vapoolenc-pool` category.
 *
 * ## Example launch line (works with or without VA-API: falls back to x264enc)
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! video/x-raw,format=NV12,width=640,height=480 ! \
 *     vapoolenc codec=h264 bitrate=2000 ! h264parse ! avdec_h264 ! fakesink
 * ]|
 *
 * See docs/vapoolenc.md for the selection order, the pool and the settings mapping.
 */
#include <config.h>

#include "gstvapoolenc.h"

#include "vapoolenc-pool.h"
#include "vapoolenc-slot.h"

#include <steady-ptr.h>

GST_DEBUG_CATEGORY_STATIC(gst_va_pool_enc_debug);
#define GST_CAT_DEFAULT gst_va_pool_enc_debug

using vapoolenc::Device;
using vapoolenc::ProbeMode;

struct _GstVaPoolEnc {
  GstBin parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  vapoolenc::EncoderSlot *slot;
  vapoolenc::SlotConfig *config;  // guarded by the object lock
};

enum {
  PROP_0,
  PROP_DEVICE,
  PROP_CODEC,
  PROP_HARDWARE_FACTORIES,
  PROP_SOFTWARE_FACTORY,
  PROP_RENDER_NODE,
  PROP_PROBE,
  PROP_BITRATE,
  PROP_KEY_INT_MAX,
  PROP_LOW_LATENCY,
  PROP_MAX_SESSIONS,
  PROP_ACQUIRE_TIMEOUT,
  PROP_MAX_IDLE,
  PROP_IDLE_TIMEOUT,
  PROP_POOL_CLOCK,
  PROP_ENCODER,
  PROP_REUSED,
  PROP_FAILOVERS,
  PROP_FRAMES_IN,
  PROP_FRAMES_OUT,
  PROP_FRAMES_LOST,
  PROP_POOL_STATS,
};

enum { SIGNAL_DRAIN_POOL, N_SIGNALS };

static const guint kDefaultAcquireTimeoutMs = 1000;
static guint signals[N_SIGNALS];

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-h264; video/x-h265; video/x-vp8; video/x-vp9; video/x-av1"));

#define GST_TYPE_VA_POOL_ENC_DEVICE (gst_va_pool_enc_device_get_type())
static GType gst_va_pool_enc_device_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Device::kAuto), "First usable hardware encoder, else software", "auto"},
      {static_cast<gint>(Device::kVa), "VA encoders of the va plugin (vah264enc...)", "va"},
      {static_cast<gint>(Device::kVaapi), "gstreamer-vaapi encoders (vaapih264enc...)", "vaapi"},
      {static_cast<gint>(Device::kNvenc), "NVIDIA NVENC encoders (nvh264enc...)", "nvenc"},
      {static_cast<gint>(Device::kSoftware), "Software encoders only (x264enc...)", "software"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstVaPoolEncDevice", values));
  return type;
}

#define GST_TYPE_VA_POOL_ENC_PROBE (gst_va_pool_enc_probe_get_type())
static GType gst_va_pool_enc_probe_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(ProbeMode::kEntrypoints),
       "Installed, and libva lists an encode entrypoint on the node", "entrypoints"},
      {static_cast<gint>(ProbeMode::kEncode),
       "As entrypoints, and one test frame encodes to a keyframe", "encode"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstVaPoolEncProbe", values));
  return type;
}

G_DEFINE_TYPE(GstVaPoolEnc, gst_va_pool_enc, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(vapoolenc, "vapoolenc", GST_RANK_NONE, GST_TYPE_VA_POOL_ENC)

static GstFlowReturn sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  return GST_VA_POOL_ENC(parent)->slot->chain(pad, parent, buffer);
}

static GstFlowReturn sink_chain_list(GstPad *pad, GstObject *parent, GstBufferList *list) {
  GstFlowReturn ret = GST_FLOW_OK;
  for (guint i = 0; i < gst_buffer_list_length(list) && ret == GST_FLOW_OK; i++)
    ret = sink_chain(pad, parent, gst_buffer_ref(gst_buffer_list_get(list, i)));
  gst_buffer_list_unref(list);
  return ret;
}

static gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  return GST_VA_POOL_ENC(parent)->slot->sink_event(pad, parent, event);
}

static gboolean sink_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  return GST_VA_POOL_ENC(parent)->slot->sink_query(pad, parent, query);
}

static gboolean src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  return GST_VA_POOL_ENC(parent)->slot->src_query(pad, parent, query);
}

static void gst_va_pool_enc_init(GstVaPoolEnc *self) {
  self->config = new vapoolenc::SlotConfig();
  self->config->acquire.acquire_timeout = std::chrono::milliseconds(kDefaultAcquireTimeoutMs);
  self->sinkpad = gst_ghost_pad_new_no_target_from_template(
      "sink", gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink"));
  self->srcpad = gst_ghost_pad_new_no_target_from_template(
      "src", gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src"));
  gst_pad_set_chain_function(self->sinkpad, sink_chain);
  gst_pad_set_chain_list_function(self->sinkpad, sink_chain_list);
  gst_pad_set_event_function(self->sinkpad, sink_event);
  gst_pad_set_query_function(self->sinkpad, sink_query);
  gst_pad_set_query_function(self->srcpad, src_query);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
  self->slot = new vapoolenc::EncoderSlot(GST_BIN(self), self->sinkpad, self->srcpad);
}

static void gst_va_pool_enc_dispose(GObject *object) {
  GST_VA_POOL_ENC(object)->slot->dispose();
  G_OBJECT_CLASS(gst_va_pool_enc_parent_class)->dispose(object);
}

static void gst_va_pool_enc_finalize(GObject *object) {
  GstVaPoolEnc *self = GST_VA_POOL_ENC(object);
  delete self->slot;
  delete self->config;
  G_OBJECT_CLASS(gst_va_pool_enc_parent_class)->finalize(object);
}

static void set_string(std::string &field, const GValue *value) {
  const gchar *s = g_value_get_string(value);
  field = s ? s : "";
}

static void gst_va_pool_enc_set_property(GObject *object, guint prop_id, const GValue *value,
                                         GParamSpec *pspec) {
  GstVaPoolEnc *self = GST_VA_POOL_ENC(object);
  if (prop_id == PROP_POOL_CLOCK) {
    vapoolenc::SessionPool::global().set_clock(GST_CLOCK(g_value_get_object(value)));
    return;
  }
  steady::ObjectLock lock(self);
  vapoolenc::SlotConfig &c = *self->config;
  switch (prop_id) {
    case PROP_DEVICE:
      c.selection.device = static_cast<Device>(g_value_get_enum(value));
      break;
    case PROP_CODEC:
      set_string(c.selection.codec, value);
      break;
    case PROP_HARDWARE_FACTORIES:
      set_string(c.selection.hardware_factories, value);
      break;
    case PROP_SOFTWARE_FACTORY:
      set_string(c.selection.software_factory, value);
      break;
    case PROP_RENDER_NODE:
      set_string(c.selection.render_node, value);
      break;
    case PROP_PROBE:
      c.selection.probe = static_cast<ProbeMode>(g_value_get_enum(value));
      break;
    case PROP_BITRATE:
      c.settings.bitrate_kbps = g_value_get_uint(value);
      break;
    case PROP_KEY_INT_MAX:
      c.settings.key_int_max = g_value_get_uint(value);
      break;
    case PROP_LOW_LATENCY:
      c.settings.low_latency = g_value_get_boolean(value);
      break;
    case PROP_MAX_SESSIONS:
      c.acquire.max_sessions = g_value_get_uint(value);
      break;
    case PROP_ACQUIRE_TIMEOUT:
      c.acquire.acquire_timeout = std::chrono::milliseconds(g_value_get_uint(value));
      break;
    case PROP_MAX_IDLE:
      c.park.max_idle = g_value_get_uint(value);
      break;
    case PROP_IDLE_TIMEOUT:
      c.park.idle_timeout = g_value_get_uint(value) * GST_MSECOND;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static GstStructure *pool_stats_structure() {
  vapoolenc::PoolStats s = vapoolenc::SessionPool::global().stats();
  return gst_structure_new(
      "vapoolenc-pool-stats", "created", G_TYPE_UINT64, static_cast<guint64>(s.created), "reused",
      G_TYPE_UINT64, static_cast<guint64>(s.reused), "destroyed", G_TYPE_UINT64,
      static_cast<guint64>(s.destroyed), "parked", G_TYPE_UINT, s.parked, "active", G_TYPE_UINT,
      s.active, "reuse-rate", G_TYPE_DOUBLE, s.reuse_rate(), "cleanup-failures", G_TYPE_UINT64,
      static_cast<guint64>(s.cleanup_failures), "limit-waits", G_TYPE_UINT64,
      static_cast<guint64>(s.limit_waits), "fallbacks", G_TYPE_UINT64,
      static_cast<guint64>(s.fallbacks), "interrupted", G_TYPE_UINT64,
      static_cast<guint64>(s.interrupted), nullptr);
}

static void gst_va_pool_enc_get_property(GObject *object, guint prop_id, GValue *value,
                                         GParamSpec *pspec) {
  GstVaPoolEnc *self = GST_VA_POOL_ENC(object);
  switch (prop_id) {
    case PROP_POOL_CLOCK:
      g_value_take_object(value, vapoolenc::SessionPool::global().get_clock());
      return;
    case PROP_POOL_STATS:
      g_value_take_boxed(value, pool_stats_structure());
      return;
    case PROP_ENCODER:
    case PROP_REUSED:
    case PROP_FAILOVERS:
    case PROP_FRAMES_IN:
    case PROP_FRAMES_OUT:
    case PROP_FRAMES_LOST: {
      vapoolenc::SlotStatus st = self->slot->status();
      if (prop_id == PROP_ENCODER)
        g_value_set_string(value, st.encoder.empty() ? nullptr : st.encoder.c_str());
      else if (prop_id == PROP_REUSED)
        g_value_set_boolean(value, st.reused);
      else if (prop_id == PROP_FAILOVERS)
        g_value_set_uint(value, st.failovers);
      else if (prop_id == PROP_FRAMES_IN)
        g_value_set_uint64(value, st.frames_in);
      else if (prop_id == PROP_FRAMES_OUT)
        g_value_set_uint64(value, st.frames_out);
      else
        g_value_set_uint64(value, st.frames_lost);
      return;
    }
    default:
      break;
  }
  steady::ObjectLock lock(self);
  const vapoolenc::SlotConfig &c = *self->config;
  auto str = [](const std::string &s) { return s.empty() ? nullptr : s.c_str(); };
  switch (prop_id) {
    case PROP_DEVICE:
      g_value_set_enum(value, static_cast<gint>(c.selection.device));
      break;
    case PROP_CODEC:
      g_value_set_string(value, c.selection.codec.c_str());
      break;
    case PROP_HARDWARE_FACTORIES:
      g_value_set_string(value, str(c.selection.hardware_factories));
      break;
    case PROP_SOFTWARE_FACTORY:
      g_value_set_string(value, str(c.selection.software_factory));
      break;
    case PROP_RENDER_NODE:
      g_value_set_string(value, str(c.selection.render_node));
      break;
    case PROP_PROBE:
      g_value_set_enum(value, static_cast<gint>(c.selection.probe));
      break;
    case PROP_BITRATE:
      g_value_set_uint(value, c.settings.bitrate_kbps);
      break;
    case PROP_KEY_INT_MAX:
      g_value_set_uint(value, c.settings.key_int_max);
      break;
    case PROP_LOW_LATENCY:
      g_value_set_boolean(value, c.settings.low_latency);
      break;
    case PROP_MAX_SESSIONS:
      g_value_set_uint(value, c.acquire.max_sessions);
      break;
    case PROP_ACQUIRE_TIMEOUT:
      g_value_set_uint(value, static_cast<guint>(c.acquire.acquire_timeout.count()));
      break;
    case PROP_MAX_IDLE:
      g_value_set_uint(value, c.park.max_idle);
      break;
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint(value, static_cast<guint>(c.park.idle_timeout / GST_MSECOND));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

// Takes the bin's current settings into its slot; on failure posts the error and returns false.
static bool configure_slot(GstVaPoolEnc *self) {
  vapoolenc::SlotConfig config;
  {
    steady::ObjectLock lock(self);
    config = *self->config;
  }
  std::string error;
  if (self->slot->configure(config, &error))
    return true;
  if (!vapoolenc::parse_codec(config.selection.codec))
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("%s", error.c_str()), (nullptr));
  else
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN, ("%s", error.c_str()), (nullptr));
  return false;
}

static GstStateChangeReturn gst_va_pool_enc_change_state(GstElement *element,
                                                         GstStateChange transition) {
  GstVaPoolEnc *self = GST_VA_POOL_ENC(element);
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      // Settings are read at both: a change made in READY takes effect when the bin starts
      // (a changed selection is selected again, probing what was not probed yet).
      if (!configure_slot(self))
        return GST_STATE_CHANGE_FAILURE;
      self->slot->resume();
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      // Deactivating the sink pad waits for the streaming thread: end its wait for a session
      // first. Then stop the stream into the encoder and hand the session back to the pool
      // before the bin would take its children (the encoder) to READY and lose the hardware
      // context.
      self->slot->interrupt();
      gst_pad_set_active(self->sinkpad, FALSE);
      self->slot->release();
      break;
    default:
      break;
  }
  return GST_ELEMENT_CLASS(gst_va_pool_enc_parent_class)->change_state(element, transition);
}

static void gst_va_pool_enc_handle_message(GstBin *bin, GstMessage *message) {
  GstVaPoolEnc *self = GST_VA_POOL_ENC(bin);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR && self->slot->on_child_error(message)) {
    gst_message_unref(message);  // failover handles it; the stream goes on
    return;
  }
  GST_BIN_CLASS(gst_va_pool_enc_parent_class)->handle_message(bin, message);
}

static guint gst_va_pool_enc_drain_pool(GstVaPoolEnc *) {
  return vapoolenc::SessionPool::global().drain();
}

static void gst_va_pool_enc_class_init(GstVaPoolEncClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBinClass *bin_class = GST_BIN_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(gst_va_pool_enc_debug, "vapoolenc-element", 0, "vapoolenc element");

  gobject_class->set_property = gst_va_pool_enc_set_property;
  gobject_class->get_property = gst_va_pool_enc_get_property;
  gobject_class->dispose = gst_va_pool_enc_dispose;
  gobject_class->finalize = gst_va_pool_enc_finalize;
  element_class->change_state = gst_va_pool_enc_change_state;
  bin_class->handle_message = gst_va_pool_enc_handle_message;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                           GST_PARAM_MUTABLE_READY);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_enum("device", "Device",
                        "Which encoders may be used: auto tries the hardware candidates in order "
                        "and falls back to software; va, vaapi and nvenc use only that kind of "
                        "hardware; software uses only the software encoder.",
                        GST_TYPE_VA_POOL_ENC_DEVICE, static_cast<gint>(Device::kAuto), rw));
  g_object_class_install_property(
      gobject_class, PROP_CODEC,
      g_param_spec_string("codec", "Codec",
                          "Codec to encode to: h264, h265, vp8, vp9 or av1. Any other value "
                          "fails the change to READY with an error.",
                          "h264", rw));
  g_object_class_install_property(
      gobject_class, PROP_HARDWARE_FACTORIES,
      g_param_spec_string("hardware-factories", "Hardware factories",
                          "Comma-separated hardware encoder factories to try, in order, instead "
                          "of the built-in list (e.g. \"vah264enc,vaapih264enc\").",
                          nullptr, rw));
  g_object_class_install_property(
      gobject_class, PROP_SOFTWARE_FACTORY,
      g_param_spec_string("software-factory", "Software factory",
                          "Software encoder factory to use instead of the built-in choice "
                          "(e.g. \"openh264enc\").",
                          nullptr, rw));
  g_object_class_install_property(
      gobject_class, PROP_RENDER_NODE,
      g_param_spec_string("render-node", "Render node",
                          "DRM render node for VA encoders (e.g. /dev/dri/renderD129); by "
                          "default the first node whose driver can encode the codec.",
                          nullptr, rw));
  g_object_class_install_property(
      gobject_class, PROP_PROBE,
      g_param_spec_enum("probe", "Probe",
                        "How hardware candidates are checked, once per process: by their "
                        "libva encode entrypoints, or also by encoding one test frame.",
                        GST_TYPE_VA_POOL_ENC_PROBE, static_cast<gint>(ProbeMode::kEncode), rw));
  g_object_class_install_property(
      gobject_class, PROP_BITRATE,
      g_param_spec_uint("bitrate", "Bitrate",
                        "Target bitrate in kbit/s, converted to each encoder's own property and "
                        "unit; 0 keeps the encoder's default.",
                        0, 2000000, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_KEY_INT_MAX,
      g_param_spec_uint("key-int-max", "Maximum keyframe interval",
                        "Maximum number of frames between keyframes; 0 keeps the encoder's "
                        "default.",
                        0, G_MAXINT, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_LOW_LATENCY,
      g_param_spec_boolean("low-latency", "Low latency",
                           "Configure the encoder for low latency: no B-frames, no lookahead, "
                           "zero-latency tuning.",
                           TRUE, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SESSIONS,
      g_param_spec_uint("max-sessions", "Maximum sessions",
                        "Process-wide limit on live plus parked sessions per hardware encoder "
                        "and render node; 0 means unlimited. Software encoders are not limited.",
                        0, G_MAXINT, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_ACQUIRE_TIMEOUT,
      g_param_spec_uint("acquire-timeout", "Acquire timeout",
                        "Milliseconds to wait for a session to be released at max-sessions; "
                        "then device=auto falls back to software and a fixed device fails "
                        "negotiation.",
                        0, G_MAXINT, kDefaultAcquireTimeoutMs, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_IDLE,
      g_param_spec_uint("max-idle", "Maximum idle sessions",
                        "Parked sessions kept per encoder and render node when this bin "
                        "releases its session; the oldest beyond it are destroyed. 0 destroys "
                        "sessions instead of parking them.",
                        0, G_MAXINT, 2, rw));
  g_object_class_install_property(
      gobject_class, PROP_IDLE_TIMEOUT,
      g_param_spec_uint("idle-timeout", "Idle timeout",
                        "Milliseconds a session this bin parks may stay parked before the pool "
                        "thread destroys it (measured on the pool clock).",
                        0, G_MAXUINT, 30000, rw));
  g_object_class_install_property(
      gobject_class, PROP_POOL_CLOCK,
      g_param_spec_object("pool-clock", "Pool clock",
                          "Process-wide: the clock idle-timeout is measured on (default: the "
                          "system clock). Tests install a GstTestClock here; set NULL to go "
                          "back to the system clock.",
                          GST_TYPE_CLOCK,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_ENCODER,
      g_param_spec_string("encoder", "Encoder",
                          "Factory name of the encoder in use (NULL before the first caps).",
                          nullptr, ro));
  g_object_class_install_property(
      gobject_class, PROP_REUSED,
      g_param_spec_boolean("reused", "Reused",
                           "Whether the current session came from the pool rather than being "
                           "created for this user.",
                           FALSE, ro));
  g_object_class_install_property(
      gobject_class, PROP_FAILOVERS,
      g_param_spec_uint("failovers", "Failovers",
                        "How many times a failed hardware encoder was replaced by software "
                        "while streaming.",
                        0, G_MAXUINT, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_IN,
      g_param_spec_uint64("frames-in", "Frames in",
                          "Raw frames handed to an encoder. frames-in equals frames-out plus "
                          "frames-lost plus the frames the current encoder still holds.",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_OUT,
      g_param_spec_uint64("frames-out", "Frames out",
                          "Encoded frames pushed downstream (header-only buffers not counted).", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_FRAMES_LOST,
      g_param_spec_uint64("frames-lost", "Frames lost",
                          "Frames an encoder took and never returned: held by a failed "
                          "encoder at failover, or flushed when a session ended without EOS.",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_POOL_STATS,
      g_param_spec_boxed(
          "pool-stats", "Pool statistics",
          "Process-wide pool counters: created, reused, destroyed, parked, "
          "active, reuse-rate, cleanup-failures, limit-waits, fallbacks, interrupted "
          "(waits for a session ended by a flush or a state change).",
          GST_TYPE_STRUCTURE, ro));

  /**
   * GstVaPoolEnc::drain-pool:
   *
   * Destroys every parked session of the process now (waiting for each to reach NULL) and
   * returns how many. gst_deinit() drains the pool by itself; applications call this to give
   * hardware back earlier (e.g. before suspend).
   */
  signals[SIGNAL_DRAIN_POOL] = g_signal_new_class_handler(
      "drain-pool", G_TYPE_FROM_CLASS(klass),
      static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_va_pool_enc_drain_pool), nullptr, nullptr, nullptr, G_TYPE_UINT, 0);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Pooled video encoder", "Codec/Encoder/Video/Hardware",
      "Encodes with a hardware session from a process-wide pool (session limit, cached "
      "probing, software fallback and failover)",
      "gst-steady");
  gst_type_mark_as_plugin_api(GST_TYPE_VA_POOL_ENC_DEVICE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_VA_POOL_ENC_PROBE, static_cast<GstPluginAPIFlags>(0));
}
