#include "pipelines.h"

#include <gst/gst.h>

#include "text-format.h"

namespace steady_rtsp {

namespace {

using steady_examples::format;

// Scales and converts whatever a source produces to the one raw format the encoders get, so
// every /transcode session has the same pool key and a camera's odd modes do not matter.
std::string raw_video_description(const Options &o) {
  return format(
      "videoconvert ! videoscale ! videorate ! "
      "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1",
      o.width, o.height, o.framerate);
}

}  // namespace

std::string encoder_description(const Options &o) {
  if (o.baseline) {
    // What a relay does without gst-steady: a fresh software encoder per session, tuned the
    // way vapoolenc tunes its software fallback for low latency.
    return format(
        "x264enc name=enc tune=zerolatency speed-preset=superfast bitrate=%d "
        "key-int-max=%d",
        o.bitrate_kbps, o.key_int_max);
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
  std::string fan;
  if (o.baseline) {
    fan = "tee name=fan allow-not-linked=true";
  } else {
    // The ring is shared by every client; a client further behind than it skips to the newest
    // keyframe, and one that takes nothing for stall-timeout is evicted. A live source never
    // waits for a client (max-wait=0), and runs with no client at all (allow-not-linked).
    fan = format(
        "sharedframetee name=fan capacity-buffers=%d resync=keyframe stall-timeout=%d "
        "max-wait=0 allow-not-linked=true",
        o.ring_buffers, o.stall_timeout_ms);
  }
  return o.source + " ! " + raw_video_description(o) + " ! " + encoder_description(o) +
         " ! h264parse config-interval=-1 ! "
         "video/x-h264,stream-format=byte-stream,alignment=au ! " +
         fan;
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
