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
 * - a `boundedqueue-stalled` message when the queue filled up and the consumer has not taken
 *   anything since, for `stall-timeout` milliseconds (its own drops do not end a stall).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true num-buffers=100 ! x264enc tune=zerolatency ! \
 *     boundedqueue max-size-buffers=8 leaky=downstream ! avdec_h264 ! fakesink
 * ]|
 */
#include <config.h>

#include "gstboundedqueue.h"
#include "gstboundedqueue-private.h"

#include <gst/video/video.h>
#include <steady-ptr.h>

#include <memory>
#include <mutex>

#include "boundedqueue-core.h"
#include "gstboundedqueue-timer.h"

GST_DEBUG_CATEGORY_STATIC(bounded_queue_debug);
#define GST_CAT_DEFAULT bounded_queue_debug

using boundedqueue::Bounds;

namespace {

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

}  // namespace

G_DEFINE_TYPE(GstBoundedQueue, gst_bounded_queue, GST_TYPE_ELEMENT)
GST_ELEMENT_REGISTER_DEFINE(boundedqueue, "boundedqueue", GST_RANK_NONE, GST_TYPE_BOUNDED_QUEUE)

static void gst_bounded_queue_loop(gpointer data);

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

// The core's TaskControl: called under the core's lock (see boundedqueue-core.h).
static void task_start(void *data) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(data);
  if (gst_pad_is_active(self->srcpad))
    gst_pad_start_task(self->srcpad, gst_bounded_queue_loop, self, nullptr);
}

static void task_pause(void *data) {
  gst_pad_pause_task(GST_BOUNDED_QUEUE(data)->srcpad);
}

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

void gst_bounded_queue_handle_sink_result(GstBoundedQueue *self,
                                          const boundedqueue::SinkResult &r) {
  if (G_UNLIKELY(r.request_keyframe))
    request_keyframe(self);
  if (G_UNLIKELY(r.warn_untimed))
    GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                        ("boundedqueue is bounded by max-size-time only, but the buffers have no "
                         "timestamps: nothing bounds what it holds."),
                        ("Set max-size-buffers or max-size-bytes as well."));
  if (G_UNLIKELY(GST_CLOCK_TIME_IS_VALID(r.arm_stall_at)))
    arm_stall_timer(self, r.arm_stall_at);
}

// ---- source task ----

static void gst_bounded_queue_loop(gpointer data) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(data);
  boundedqueue::Core &core = self->priv->core;
  boundedqueue::Popped p;
  if (!core.pop(p)) {  // paused the task
    GST_DEBUG_OBJECT(self, "task paused: %s", gst_flow_get_name(core.srcresult()));
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
      if (is_eos && core.eos_pushed()) {
        GST_DEBUG_OBJECT(self, "EOS pushed, task paused");
        return;
      }
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

  core.push_failed(ret);  // pauses the task
  GST_DEBUG_OBJECT(self, "task paused after push: %s", gst_flow_get_name(ret));
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
  gst_bounded_queue_handle_sink_result(self, r);
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
      core.restart(true);  // and starts the task, in one step
      return TRUE;
    }
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED(event))
    return gst_pad_push_event(self->srcpad, event);

  const bool is_eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
  boundedqueue::EventResult r = core.push_event(event);  // restarts the task after EOS
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
    // The task is created here, outside the core's lock: creating it posts a stream-status
    // message, whose sync handlers may read our properties.
    self->priv->core.restart();
    return gst_pad_start_task(pad, gst_bounded_queue_loop, self, nullptr);
  }
  self->priv->core.set_flushing();
  return gst_pad_stop_task(pad);
}

static gboolean gst_bounded_queue_src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstBoundedQueue *self = GST_BOUNDED_QUEUE(parent);
  // Downstream was relinked: after NOT_LINKED, clear it and restart the task in one step,
  // as queue does under its lock.
  if (GST_EVENT_TYPE(event) == GST_EVENT_RECONFIGURE && self->priv->core.relink())
    GST_DEBUG_OBJECT(self, "relinked: task restarted");
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
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      // Stalls are timed only while PLAYING (the pipeline has given us its clock by now).
      self->priv->stall_timer.start();
      GstClockTime now = GST_CLOCK_TIME_NONE;
      auto clock = steady::ObjectRef<GstClock>::adopt(gst_element_get_clock(element));
      if (clock)
        now = gst_clock_get_time(clock.get());
      arm_stall_timer(self, core.set_playing(true, now));
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      // A consumer held by a paused sink is not stalled: no timer, the stall forgotten.
      self->priv->stall_timer.stop();
      core.set_playing(false, GST_CLOCK_TIME_NONE);
      break;
    default:
      break;
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_bounded_queue_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    self->priv->stall_timer.stop();  // no callback runs or re-arms after this
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
  self->priv = new GstBoundedQueuePrivate();
  boundedqueue::TaskControl tc;
  tc.start = task_start;
  tc.pause = task_pause;
  tc.data = self;
  self->priv->core.set_task_control(tc);
  Bounds b;
  b.buffers = boundedqueue::kDefaultMaxBuffers;
  b.bytes = boundedqueue::kDefaultMaxBytes;
  b.time = boundedqueue::kDefaultMaxTime;
  self->priv->core.set_bounds(b, false, nullptr);
  self->priv->core.set_leaky(boundedqueue::kDefaultLeaky);

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

  gobject_class->finalize = gst_bounded_queue_finalize;

  gst_bounded_queue_install_properties(gobject_class);

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
