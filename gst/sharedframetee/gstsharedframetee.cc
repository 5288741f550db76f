/**
 * SECTION:element-sharedframetee
 *
 * Fans one stream out to any number of branches through one bounded ring shared by all of
 * them. Upstream pushes into the ring; when the ring is full it waits for the branches that
 * keep up (never for a slow or stalled one, see max-wait and follower-wait), so a branch that
 * keeps up loses nothing whatever the producer's pace. Each request src pad has its own
 * streaming task (a GstTask under the pad's stream lock) and read cursor. A branch that falls
 * further behind than the ring holds skips ahead (to the newest keyframe, or the newest buffer),
 * receives the current sticky events, and counts what it skipped. Memory held is bounded by the
 * ring whatever the number of branches. Replaces `tee` + one `queue leaky=downstream` per branch.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=300 ! x264enc tune=zerolatency key-int-max=30 ! \
 *   h264parse config-interval=-1 ! sharedframetee name=t \
 *   t. ! avdec_h264 ! fakesink  t. ! fakesink
 * ]|
 *
 * See docs/sharedframetee.md for the guarantees, counters and messages.
 */
#include <config.h>

#include "gstsharedframetee.h"

#include <gst/video/video.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "gstsharedframeteepad.h"
#include "sharedframetee-hub.h"
#include "sharedframetee-watchdog.h"

GST_DEBUG_CATEGORY_STATIC(gst_shared_frame_tee_debug);
#define GST_CAT_DEFAULT gst_shared_frame_tee_debug

namespace {
constexpr guint kDefaultCapacityBuffers = 8;
constexpr guint64 kDefaultCapacityTime = 0;
constexpr GstSharedFrameTeeResync kDefaultResync = GST_SHARED_FRAME_TEE_RESYNC_KEYFRAME;
constexpr gboolean kDefaultRequestKeyframe = TRUE;
constexpr guint kDefaultStallTimeout = 0;
constexpr gint kDefaultMaxWait = -1;
constexpr guint kDefaultFollowerWait = 1000;
constexpr gboolean kDefaultAllowNotLinked = FALSE;
}  // namespace

struct SftPrivate {
  std::shared_ptr<sft::Hub> hub = std::make_shared<sft::Hub>();
  std::unique_ptr<sft::Watchdog> watchdog;
  std::mutex pads_mutex;     // our own lock: ThreadSanitizer cannot see GST_OBJECT_LOCK
  guint next_pad_index = 0;  // guarded by pads_mutex
};

struct _GstSharedFrameTee {
  GstElement parent;
  GstPad *sinkpad;
  SftPrivate *priv;
};

enum {
  PROP_0,
  PROP_CAPACITY_BUFFERS,
  PROP_CAPACITY_TIME,
  PROP_RESYNC,
  PROP_REQUEST_KEYFRAME,
  PROP_STALL_TIMEOUT,
  PROP_MAX_WAIT,
  PROP_FOLLOWER_WAIT,
  PROP_ALLOW_NOT_LINKED,
  PROP_BUFFERS_IN,
  PROP_PRODUCER_WAITS,
  PROP_NUM_SRC_PADS,
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src_%u", GST_PAD_SRC, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE(GstSharedFrameTee, gst_shared_frame_tee, GST_TYPE_ELEMENT)
GST_ELEMENT_REGISTER_DEFINE(sharedframetee, "sharedframetee", GST_RANK_NONE,
                            GST_TYPE_SHARED_FRAME_TEE)

GType gst_shared_frame_tee_resync_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_SHARED_FRAME_TEE_RESYNC_KEYFRAME,
       "Resume at the newest keyframe in the ring (wait for the next one if none)", "keyframe"},
      {GST_SHARED_FRAME_TEE_RESYNC_LATEST, "Resume at the newest buffer in the ring", "latest"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstSharedFrameTeeResync", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

// ---- upstream events to the sink pad's peer ----

static void request_keyframe_upstream(GstSharedFrameTee *self) {
  GST_DEBUG_OBJECT(self, "asking upstream for a keyframe for a new branch");
  gst_pad_push_event(self->sinkpad,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

// ---- sink pad ----

static GstFlowReturn gst_shared_frame_tee_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(parent);
  // May wait for the leading branch (see Hub); the flow return is aggregated like tee's.
  return self->priv->hub->push_buffer(buffer);
}

// Deactivating the sink pad (PAUSED->READY, removal) must not wait for a producer blocked on
// the leader: mark the hub flushing first, so the chain function returns.
static gboolean gst_shared_frame_tee_sink_activate_mode(GstPad *pad, GstObject *parent,
                                                        GstPadMode mode, gboolean active) {
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  GST_SHARED_FRAME_TEE(parent)->priv->hub->set_flushing(!active);
  return TRUE;
}

static gboolean pause_branch(GstElement *, GstPad *pad, gpointer) {
  gst_shared_frame_tee_pad_flush_pause(GST_SHARED_FRAME_TEE_PAD(pad));
  return TRUE;
}

static gboolean resume_branch(GstElement *, GstPad *pad, gpointer) {
  gst_shared_frame_tee_pad_flush_resume(GST_SHARED_FRAME_TEE_PAD(pad));
  return TRUE;
}

static gboolean gst_shared_frame_tee_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(parent);
  sft::Hub &hub = *self->priv->hub;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      hub.flush_start();                          // the branch tasks leave their wait
      gst_pad_event_default(pad, parent, event);  // src pads flushing, downstream unblocked
      // Pause every task: each waits for its push in flight (which returns FLUSHING now),
      // so nothing taken before the flush is pushed after it.
      gst_element_foreach_src_pad(GST_ELEMENT(self), pause_branch, nullptr);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      hub.flush_stop_begin();
      gst_pad_event_default(pad, parent, event);
      hub.flush_stop_end();
      gst_element_foreach_src_pad(GST_ELEMENT(self), resume_branch, nullptr);
      return TRUE;
    default:
      break;
  }
  if (GST_EVENT_IS_SERIALIZED(event)) {
    // Into the ring, in order with the buffers; every branch pushes it on its own thread.
    hub.push_event(event);
    return TRUE;
  }
  // Out-of-band downstream events go straight to every branch.
  gst_pad_event_default(pad, parent, event);
  return TRUE;
}

