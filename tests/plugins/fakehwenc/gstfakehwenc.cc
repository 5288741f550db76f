/**
 * SECTION:element-fakehwenc
 * @title: fakehwenc
 *
 * Test-only: behaves like a hardware H.264 encoder so vapoolenc's hardware paths run on
 * machines without a GPU. Inside it is x264enc (byte-stream, in-band SPS/PPS on every
 * keyframe, correct keyframe/delta flags, honours force-key-unit events). Around it:
 *
 * - a process-wide session budget: a session (the "hardware context") is created on the first
 *   caps after READY and destroyed on PAUSED->READY, like the va encoders; the budget+1th
 *   session is refused with an error, as an exhausted driver refuses vaCreateContext;
 * - a session-creation delay (real time) modelling context creation cost;
 * - failure injection: refuse to open (NULL->READY fails), fail after N frames per session,
 *   or refuse to close (READY->NULL fails, to exercise cleanup-failure handling).
 *
 * The fault and budget properties are process-wide (they apply to every instance, so a test
 * can configure the encoders vapoolenc creates); defaults come from the environment variables
 * FAKEHWENC_BUDGET, FAKEHWENC_CREATION_DELAY_MS, FAKEHWENC_FAIL_OPEN, FAKEHWENC_FAIL_AFTER.
 *
 * |[
 * FAKEHWENC_CREATION_DELAY_MS=100 gst-launch-1.0 videotestsrc num-buffers=30 ! fakehwenc ! \
 *     h264parse ! avdec_h264 ! fakesink
 * ]|
 */
#include <config.h>

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

GST_DEBUG_CATEGORY_STATIC(fakehwenc_debug);
#define GST_CAT_DEFAULT fakehwenc_debug

#define GST_TYPE_FAKE_HW_ENC (gst_fake_hw_enc_get_type())
G_DECLARE_FINAL_TYPE(GstFakeHwEnc, gst_fake_hw_enc, GST, FAKE_HW_ENC, GstBin)

namespace {

// Process-wide "hardware".
std::atomic<guint> g_budget{0};  // 0: unlimited
std::atomic<guint> g_creation_delay_ms{0};
std::atomic<bool> g_fail_open{false};
std::atomic<guint> g_fail_after{0};  // 0: never
std::atomic<bool> g_fail_async{false};
std::atomic<bool> g_fail_close{false};
std::atomic<guint> g_live{0};
std::atomic<guint64> g_created{0};
std::atomic<guint64> g_refused{0};

guint env_uint(const char *name) {
  const char *v = std::getenv(name);
  return v ? static_cast<guint>(std::strtoul(v, nullptr, 10)) : 0;
}

}  // namespace

struct _GstFakeHwEnc {
  GstBin parent;
  GstElement *x264;  // owned by the bin
  GstPad *sinkpad;
  // Streaming thread only (and change_state after the pad is deactivated).
  bool context_open;
  guint frames;
  // Per-instance settings.
  guint target_bitrate;  // bit/s
  guint gop_size;
  gboolean low_delay;
};

enum {
  PROP_0,
  PROP_TARGET_BITRATE,
  PROP_GOP_SIZE,
  PROP_LOW_DELAY,
  PROP_SESSION_BUDGET,
  PROP_CREATION_DELAY,
  PROP_FAIL_OPEN,
  PROP_FAIL_AFTER,
  PROP_FAIL_ASYNC,
  PROP_FAIL_CLOSE,
  PROP_LIVE_SESSIONS,
  PROP_SESSIONS_CREATED,
  PROP_SESSIONS_REFUSED,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string){ NV12, I420 }, width=(int)[16, 4096], "
                    "height=(int)[16, 4096], framerate=(fraction)[0/1, MAX]"));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/x-h264, stream-format=(string)byte-stream, "
                                            "alignment=(string)au"));

G_DEFINE_TYPE(GstFakeHwEnc, gst_fake_hw_enc, GST_TYPE_BIN)

static void apply_settings(GstFakeHwEnc *self) {
  if (self->target_bitrate)
    g_object_set(self->x264, "bitrate", MAX(1u, self->target_bitrate / 1000), nullptr);
  if (self->gop_size)
    g_object_set(self->x264, "key-int-max", self->gop_size, nullptr);
  gst_util_set_object_arg(G_OBJECT(self->x264), "tune", self->low_delay ? "zerolatency" : "");
}

static void close_context(GstFakeHwEnc *self) {
  if (self->context_open) {
    self->context_open = false;
    g_live--;
    GST_INFO_OBJECT(self, "session closed (%u live)", g_live.load());
  }
}

static gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstFakeHwEnc *self = GST_FAKE_HW_ENC(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS && !self->context_open) {
    // "Context creation": costs time, consumes the process-wide budget.
    guint delay = g_creation_delay_ms;
    if (delay)
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    guint budget = g_budget;
    guint live = g_live.load();
    while (true) {
      if (budget && live >= budget) {
        g_refused++;
        GST_ELEMENT_ERROR(self, RESOURCE, BUSY,
                          ("fakehwenc: session budget of %u exhausted", budget),
                          ("all %u simulated hardware sessions are in use", live));
        gst_event_unref(event);
        return FALSE;
      }
      if (g_live.compare_exchange_weak(live, live + 1))
        break;
    }
    self->context_open = true;
    self->frames = 0;
    g_created++;
    apply_settings(self);
    GST_INFO_OBJECT(self, "session created (%u live)", live + 1);
  }
  return gst_pad_event_default(pad, parent, event);
}

static GstFlowReturn sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  GstFakeHwEnc *self = GST_FAKE_HW_ENC(parent);
  guint fail_after = g_fail_after;
  if (fail_after && self->frames >= fail_after) {
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, STREAM, ENCODE,
                      ("fakehwenc: simulated hardware failure after %u frames", fail_after),
                      (nullptr));
    // fail-async: the error is only posted, as by an encoder whose output thread finds it.
    return g_fail_async ? GST_FLOW_OK : GST_FLOW_ERROR;
  }
  self->frames++;
  return gst_proxy_pad_chain_default(pad, parent, buffer);
}

static GstStateChangeReturn change_state(GstElement *element, GstStateChange transition) {
  GstFakeHwEnc *self = GST_FAKE_HW_ENC(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && g_fail_open) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE,
                      ("fakehwenc: simulated failure to open the device"), (nullptr));
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL && g_fail_close) {
    GST_ELEMENT_ERROR(self, RESOURCE, CLOSE, ("fakehwenc: simulated failure to close the device"),
                      (nullptr));
    return GST_STATE_CHANGE_FAILURE;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_fake_hw_enc_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    close_context(self);
  return ret;
}

