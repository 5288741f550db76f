#include "pipelines.h"

#include <gst/gst.h>

#include "common/launch-fragments.h"
#include "common/text-format.h"

namespace steady_rtsp {

namespace {

using steady_examples::baseline_h264_encoder;
using steady_examples::fan_description;
using steady_examples::format;
using steady_examples::raw_video_caps;

// Scales and converts whatever a source produces to the one raw format the encoders get, so
// every /transcode session has the same pool key and a camera's odd modes do not matter.
std::string raw_video_description(const Options &o) {
  return "videoconvert ! videoscale ! videorate ! " +
         raw_video_caps(o.width, o.height, o.framerate);
}

}  // namespace

std::string encoder_description(const Options &o) {
  if (o.baseline) {
    // What a relay does without gst-steady: a fresh software encoder per session, tuned the
    // way vapoolenc tunes its software fallback for low latency.
    return baseline_h264_encoder(o.bitrate_kbps, o.key_int_max);
  }
  std::string enc = format(
      "vapoolenc name=enc codec=h264 device=%s bitrate=%d key-int-max=%d "
      "max-idle=%d",
      o.device.c_str(), o.bitrate_kbps, o.key_int_max, o.pool_max_idle);
  if (!o.hardware_factories.empty())
    enc += " hardware-factories=\"" + o.hardware_factories + "\"";
  return enc;
}

std::string live_source_description(const Options &o) {
  return o.source + " ! " + raw_video_description(o) + " ! " + encoder_description(o) +
         " ! h264parse config-interval=-1 ! "
         "video/x-h264,stream-format=byte-stream,alignment=au ! " +
         fan_description(o.baseline, o.ring_buffers, o.stall_timeout_ms);
}

std::string live_client_description(const Options &o) {
  // Two buffers at most wait here (announced as the latency this source may add): the bound
  // that matters is the branch's, upstream.
  const unsigned long long max_latency_ns = 2ull * GST_SECOND / static_cast<unsigned>(o.framerate);
  return format(
      "( appsrc name=feed is-live=true format=time block=false max-buffers=2 "
      "max-bytes=0 min-latency=0 max-latency=%llu "
      "! rtph264pay name=pay0 pt=96 )",
      max_latency_ns);
}

std::string transcode_description(const Options &o) {
  return "( " + o.transcode_source + " ! " + raw_video_description(o) + " ! " +
         encoder_description(o) + " ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 )";
}

std::vector<std::string> required_factories(const Options &o) {
  std::vector<std::string> names = {"videoconvert", "videoscale", "videorate", "h264parse",
                                    "rtph264pay",   "appsrc",     "appsink"};
  if (o.baseline) {
    names.insert(names.end(), {"x264enc", "tee", "queue"});
  } else {
    names.insert(names.end(), {"vapoolenc", "sharedframetee", "boundedqueue"});
  }
  return names;
}

}  // namespace steady_rtsp