static gboolean gst_shared_frame_tee_sink_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(parent);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_ALLOCATION: {
      // Answered here, never forwarded: a branch blocked downstream must not block
      // upstream, and branches come and go. No metas (a later branch may not support them),
      // no pool; for raw video a minimum buffer count that covers the ring plus one buffer
      // in flight per branch, so an upstream pool is never starved by what we hold.
      GstCaps *caps = nullptr;
      gboolean need_pool = FALSE;
      gst_query_parse_allocation(query, &caps, &need_pool);
      GstVideoInfo info;
      if (caps && gst_video_info_from_caps(&info, caps)) {
        guint64 pads;
        {
          steady::ObjectLock lock(self);
          pads = static_cast<guint64>(GST_ELEMENT(self)->numsrcpads);
        }
        const guint64 min = self->priv->hub->capacity_buffers() + pads + 1;
        gst_query_add_allocation_pool(query, nullptr, static_cast<guint>(info.size),
                                      static_cast<guint>(MIN(min, G_MAXUINT)), 0);
      }
      return TRUE;
    }
    case GST_QUERY_DRAIN:
      // Answered once the leader has taken every buffer in the ring and the ring has let them
      // go, so an upstream pool (a decoder's) gets them back before it renegotiates.
      return self->priv->hub->drain();
    default:
      break;
  }
  if (GST_QUERY_IS_SERIALIZED(query)) {
    // Would have to wait for every branch to drain: refused rather than block upstream.
    GST_DEBUG_OBJECT(self, "refusing serialized query %s", GST_QUERY_TYPE_NAME(query));
    return FALSE;
  }
  // CAPS / ACCEPT_CAPS are proxied (intersection of every branch's peer), others go to the
  // first branch that answers, as tee does.
  return gst_pad_query_default(pad, parent, query);
}

// ---- src pads ----

static gboolean gst_shared_frame_tee_src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  if (GST_EVENT_TYPE(event) == GST_EVENT_QOS) {
    // One slow branch must not make upstream drop frames for every branch.
    gst_event_unref(event);
    return TRUE;
  }
  return gst_pad_event_default(pad, parent, event);
}