static void gst_fake_hw_enc_init(GstFakeHwEnc *self) {
  self->low_delay = FALSE;
  self->x264 = gst_element_factory_make("x264enc", nullptr);
  GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
  GstCaps *caps = gst_static_pad_template_get_caps(&src_template);
  g_object_set(filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
  gst_util_set_object_arg(G_OBJECT(self->x264), "speed-preset", "ultrafast");
  g_object_set(self->x264, "threads", 1, nullptr);
  gst_bin_add_many(GST_BIN(self), self->x264, filter, nullptr);
  gst_element_link(self->x264, filter);

  GstPad *target = gst_element_get_static_pad(self->x264, "sink");
  self->sinkpad = gst_ghost_pad_new_from_template(
      "sink", target, gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink"));
  gst_object_unref(target);
  gst_pad_set_event_function(self->sinkpad, sink_event);
  gst_pad_set_chain_function(self->sinkpad, sink_chain);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  target = gst_element_get_static_pad(filter, "src");
  GstPad *src = gst_ghost_pad_new_from_template(
      "src", target, gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src"));
  gst_object_unref(target);
  gst_element_add_pad(GST_ELEMENT(self), src);
}

static void gst_fake_hw_enc_finalize(GObject *object) {
  close_context(GST_FAKE_HW_ENC(object));
  G_OBJECT_CLASS(gst_fake_hw_enc_parent_class)->finalize(object);
}

static void set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec) {
  GstFakeHwEnc *self = GST_FAKE_HW_ENC(object);
  switch (prop_id) {
    case PROP_TARGET_BITRATE:
      self->target_bitrate = g_value_get_uint(value);
      break;
    case PROP_GOP_SIZE:
      self->gop_size = g_value_get_uint(value);
      break;
    case PROP_LOW_DELAY:
      self->low_delay = g_value_get_boolean(value);
      break;
    case PROP_SESSION_BUDGET:
      g_budget = g_value_get_uint(value);
      break;
    case PROP_CREATION_DELAY:
      g_creation_delay_ms = g_value_get_uint(value);
      break;
    case PROP_FAIL_OPEN:
      g_fail_open = g_value_get_boolean(value);
      break;
    case PROP_FAIL_AFTER:
      g_fail_after = g_value_get_uint(value);
      break;
    case PROP_FAIL_ASYNC:
      g_fail_async = g_value_get_boolean(value);
      break;
    case PROP_FAIL_CLOSE:
      g_fail_close = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstFakeHwEnc *self = GST_FAKE_HW_ENC(object);
  switch (prop_id) {
    case PROP_TARGET_BITRATE:
      g_value_set_uint(value, self->target_bitrate);
      break;
    case PROP_GOP_SIZE:
      g_value_set_uint(value, self->gop_size);
      break;
    case PROP_LOW_DELAY:
      g_value_set_boolean(value, self->low_delay);
      break;
    case PROP_SESSION_BUDGET:
      g_value_set_uint(value, g_budget);
      break;
    case PROP_CREATION_DELAY:
      g_value_set_uint(value, g_creation_delay_ms);
      break;
    case PROP_FAIL_OPEN:
      g_value_set_boolean(value, g_fail_open);
      break;
    case PROP_FAIL_AFTER:
      g_value_set_uint(value, g_fail_after);
      break;
    case PROP_FAIL_ASYNC:
      g_value_set_boolean(value, g_fail_async);
      break;
    case PROP_FAIL_CLOSE:
      g_value_set_boolean(value, g_fail_close);
      break;
    case PROP_LIVE_SESSIONS:
      g_value_set_uint(value, g_live);
      break;
    case PROP_SESSIONS_CREATED:
      g_value_set_uint64(value, g_created);
      break;
    case PROP_SESSIONS_REFUSED:
      g_value_set_uint64(value, g_refused);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_fake_hw_enc_class_init(GstFakeHwEncClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(fakehwenc_debug, "fakehwenc", 0, "simulated hardware encoder");
  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = gst_fake_hw_enc_finalize;
  element_class->change_state = change_state;

  g_budget = env_uint("FAKEHWENC_BUDGET");
  g_creation_delay_ms = env_uint("FAKEHWENC_CREATION_DELAY_MS");
  g_fail_open = env_uint("FAKEHWENC_FAIL_OPEN") != 0;
  g_fail_after = env_uint("FAKEHWENC_FAIL_AFTER");

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      gobject_class, PROP_TARGET_BITRATE,
      g_param_spec_uint("target-bitrate", "Target bitrate",
                        "Target bitrate in bit/s (0: encoder default).", 0, G_MAXINT, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_GOP_SIZE,
      g_param_spec_uint("gop-size", "GOP size", "Frames between keyframes (0: default).", 0,
                        G_MAXINT, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_LOW_DELAY,
      g_param_spec_boolean("low-delay", "Low delay", "Zero-latency encoding.", FALSE, rw));
  g_object_class_install_property(
      gobject_class, PROP_SESSION_BUDGET,
      g_param_spec_uint("session-budget", "Session budget",
                        "Process-wide: sessions the simulated hardware allows at once (0: "
                        "unlimited).",
                        0, G_MAXINT, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_CREATION_DELAY,
      g_param_spec_uint("creation-delay", "Creation delay",
                        "Process-wide: milliseconds a session takes to create (real time).", 0,
                        60000, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_FAIL_OPEN,
      g_param_spec_boolean("fail-open", "Fail open",
                           "Process-wide: refuse to open (NULL->READY fails).", FALSE, rw));
  g_object_class_install_property(
      gobject_class, PROP_FAIL_AFTER,
      g_param_spec_uint("fail-after", "Fail after",
                        "Process-wide: each session fails on the frame after this many (0: "
                        "never).",
                        0, G_MAXINT, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_FAIL_ASYNC,
      g_param_spec_boolean("fail-async", "Fail asynchronously",
                           "Process-wide: a fail-after failure drops the frame and posts the "
                           "error, but the chain returns OK (the error comes only as a message).",
                           FALSE, rw));
  g_object_class_install_property(
      gobject_class, PROP_FAIL_CLOSE,
      g_param_spec_boolean("fail-close", "Fail close",
                           "Process-wide: refuse to close (READY->NULL fails) while set.", FALSE,
                           rw));
  g_object_class_install_property(
      gobject_class, PROP_LIVE_SESSIONS,
      g_param_spec_uint("live-sessions", "Live sessions",
                        "Process-wide: simulated hardware sessions open now.", 0, G_MAXUINT, 0,
                        ro));
  g_object_class_install_property(
      gobject_class, PROP_SESSIONS_CREATED,
      g_param_spec_uint64("sessions-created", "Sessions created",
                          "Process-wide: simulated hardware sessions created so far.", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_SESSIONS_REFUSED,
      g_param_spec_uint64("sessions-refused", "Sessions refused",
                          "Process-wide: sessions refused because the budget was exhausted.", 0,
                          G_MAXUINT64, 0, ro));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Fake hardware H.264 encoder (tests)", "Codec/Encoder/Video/Hardware",
      "Session-limited stand-in for a hardware encoder", "gst-steady");
}

static gboolean plugin_init(GstPlugin *plugin) {
  return gst_element_register(plugin, "fakehwenc", GST_RANK_NONE, GST_TYPE_FAKE_HW_ENC);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, fakehwenc,
                  "Test-only simulated hardware encoder", plugin_init, VERSION, GST_LICENSE,
                  GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
