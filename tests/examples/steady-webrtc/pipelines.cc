#include "pipelines.h"

#include <gst/gst.h>

#include "common/launch-fragments.h"
#include "common/text-format.h"

namespace steady_webrtc {

namespace {

using steady_examples::baseline_h264_encoder;
using steady_examples::fan_description;
using steady_examples::format;
using steady_examples::raw_video_caps;

std::string encoder_description(const Options &o) {
  if (!o.baseline) {
    // One encoder for every peer; vapoolenc picks hardware when there is some, else the
    // software encoder tuned for real time (see docs/vapoolenc.md).
    return format("vapoolenc name=enc codec=%s bitrate=%d key-int-max=%d", o.codec.c_str(),
                  o.bitrate_kbps, o.key_int_max);
  }
  // The field reports' encoder, set up the way vapoolenc sets up its software fallback.
  if (o.codec == "vp8")
    return format(
        "vp8enc name=enc deadline=1 lag-in-frames=0 target-bitrate=%d keyframe-max-dist=%d",
        o.bitrate_kbps * 1000, o.key_int_max);
  return baseline_h264_encoder(o.bitrate_kbps, o.key_int_max);
}

}  // namespace

std::string source_description(const Options &o) {
  const std::string raw = "videoconvert ! videoscale ! videorate ! capsfilter name=raw caps=\"" +
                          raw_video_caps(o.width, o.height, o.framerate) + "\"";
  std::string encoded = encoder_description(o);
  if (o.codec == "h264")
    encoded +=
        " ! h264parse config-interval=-1 ! "
        "video/x-h264,stream-format=byte-stream,alignment=au";
  // Stall timeout 3 s: webrtcbin's sink does not block, so eviction is a last resort.
  const std::string fan = fan_description(o.baseline, o.ring_buffers, 3000);
  return o.source + " ! " + raw + " ! " + encoded + " ! " + fan;
}

std::string peer_description(const Options &o) {
  std::string queue;
  if (o.baseline) {
    queue = "queue name=q max-size-buffers=20 max-size-time=500000000";
  } else {
    // Bounded in time, never blocking the ring, and a drop never breaks a GOP: after one the
    // peer waits for the next keyframe (and asks for it, through the KeyframeGate).
    queue = format(
        "boundedqueue name=q gop-aware=true leaky=downstream max-size-buffers=0 "
        "max-size-bytes=0 max-size-time=%llu",
        static_cast<unsigned long long>(o.peer_queue_ms) * GST_MSECOND);
  }
  std::string pay;
  if (o.codec == "vp8")
    pay =
        "rtpvp8pay name=pay picture-id-mode=15-bit mtu=1200 ! "
        "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000,"
        "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";
  else
    pay =
        "rtph264pay name=pay config-interval=-1 aggregate-mode=zero-latency mtu=1200 ! "
        "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,"
        "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";
  return queue + " ! " + pay + " ! webrtcbin name=webrtc bundle-policy=max-bundle";
}

std::vector<std::string> required_factories(const Options &o) {
  std::vector<std::string> names = {"videoconvert", "videoscale", "videorate",
                                    "webrtcbin",    "nicesrc",    "nicesink"};
  names.push_back(o.codec == "vp8" ? "rtpvp8pay" : "rtph264pay");
  if (o.codec == "h264")
    names.push_back("h264parse");
  if (o.baseline) {
    names.insert(names.end(), {o.codec == "vp8" ? "vp8enc" : "x264enc", "tee", "queue"});
  } else {
    names.insert(names.end(), {"vapoolenc", "sharedframetee", "boundedqueue"});
  }
  return names;
}

}  // namespace steady_webrtc