static GstPad *gst_shared_frame_tee_request_new_pad(GstElement *element, GstPadTemplate *templ,
                                                    const gchar *name, const GstCaps *caps) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(element);
  guint index = 0;
  {
    std::lock_guard<std::mutex> lock(self->priv->pads_mutex);
    if (name && std::sscanf(name, "src_%u", &index) == 1) {
      if (index >= self->priv->next_pad_index)
        self->priv->next_pad_index = index + 1;
    } else {
      index = self->priv->next_pad_index++;
    }
  }
  g_autofree gchar *pad_name = g_strdup_printf("src_%u", index);
  auto *pad = static_cast<GstSharedFrameTeePad *>(
      g_object_new(GST_TYPE_SHARED_FRAME_TEE_PAD, "name", pad_name, "direction", GST_PAD_SRC,
                   "template", templ, nullptr));
  bool want_keyframe = false;
  gst_shared_frame_tee_pad_setup(pad, self->priv->hub, self->sinkpad, &want_keyframe);
  gst_pad_set_event_function(GST_PAD(pad), gst_shared_frame_tee_src_event);
  GST_OBJECT_FLAG_SET(pad, GST_PAD_FLAG_PROXY_CAPS);
  if (!gst_element_add_pad(element, GST_PAD(pad))) {
    GST_WARNING_OBJECT(self, "could not add pad %s (name taken?)", pad_name);
    gst_object_unref(pad);
    return nullptr;
  }
  GST_DEBUG_OBJECT(self, "new branch %s", pad_name);
  if (want_keyframe)
    request_keyframe_upstream(self);
  g_object_notify(G_OBJECT(self), "num-src-pads");
  return GST_PAD(pad);
}

static void gst_shared_frame_tee_release_pad(GstElement *element, GstPad *pad) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(element);
  GST_DEBUG_OBJECT(self, "releasing %s:%s", GST_DEBUG_PAD_NAME(pad));
  // Out of the ring first (upstream stops offering to it), then its task is stopped and
  // joined: a push stuck downstream is flushed so it returns; see Worker for a downstream
  // that ignores the flush and for a release from the branch's own thread.
  gst_shared_frame_tee_pad_detach(GST_SHARED_FRAME_TEE_PAD(pad));
  gst_pad_set_active(pad, FALSE);
  gst_element_remove_pad(element, pad);
  g_object_notify(G_OBJECT(self), "num-src-pads");
}

static void gst_shared_frame_tee_evict(GstSharedFrameTee *self, sft::StalledBranch &stalled) {
  if (!stalled.owner)
    return;
  GstPad *pad = GST_PAD(stalled.owner.get());
  GST_WARNING_OBJECT(self, "evicting %s:%s: no buffer delivered for %" GST_TIME_FORMAT,
                     GST_DEBUG_PAD_NAME(pad), GST_TIME_ARGS(stalled.stalled_for));
  gst_shared_frame_tee_pad_stop(GST_SHARED_FRAME_TEE_PAD(pad));
  gst_pad_set_active(pad, FALSE);
  GstStructure *s =
      gst_structure_new("sharedframetee-branch-evicted", "pad", GST_TYPE_PAD, pad, "stalled-for",
                        G_TYPE_UINT64, static_cast<guint64>(stalled.stalled_for), "buffers-dropped",
                        G_TYPE_UINT64, static_cast<guint64>(stalled.buffers_dropped), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

// ---- element ----

// The stall watchdog runs on the element clock; without one (no pipeline, or not PLAYING
// yet) on the system clock.
static void use_clock(GstSharedFrameTee *self, GstClock *clock) {
  if (clock) {
    self->priv->hub->set_clock(clock);
    return;
  }
  steady::ObjectRef<GstClock> system =
      steady::ObjectRef<GstClock>::adopt(gst_system_clock_obtain());
  self->priv->hub->set_clock(system.get());
}

static gboolean gst_shared_frame_tee_set_clock(GstElement *element, GstClock *clock) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(element);
  use_clock(self, clock);
  return GST_ELEMENT_CLASS(gst_shared_frame_tee_parent_class)->set_clock(element, clock);
}

static GstStateChangeReturn gst_shared_frame_tee_change_state(GstElement *element,
                                                              GstStateChange transition) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(element);
  sft::Hub &hub = *self->priv->hub;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    hub.reset();
    self->priv->watchdog->start();
  } else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    self->priv->watchdog->stop();
  } else if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED) {
    // A push blocked by a paused (or prerolling) sink is not a stall: timing only in PLAYING.
    hub.set_playing(false);
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_shared_frame_tee_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    hub.reset();
  else if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    hub.set_playing(true);
  return ret;
}

