// Pipeline helpers for the VA tests: frame-by-frame picture comparison (bit for bit on vasim,
// a PSNR floor on real hardware), appsink collection, bus waits, first-buffer watches.
// Header-only; include from one gst-check test file.
#pragma once

#include "vasim-testing.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace vasim_test {

struct Diff {
  guint64 differing = 0;
  double psnr = INFINITY;
};

inline Diff compare(GstSample *a, GstSample *b) {
  GstVideoInfo ia, ib;
  fail_unless(gst_video_info_from_caps(&ia, gst_sample_get_caps(a)));
  fail_unless(gst_video_info_from_caps(&ib, gst_sample_get_caps(b)));
  fail_unless_equals_int(GST_VIDEO_INFO_WIDTH(&ia), GST_VIDEO_INFO_WIDTH(&ib));
  fail_unless_equals_int(GST_VIDEO_INFO_HEIGHT(&ia), GST_VIDEO_INFO_HEIGHT(&ib));
  GstVideoFrame fa, fb;
  fail_unless(gst_video_frame_map(&fa, &ia, gst_sample_get_buffer(a), GST_MAP_READ));
  fail_unless(gst_video_frame_map(&fb, &ib, gst_sample_get_buffer(b), GST_MAP_READ));
  Diff d;
  double sq = 0;
  for (guint c = 0; c < 3; ++c) {
    const gint w = GST_VIDEO_FRAME_COMP_WIDTH(&fa, c), h = GST_VIDEO_FRAME_COMP_HEIGHT(&fa, c);
    fail_unless_equals_int(w, GST_VIDEO_FRAME_COMP_WIDTH(&fb, c));
    fail_unless_equals_int(h, GST_VIDEO_FRAME_COMP_HEIGHT(&fb, c));
    const guint8 *pa = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&fa, c));
    const guint8 *pb = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&fb, c));
    const gint sa = GST_VIDEO_FRAME_COMP_STRIDE(&fa, c), sb = GST_VIDEO_FRAME_COMP_STRIDE(&fb, c);
    const gint xa = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, c), xb = GST_VIDEO_FRAME_COMP_PSTRIDE(&fb, c);
    for (gint y = 0; y < h; ++y)
      for (gint x = 0; x < w; ++x) {
        const int va = pa[y * sa + x * xa], vb = pb[y * sb + x * xb];
        if (va != vb)
          ++d.differing;
        if (c == 0)
          sq += double(va - vb) * double(va - vb);
      }
    if (c == 0 && sq > 0)
      d.psnr = 10.0 * std::log10(255.0 * 255.0 * w * h / sq);
  }
  gst_video_frame_unmap(&fb);
  gst_video_frame_unmap(&fa);
  return d;
}

// Real encoders are lossy: on real hardware the comparison is a quality floor instead.
inline void expect_same_picture(GstSample *in, GstSample *out, guint index) {
  const Diff d = compare(in, out);
  if (real_va())
    fail_unless(d.psnr >= 30.0, "frame %u: luma PSNR %.1f dB < 30", index, d.psnr);
  else
    fail_unless(d.differing == 0, "frame %u: %" G_GUINT64_FORMAT " samples differ", index,
                d.differing);
}

// Keeps every sample an appsink receives (appsink holds EOS back until its queue is empty,
// so samples are taken as they arrive).
struct Collector {
  std::mutex lock;
  std::vector<GstSample *> samples;

  static GstFlowReturn on_sample(GstAppSink *sink, gpointer data) {
    auto *self = static_cast<Collector *>(data);
    GstSample *s = gst_app_sink_pull_sample(sink);
    if (!s)
      return GST_FLOW_ERROR;
    std::lock_guard<std::mutex> g(self->lock);
    self->samples.push_back(s);
    return GST_FLOW_OK;
  }
  void attach(GstElement *pipeline, const char *name) {
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), name);
    fail_unless(e != nullptr);
    GstAppSinkCallbacks cb{};
    cb.new_sample = on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(e), &cb, this, nullptr);
    gst_object_unref(e);
  }
  std::vector<GstSample *> take() {
    std::lock_guard<std::mutex> g(lock);
    return std::move(samples);
  }
};

inline void unref_all(std::vector<GstSample *> &v) {
  for (GstSample *s : v)
    gst_sample_unref(s);
  v.clear();
}

// Waits for EOS or an error; returns the error message (empty on EOS).
inline std::string wait_end(GstElement *pipeline, GstClockTime timeout = 60 * GST_SECOND) {
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, timeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  fail_unless(msg != nullptr, "no EOS or error within the timeout");
  std::string err;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *e = nullptr;
    gchar *dbg = nullptr;
    gst_message_parse_error(msg, &e, &dbg);
    err = std::string(e->message) + " | " + (dbg ? dbg : "");
    g_clear_error(&e);
    g_free(dbg);
  }
  gst_message_unref(msg);
  return err;
}

inline GstElement *launch(const std::string &desc) {
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  fail_unless(p != nullptr && err == nullptr, "cannot build '%s': %s", desc.c_str(),
              err ? err->message : "?");
  return p;
}

inline void stop(GstElement *pipeline) {
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(pipeline);
}

// Counts the buffers leaving an element's src pad and remembers when the first one left.
struct SrcWatch {
  std::mutex lock;
  std::condition_variable cond;
  guint buffers = 0;
  std::chrono::steady_clock::time_point first{};

  static GstPadProbeReturn probe(GstPad *, GstPadProbeInfo *, gpointer data) {
    auto *self = static_cast<SrcWatch *>(data);
    std::lock_guard<std::mutex> g(self->lock);
    if (self->buffers++ == 0)
      self->first = std::chrono::steady_clock::now();
    self->cond.notify_all();
    return GST_PAD_PROBE_OK;
  }
  void attach(GstElement *pipeline, const char *element) {
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), element);
    fail_unless(e != nullptr);
    GstPad *pad = gst_element_get_static_pad(e, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, probe, this, nullptr);
    gst_object_unref(pad);
    gst_object_unref(e);
  }
  bool wait_first(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> g(lock);
    return cond.wait_for(g, timeout, [this] { return buffers > 0; });
  }
  guint count() {
    std::lock_guard<std::mutex> g(lock);
    return buffers;
  }
};

}  // namespace vasim_test
