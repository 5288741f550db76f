#include "stamp.h"

#include <chrono>
#include <cstring>

namespace steady_webrtc {

namespace {

constexpr int kBits = 32;

void fill_block(std::uint8_t *plane, int stride, int x0, int y0, int side, std::uint8_t value) {
  for (int y = y0; y < y0 + side; ++y)
    std::memset(plane + static_cast<std::ptrdiff_t>(y) * stride + x0, value,
                static_cast<std::size_t>(side));
}

std::uint32_t row_word(const Stamp &s, int row) {
  if (row == 0)
    return s.ms;
  return (static_cast<std::uint32_t>(s.frame) << 16) | (~s.ms & 0xffffu);
}

}  // namespace

int stamp_block(int width) {
  return width / kBits;
}

void paint_stamp(const Stamp &stamp, std::uint8_t *luma, int stride, int width, int height,
                 std::uint8_t *u, std::uint8_t *v, int chroma_stride) {
  const int side = stamp_block(width);
  if (side < 2 || height < 2 * side)
    return;
  for (int row = 0; row < 2; ++row) {
    const std::uint32_t word = row_word(stamp, row);
    for (int bit = 0; bit < kBits; ++bit) {
      const bool one = (word >> (kBits - 1 - bit)) & 1u;
      // Full-range extremes survive any encoder at any bitrate this example uses.
      fill_block(luma, stride, bit * side, row * side, side, one ? 235 : 16);
    }
  }
  if (u && v) {
    const int chroma_w = (kBits * side) / 2, chroma_h = side;  // two rows, halved vertically
    for (int y = 0; y < chroma_h; ++y) {
      std::memset(u + static_cast<std::ptrdiff_t>(y) * chroma_stride, 128, chroma_w);
      std::memset(v + static_cast<std::ptrdiff_t>(y) * chroma_stride, 128, chroma_w);
    }
  }
}

std::optional<Stamp> read_stamp(const std::uint8_t *luma, int stride, int width, int height) {
  const int side = stamp_block(width);
  if (side < 2 || height < 2 * side)
    return std::nullopt;
  std::uint32_t words[2] = {0, 0};
  for (int row = 0; row < 2; ++row) {
    const int y = row * side + side / 2;
    for (int bit = 0; bit < kBits; ++bit) {
      const int x = bit * side + side / 2;
      words[row] = (words[row] << 1) | (luma[static_cast<std::ptrdiff_t>(y) * stride + x] > 128);
    }
  }
  if ((words[1] & 0xffffu) != (~words[0] & 0xffffu))
    return std::nullopt;
  Stamp stamp;
  stamp.ms = words[0];
  stamp.frame = static_cast<std::uint16_t>(words[1] >> 16);
  return stamp;
}

std::uint32_t wall_clock_ms() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

std::int32_t stamp_ms_diff(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b);
}

}  // namespace steady_webrtc