static void gst_shared_frame_tee_set_property(GObject *object, guint prop_id, const GValue *value,
                                              GParamSpec *pspec) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(object);
  sft::Hub &hub = *self->priv->hub;
  switch (prop_id) {
    case PROP_CAPACITY_BUFFERS:
      hub.set_capacity_buffers(g_value_get_uint(value));
      break;
    case PROP_CAPACITY_TIME:
      hub.set_capacity_time(g_value_get_uint64(value));
      break;
    case PROP_RESYNC:
      hub.set_resync_mode(g_value_get_enum(value) == GST_SHARED_FRAME_TEE_RESYNC_LATEST
                              ? sft::ResyncMode::kLatest
                              : sft::ResyncMode::kKeyframe);
      break;
    case PROP_REQUEST_KEYFRAME:
      hub.set_request_keyframe(g_value_get_boolean(value));
      break;
    case PROP_STALL_TIMEOUT:
      hub.set_stall_timeout(static_cast<GstClockTime>(g_value_get_uint(value)) * GST_MSECOND);
      break;
    case PROP_MAX_WAIT:
      hub.set_max_wait(g_value_get_int(value));
      break;
    case PROP_FOLLOWER_WAIT:
      hub.set_follower_wait(g_value_get_uint(value));
      break;
    case PROP_ALLOW_NOT_LINKED:
      hub.set_allow_not_linked(g_value_get_boolean(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_shared_frame_tee_get_property(GObject *object, guint prop_id, GValue *value,
                                              GParamSpec *pspec) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(object);
  const sft::Hub &hub = *self->priv->hub;
  switch (prop_id) {
    case PROP_CAPACITY_BUFFERS:
      g_value_set_uint(value, static_cast<guint>(hub.capacity_buffers()));
      break;
    case PROP_CAPACITY_TIME:
      g_value_set_uint64(value, hub.capacity_time());
      break;
    case PROP_RESYNC:
      g_value_set_enum(value, hub.resync_mode() == sft::ResyncMode::kLatest
                                  ? GST_SHARED_FRAME_TEE_RESYNC_LATEST
                                  : GST_SHARED_FRAME_TEE_RESYNC_KEYFRAME);
      break;
    case PROP_REQUEST_KEYFRAME:
      g_value_set_boolean(value, hub.request_keyframe());
      break;
    case PROP_STALL_TIMEOUT:
      g_value_set_uint(value, static_cast<guint>(hub.stall_timeout() / GST_MSECOND));
      break;
    case PROP_MAX_WAIT:
      g_value_set_int(value, static_cast<gint>(hub.max_wait()));
      break;
    case PROP_FOLLOWER_WAIT:
      g_value_set_uint(value, static_cast<guint>(hub.follower_wait()));
      break;
    case PROP_ALLOW_NOT_LINKED:
      g_value_set_boolean(value, hub.allow_not_linked());
      break;
    case PROP_BUFFERS_IN:
      g_value_set_uint64(value, hub.buffers_in());
      break;
    case PROP_PRODUCER_WAITS:
      g_value_set_uint64(value, hub.producer_waits());
      break;
    case PROP_NUM_SRC_PADS: {
      steady::ObjectLock lock(self);
      g_value_set_int(value, GST_ELEMENT(self)->numsrcpads);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_shared_frame_tee_finalize(GObject *object) {
  GstSharedFrameTee *self = GST_SHARED_FRAME_TEE(object);
  delete self->priv;
  G_OBJECT_CLASS(gst_shared_frame_tee_parent_class)->finalize(object);
}

static void gst_shared_frame_tee_class_init(GstSharedFrameTeeClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_shared_frame_tee_debug, "sharedframetee", 0,
                          "one bounded ring shared by every branch");
  // Intern the message's names now rather than on the watchdog thread at first eviction.
  for (const char *name :
       {"sharedframetee-branch-evicted", "pad", "stalled-for", "buffers-dropped"})
    g_quark_from_static_string(name);

  gobject_class->set_property = gst_shared_frame_tee_set_property;
  gobject_class->get_property = gst_shared_frame_tee_get_property;
  gobject_class->finalize = gst_shared_frame_tee_finalize;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                           GST_PARAM_MUTABLE_PLAYING);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      gobject_class, PROP_CAPACITY_BUFFERS,
      g_param_spec_uint("capacity-buffers", "Capacity (buffers)",
                        "Most buffers the shared ring holds for all branches together; the "
                        "oldest is dropped when a new one arrives.",
                        1, G_MAXINT, kDefaultCapacityBuffers, rw));
  g_object_class_install_property(
      gobject_class, PROP_CAPACITY_TIME,
      g_param_spec_uint64("capacity-time", "Capacity (ns)",
                          "Most time (in nanoseconds, between the oldest and the newest "
                          "timestamp) the shared ring holds; 0 disables this bound.",
                          0, G_MAXUINT64, kDefaultCapacityTime, rw));
  g_object_class_install_property(
      gobject_class, PROP_RESYNC,
      g_param_spec_enum("resync", "Resync",
                        "Where a lagging or newly linked branch resumes: at the newest keyframe "
                        "(decodes cleanly at once) or at the newest buffer.",
                        GST_TYPE_SHARED_FRAME_TEE_RESYNC, kDefaultResync, rw));
  g_object_class_install_property(
      gobject_class, PROP_REQUEST_KEYFRAME,
      g_param_spec_boolean("request-keyframe", "Request keyframe",
                           "Ask upstream for a keyframe (force-key-unit, at most once per "
                           "second) when a branch waits for one that the ring does not hold.",
                           kDefaultRequestKeyframe, rw));
  g_object_class_install_property(
      gobject_class, PROP_STALL_TIMEOUT,
      g_param_spec_uint("stall-timeout", "Stall timeout (ms)",
                        "Evict a branch whose downstream has not returned from a push for this "
                        "many milliseconds of the element clock, and post a "
                        "'sharedframetee-branch-evicted' element message; 0 disables eviction.",
                        0, G_MAXUINT, kDefaultStallTimeout, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_WAIT,
      g_param_spec_int("max-wait", "Max wait (ms)",
                       "How long upstream waits, when the ring is full, for the leading branch "
                       "(the one furthest ahead that is still taking buffers) to take the "
                       "oldest buffer before it is dropped anyway: -1 waits as long as it takes "
                       "(nothing is lost on a branch that keeps up; a stalled leader is ended "
                       "by stall-timeout), 0 never waits for any branch (for live sources that "
                       "must never block: the oldest buffer is dropped at once, as in v1).",
                       -1, G_MAXINT, kDefaultMaxWait, rw));
  g_object_class_install_property(
      gobject_class, PROP_FOLLOWER_WAIT,
      g_param_spec_uint("follower-wait", "Follower wait (ms)",
                        "How long upstream waits, when the ring is full, for a branch behind the "
                        "leading one before leaving it behind (it then skips ahead and counts "
                        "what it missed); it is waited for again once it has caught up. Not "
                        "used when max-wait is 0.",
                        0, G_MAXINT, kDefaultFollowerWait, rw));
  g_object_class_install_property(
      gobject_class, PROP_ALLOW_NOT_LINKED,
      g_param_spec_boolean("allow-not-linked", "Allow not linked",
                           "Accept data when no branch is linked (it rolls through the ring) "
                           "instead of returning not-linked upstream.",
                           kDefaultAllowNotLinked, rw));
  g_object_class_install_property(
      gobject_class, PROP_BUFFERS_IN,
      g_param_spec_uint64("buffers-in", "Buffers in",
                          "Buffers received from upstream since the element was created.", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_PRODUCER_WAITS,
      g_param_spec_uint64("producer-waits", "Producer waits",
                          "Times upstream waited for the leading branch because the ring was "
                          "full.",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_NUM_SRC_PADS,
      g_param_spec_int("num-src-pads", "Number of src pads",
                       "Number of branches (request src pads) currently on the element.", 0,
                       G_MAXINT, 0, ro));

  gst_element_class_set_static_metadata(
      element_class, "Shared frame tee", "Generic",
      "Fans a stream out through one bounded ring shared by all branches; a slow branch "
      "skips ahead to a keyframe instead of blocking the others",
      "gst-steady");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &src_template,
                                                       GST_TYPE_SHARED_FRAME_TEE_PAD);
  element_class->request_new_pad = gst_shared_frame_tee_request_new_pad;
  element_class->release_pad = gst_shared_frame_tee_release_pad;
  element_class->change_state = gst_shared_frame_tee_change_state;
  element_class->set_clock = gst_shared_frame_tee_set_clock;

  gst_type_mark_as_plugin_api(GST_TYPE_SHARED_FRAME_TEE_PAD, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_SHARED_FRAME_TEE_RESYNC, static_cast<GstPluginAPIFlags>(0));
}

static void gst_shared_frame_tee_init(GstSharedFrameTee *self) {
  self->priv = new SftPrivate();
  self->priv->watchdog.reset(new sft::Watchdog(
      self->priv->hub, [self](sft::StalledBranch &s) { gst_shared_frame_tee_evict(self, s); }));

  use_clock(self, nullptr);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, gst_shared_frame_tee_chain);
  gst_pad_set_event_function(self->sinkpad, gst_shared_frame_tee_sink_event);
  gst_pad_set_query_function(self->sinkpad, gst_shared_frame_tee_sink_query);
  gst_pad_set_activatemode_function(self->sinkpad, gst_shared_frame_tee_sink_activate_mode);
  GST_OBJECT_FLAG_SET(self->sinkpad, GST_PAD_FLAG_PROXY_CAPS);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
}

static gboolean plugin_init(GstPlugin *plugin) {
  return GST_ELEMENT_REGISTER(sharedframetee, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, sharedframetee,
                  "One bounded ring shared by all branches of a fan-out", plugin_init, VERSION,
                  GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
