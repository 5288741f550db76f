// GObject glue of the sharedframetee src pad: properties and task lifetime only; the
// branch logic is sft::Hub / sft::Worker.
#include "gstsharedframeteepad.h"

#include <utility>

struct SftPadPrivate {
  std::shared_ptr<sft::Hub> hub;
  std::shared_ptr<sft::Branch> branch;
  std::unique_ptr<sft::Worker> worker;
};

struct _GstSharedFrameTeePad {
  GstPad parent;
  SftPadPrivate *priv;
};

G_DEFINE_TYPE(GstSharedFrameTeePad, gst_shared_frame_tee_pad, GST_TYPE_PAD)

enum {
  PROP_0,
  PROP_BUFFERS_OUT,
  PROP_BUFFERS_DROPPED,
  PROP_LAG_BUFFERS,
  PROP_RESYNCS,
  PROP_STATS,
};

static sft::BranchStats pad_stats(GstSharedFrameTeePad *self) {
  if (!self->priv->hub)
    return sft::BranchStats();
  return self->priv->hub->stats(self->priv->branch);
}

static void gst_shared_frame_tee_pad_get_property(GObject *object, guint prop_id, GValue *value,
                                                  GParamSpec *pspec) {
  GstSharedFrameTeePad *self = GST_SHARED_FRAME_TEE_PAD(object);
  const sft::BranchStats s = pad_stats(self);
  switch (prop_id) {
    case PROP_BUFFERS_OUT:
      g_value_set_uint64(value, s.out);
      break;
    case PROP_BUFFERS_DROPPED:
      g_value_set_uint64(value, s.dropped);
      break;
    case PROP_LAG_BUFFERS:
      g_value_set_uint64(value, s.held);
      break;
    case PROP_RESYNCS:
      g_value_set_uint64(value, s.resyncs);
      break;
    case PROP_STATS:
      g_value_take_boxed(
          value,
          gst_structure_new("sharedframetee-pad-stats", "buffers-offered", G_TYPE_UINT64, s.offered,
                            "buffers-out", G_TYPE_UINT64, s.out, "buffers-dropped", G_TYPE_UINT64,
                            s.dropped, "lag-buffers", G_TYPE_UINT64, s.held, "resyncs",
                            G_TYPE_UINT64, s.resyncs, "events-skipped", G_TYPE_UINT64,
                            s.events_skipped, "evicted", G_TYPE_BOOLEAN, s.evicted, nullptr));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_shared_frame_tee_pad_linked(GstPad *pad, GstPad *peer) {
  GstSharedFrameTeePad *self = GST_SHARED_FRAME_TEE_PAD(pad);
  if (self->priv->hub)
    self->priv->hub->set_linked(self->priv->branch, true);
}

static void gst_shared_frame_tee_pad_unlinked(GstPad *pad, GstPad *peer) {
  GstSharedFrameTeePad *self = GST_SHARED_FRAME_TEE_PAD(pad);
  if (self->priv->hub)
    self->priv->hub->set_linked(self->priv->branch, false);
}

static gboolean gst_shared_frame_tee_pad_activate_mode(GstPad *pad, GstObject *parent,
                                                       GstPadMode mode, gboolean active) {
  GstSharedFrameTeePad *self = GST_SHARED_FRAME_TEE_PAD(pad);
  if (mode != GST_PAD_MODE_PUSH || !self->priv->worker)
    return mode == GST_PAD_MODE_PUSH;
  if (active)
    self->priv->worker->start();  // gst_pad_start_task: posts stream-status CREATE/ENTER
  else
    self->priv->worker->stop(sft::Worker::StopMode::kDeactivate);
  return TRUE;
}

static void gst_shared_frame_tee_pad_finalize(GObject *object) {
  GstSharedFrameTeePad *self = GST_SHARED_FRAME_TEE_PAD(object);
  SftPadPrivate *priv = self->priv;
  // A task only paused (its pad was released from its own streaming thread) is joined here,
  // before the worker its loop uses goes away.
  gst_pad_stop_task(GST_PAD(self));
  priv->worker.reset();
  if (priv->hub)
    priv->hub->remove_branch(priv->branch);
  delete priv;
  G_OBJECT_CLASS(gst_shared_frame_tee_pad_parent_class)->finalize(object);
}

static void gst_shared_frame_tee_pad_class_init(GstSharedFrameTeePadClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstPadClass *pad_class = GST_PAD_CLASS(klass);
  gobject_class->get_property = gst_shared_frame_tee_pad_get_property;
  gobject_class->finalize = gst_shared_frame_tee_pad_finalize;
  pad_class->linked = gst_shared_frame_tee_pad_linked;
  pad_class->unlinked = gst_shared_frame_tee_pad_unlinked;

  for (const char *name :
       {"sharedframetee-pad-stats", "buffers-offered", "buffers-out", "buffers-dropped",
        "lag-buffers", "resyncs", "events-skipped", "evicted"})
    g_quark_from_static_string(name);

  const auto flags = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      gobject_class, PROP_BUFFERS_OUT,
      g_param_spec_uint64("buffers-out", "Buffers out",
                          "Buffers this branch pushed downstream successfully.", 0, G_MAXUINT64, 0,
                          flags));
  g_object_class_install_property(
      gobject_class, PROP_BUFFERS_DROPPED,
      g_param_spec_uint64("buffers-dropped", "Buffers dropped",
                          "Buffers this branch never delivered: skipped while lagging, waiting "
                          "for a keyframe, refused downstream, flushed or evicted.",
                          0, G_MAXUINT64, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_LAG_BUFFERS,
      g_param_spec_uint64("lag-buffers", "Lag in buffers",
                          "Buffers this branch still has to deliver (held in the shared ring "
                          "for it, plus the one being pushed).",
                          0, G_MAXUINT64, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_RESYNCS,
      g_param_spec_uint64("resyncs", "Resyncs",
                          "Times this branch fell behind the ring and skipped ahead.", 0,
                          G_MAXUINT64, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "All counters of this branch read at one instant: buffers-offered, "
                         "buffers-out, buffers-dropped, lag-buffers, resyncs, events-skipped, "
                         "evicted. buffers-offered == buffers-out + buffers-dropped + "
                         "lag-buffers always holds.",
                         GST_TYPE_STRUCTURE, flags));
}

static void gst_shared_frame_tee_pad_init(GstSharedFrameTeePad *self) {
  self->priv = new SftPadPrivate();
  gst_pad_set_activatemode_function(GST_PAD(self), gst_shared_frame_tee_pad_activate_mode);
}

void gst_shared_frame_tee_pad_setup(GstSharedFrameTeePad *pad, std::shared_ptr<sft::Hub> hub,
                                    GstPad *sinkpad, bool *request_keyframe) {
  SftPadPrivate *priv = pad->priv;
  priv->hub = std::move(hub);
  priv->branch = priv->hub->add_branch(GST_OBJECT(pad), request_keyframe);
  priv->hub->set_linked(priv->branch, gst_pad_is_linked(GST_PAD(pad)));
  priv->worker.reset(new sft::Worker(priv->hub, priv->branch, GST_PAD(pad), sinkpad));
}

void gst_shared_frame_tee_pad_detach(GstSharedFrameTeePad *pad) {
  SftPadPrivate *priv = pad->priv;
  if (!priv->hub)
    return;
  priv->hub->remove_branch(priv->branch);
  priv->worker->stop(sft::Worker::StopMode::kUnblock);
}

void gst_shared_frame_tee_pad_stop(GstSharedFrameTeePad *pad) {
  if (pad->priv->worker)
    pad->priv->worker->stop(sft::Worker::StopMode::kUnblock);
}

void gst_shared_frame_tee_pad_flush_pause(GstSharedFrameTeePad *pad) {
  if (pad->priv->worker)
    pad->priv->worker->flush_pause();
}

void gst_shared_frame_tee_pad_flush_resume(GstSharedFrameTeePad *pad) {
  if (pad->priv->worker)
    pad->priv->worker->flush_resume();
}
