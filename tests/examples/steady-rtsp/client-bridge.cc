#include "client-bridge.h"

#include <gst/app/gstappsrc.h>

#include <chrono>

GST_DEBUG_CATEGORY_EXTERN(steady_rtsp_debug);
#define GST_CAT_DEFAULT steady_rtsp_debug

namespace steady_rtsp {

namespace {

using WeakBridge = std::weak_ptr<ClientBridge>;

void delete_weak(gpointer data) {
  delete static_cast<WeakBridge *>(data);
}

}  // namespace

ClientBridge::ClientBridge(GstElement *appsrc, GstClockTime source_base_time) {
  g_weak_ref_init(&appsrc_, appsrc);
  g_object_get(appsrc, "max-buffers", &max_buffers_, nullptr);
  if (max_buffers_ == 0)
    max_buffers_ = 2;
  // The probe lives as long as the client's appsrc pad and owns its own copy of the source
  // base time, so it never refers back to the bridge (which may go first).
  auto pad = steady::ObjectRef<GstPad>::adopt(gst_element_get_static_pad(appsrc, "src"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, rebase_timestamps,
                    new GstClockTime(source_base_time),
                    [](gpointer data) { delete static_cast<GstClockTime *>(data); });
}

ClientBridge::~ClientBridge() {
  g_weak_ref_clear(&appsrc_);
}

void ClientBridge::connect(GstAppSink *appsink) {
  GstAppSinkCallbacks sink_callbacks = {};
  sink_callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks(
      appsink, &sink_callbacks, new std::shared_ptr<ClientBridge>(shared_from_this()),
      [](gpointer data) { delete static_cast<std::shared_ptr<ClientBridge> *>(data); });
  // The appsrc drained: there is room again.
  GstAppSrcCallbacks src_callbacks = {};
  src_callbacks.need_data = [](GstAppSrc *, guint, gpointer data) {
    if (auto self = static_cast<WeakBridge *>(data)->lock())
      self->wake();
  };
  auto appsrc = steady::ObjectRef<GstElement>::adopt(GST_ELEMENT(g_weak_ref_get(&appsrc_)));
  if (appsrc)
    gst_app_src_set_callbacks(GST_APP_SRC(appsrc.get()), &src_callbacks,
                              new WeakBridge(weak_from_this()), delete_weak);
  // A flush of the branch (eviction, release) must end a wait before it reaches the appsink,
  // whose preroll lock the waiting render call holds.
  auto pad =
      steady::ObjectRef<GstPad>::adopt(gst_element_get_static_pad(GST_ELEMENT(appsink), "sink"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_FLUSH, on_flush,
                    new WeakBridge(weak_from_this()), delete_weak);
}

void ClientBridge::shutdown() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    shut_down_ = true;
  }
  room_.notify_all();
}

void ClientBridge::wake() {
  { std::lock_guard<std::mutex> guard(lock_); }
  room_.notify_all();
}

bool ClientBridge::wait_for_room(GstAppSrc *appsrc) {
  std::unique_lock<std::mutex> guard(lock_);
  for (;;) {
    if (flushing_ || shut_down_)
      return false;
    if (gst_app_src_get_current_level_buffers(appsrc) < max_buffers_)
      return true;
    // need-data wakes us as soon as the appsrc drains; the timeout only bounds a missed wake.
    room_.wait_for(guard, std::chrono::milliseconds(50));
  }
}

GstPadProbeReturn ClientBridge::on_flush(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
  auto self = static_cast<WeakBridge *>(user_data)->lock();
  if (!self)
    return GST_PAD_PROBE_OK;
  const bool starting = GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_START;
  {
    std::lock_guard<std::mutex> guard(self->lock_);
    self->flushing_ = starting;
  }
  self->room_.notify_all();
  return GST_PAD_PROBE_OK;
}

GstFlowReturn ClientBridge::on_new_sample(GstAppSink *sink, gpointer user_data) {
  ClientBridge &self = **static_cast<std::shared_ptr<ClientBridge> *>(user_data);
  auto sample = steady::MiniRef<GstSample>::adopt(gst_app_sink_pull_sample(sink));
  if (!sample)
    return GST_FLOW_FLUSHING;
  auto appsrc_ref =
      steady::ObjectRef<GstElement>::adopt(GST_ELEMENT(g_weak_ref_get(&self.appsrc_)));
  if (!appsrc_ref)
    return GST_FLOW_OK;  // the client's pipeline is gone; the branch follows shortly
  GstAppSrc *appsrc = GST_APP_SRC(appsrc_ref.get());
  // Waiting here is the back-pressure the branch's boundedqueue and sharedframetee act on.
  if (!self.wait_for_room(appsrc)) {
    GST_LOG("branch flushing or shut down: sample dropped");
    return GST_FLOW_OK;
  }
  GstCaps *caps = gst_sample_get_caps(sample.get());
  if (caps && (!self.caps_ || !gst_caps_is_equal(caps, self.caps_.get()))) {
    gst_app_src_set_caps(appsrc, caps);
    self.caps_ = steady::MiniRef<GstCaps>::share(caps);
  }
  const GstSegment *segment = gst_sample_get_segment(sample.get());
  GstBuffer *buffer = gst_buffer_copy(gst_sample_get_buffer(sample.get()));  // metadata only
  auto running_time = [segment](GstClockTime ts) -> GstClockTime {
    if (!GST_CLOCK_TIME_IS_VALID(ts) || !segment || segment->format != GST_FORMAT_TIME)
      return ts;
    guint64 rt = 0;
    // Negative running times (DTS before the segment start) become 0.
    return gst_segment_to_running_time_full(segment, GST_FORMAT_TIME, ts, &rt) > 0 ? rt : 0;
  };
  GST_BUFFER_PTS(buffer) = running_time(GST_BUFFER_PTS(buffer));
  GST_BUFFER_DTS(buffer) = running_time(GST_BUFFER_DTS(buffer));
  // Never blocks (block=false): there is room, checked above.
  if (gst_app_src_push_buffer(appsrc, buffer) == GST_FLOW_OK)
    self.delivered_.fetch_add(1, std::memory_order_relaxed);
  // Otherwise the client's pipeline is shutting down (FLUSHING): the branch is about to be
  // removed, and an error here would only reach the shared source. Dropped quietly.
  return GST_FLOW_OK;
}

// Moves a buffer from the source pipeline's running time into the client pipeline's: the same
// clock time, minus the client's base time instead of the source's.
GstPadProbeReturn ClientBridge::rebase_timestamps(GstPad *pad, GstPadProbeInfo *info,
                                                  gpointer user_data) {
  const GstClockTime source_base_time = *static_cast<const GstClockTime *>(user_data);
  GstElement *appsrc = GST_PAD_PARENT(pad);
  if (!appsrc)
    return GST_PAD_PROBE_OK;
  const GstClockTimeDiff shift =
      GST_CLOCK_DIFF(gst_element_get_base_time(appsrc), source_base_time);
  GstBuffer *buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  auto move = [shift](GstClockTime ts) -> GstClockTime {
    if (!GST_CLOCK_TIME_IS_VALID(ts))
      return ts;
    const GstClockTimeDiff moved = static_cast<GstClockTimeDiff>(ts) + shift;
    return moved > 0 ? static_cast<GstClockTime>(moved) : 0;
  };
  GST_BUFFER_PTS(buffer) = move(GST_BUFFER_PTS(buffer));
  GST_BUFFER_DTS(buffer) = move(GST_BUFFER_DTS(buffer));
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  return GST_PAD_PROBE_OK;
}

}  // namespace steady_rtsp
