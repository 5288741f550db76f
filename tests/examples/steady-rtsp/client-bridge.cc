#include "client-bridge.h"

#include <gst/app/gstappsrc.h>

GST_DEBUG_CATEGORY_EXTERN(steady_rtsp_debug);
#define GST_CAT_DEFAULT steady_rtsp_debug

namespace steady_rtsp {

ClientBridge::ClientBridge(GstElement *appsrc, GstClockTime source_base_time)
    : appsrc_(steady::ObjectRef<GstElement>::share(appsrc)) {
  // The probe lives as long as the client's appsrc pad and owns its own copy of the source
  // base time, so it never refers back to the bridge (which may go first).
  auto pad = steady::ObjectRef<GstPad>::adopt(gst_element_get_static_pad(appsrc, "src"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, rebase_timestamps,
                    new GstClockTime(source_base_time),
                    [](gpointer data) { delete static_cast<GstClockTime *>(data); });
}

void ClientBridge::connect(const std::shared_ptr<ClientBridge> &bridge, GstAppSink *appsink) {
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks(
      appsink, &callbacks, new std::shared_ptr<ClientBridge>(bridge),
      [](gpointer data) { delete static_cast<std::shared_ptr<ClientBridge> *>(data); });
}

GstFlowReturn ClientBridge::on_new_sample(GstAppSink *sink, gpointer user_data) {
  ClientBridge &self = **static_cast<std::shared_ptr<ClientBridge> *>(user_data);
  auto sample = steady::MiniRef<GstSample>::adopt(gst_app_sink_pull_sample(sink));
  if (!sample)
    return GST_FLOW_FLUSHING;
  GstCaps *caps = gst_sample_get_caps(sample.get());
  if (caps && (!self.caps_ || !gst_caps_is_equal(caps, self.caps_.get()))) {
    gst_app_src_set_caps(GST_APP_SRC(self.appsrc_.get()), caps);
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
  // Blocks while the client's appsrc is full: that is the back-pressure the branch's
  // boundedqueue and sharedframetee act on.
  const GstFlowReturn ret = gst_app_src_push_buffer(GST_APP_SRC(self.appsrc_.get()), buffer);
  if (ret == GST_FLOW_OK) {
    self.delivered_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // The client's pipeline is shutting down (FLUSHING) or failed. The branch is about to be
    // removed; refusing here would only make the shared source see an error, so drop quietly.
    self.refused_.fetch_add(1, std::memory_order_relaxed);
    GST_LOG("client appsrc refused a buffer: %s", gst_flow_get_name(ret));
  }
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
