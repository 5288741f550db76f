#include "launch-fragments.h"

#include "text-format.h"

namespace steady_examples {

std::string raw_video_caps(int width, int height, int framerate) {
  return format("video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1",
                width, height, framerate);
}

std::string baseline_h264_encoder(int bitrate_kbps, int key_int_max) {
  return format(
      "x264enc name=enc tune=zerolatency speed-preset=superfast bitrate=%d "
      "key-int-max=%d",
      bitrate_kbps, key_int_max);
}

std::string fan_description(bool baseline, int ring_buffers, int stall_timeout_ms) {
  if (baseline)
    return "tee name=fan allow-not-linked=true";
  return format(
      "sharedframetee name=fan capacity-buffers=%d resync=keyframe stall-timeout=%d "
      "max-wait=0 allow-not-linked=true",
      ring_buffers, stall_timeout_ms);
}

}  // namespace steady_examples
