// The capture timestamp painted into every frame, so that a receiver (the browser page, the
// soak's peer processes) measures glass-to-glass latency and checks that what it decoded is a
// whole, real frame. Plain C++ on an 8-bit luma plane, no GStreamer.
//
// Two rows of 32 square blocks across the top of the picture, each block width/32 pixels wide,
// black for 0 and white for 1, most significant bit first:
//   row 0: the capture time, milliseconds of the wall clock (CLOCK_REALTIME) modulo 2^32;
//   row 1: the frame number modulo 2^16, then the complement of the low 16 bits of row 0.
// A receiver on the same host compares row 0 with its own wall clock; row 1's check half
// tells a cleanly decoded stamp from a corrupt or half-updated one. web/index.html reads the
// same layout.
#pragma once

#include <cstdint>
#include <optional>

namespace steady_webrtc {

struct Stamp {
  std::uint32_t ms = 0;
  std::uint16_t frame = 0;
};

// Block side in pixels for a picture width (the same rule the page uses).
int stamp_block(int width);
// Paints onto a luma plane (and neutral chroma when chroma planes of a 4:2:0 picture are
// given, so the blocks are grey levels in any format).
void paint_stamp(const Stamp &stamp, std::uint8_t *luma, int stride, int width, int height,
                 std::uint8_t *u = nullptr, std::uint8_t *v = nullptr, int chroma_stride = 0);
// Reads it back from the centre of each block; nullopt when the check half does not match.
std::optional<Stamp> read_stamp(const std::uint8_t *luma, int stride, int width, int height);
// The wall clock in milliseconds modulo 2^32, and the difference a - b of two such values.
std::uint32_t wall_clock_ms();
std::int32_t stamp_ms_diff(std::uint32_t a, std::uint32_t b);

}  // namespace steady_webrtc
