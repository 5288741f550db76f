// gst-launch fragments both example servers build their one shared, encoded-once source from.
#pragma once

#include <string>

namespace steady_examples {

// The one raw format every encoder gets: I420 at the given size and rate, square pixels.
std::string raw_video_caps(int width, int height, int framerate);

// The baselines' software H.264 encoder, named "enc": a plain x264enc tuned the way vapoolenc
// tunes its software fallback for low latency.
std::string baseline_h264_encoder(int bitrate_kbps, int key_int_max);

// The fan-out of the encoded stream, named "fan". Baseline: a tee. Otherwise a sharedframetee
// whose ring of ring_buffers is shared by every branch: a branch further behind than the ring
// skips to the newest keyframe, and one whose push is blocked for stall_timeout_ms is evicted.
// Either way the live source never waits for a branch (max-wait=0) and runs with none
// (allow-not-linked).
std::string fan_description(bool baseline, int ring_buffers, int stall_timeout_ms);

}  // namespace steady_examples
