// vasim's H.264 writer: a lossless Constrained Baseline stream in which every macroblock is
// coded as I_PCM (raw 4:2:0 8-bit samples), so decoding gives back exactly the input.
// Plain C++ with no VA types, so tests can drive it directly.
#pragma once

#include <cstdint>
#include <vector>

namespace vasim {

// Appends bits MSB first; ue()/se() are the Exp-Golomb codes of H.264 clause 9.1.
class BitWriter {
 public:
  void bits(uint32_t value, int count);
  void ue(uint32_t value);
  void se(int32_t value);
  void align_zero();  // pcm_alignment_zero_bit until byte aligned
  void trailing();    // rbsp_trailing_bits: a one, then zeros to the byte boundary
  bool aligned() const { return nbits_ == 0; }
  void byte(uint8_t b) { out_.push_back(b); }  // only when aligned()
  std::vector<uint8_t> &data() { return out_; }

 private:
  std::vector<uint8_t> out_;
  uint32_t acc_ = 0;
  int nbits_ = 0;
};

// Stream-level parameters, taken from the encoder's sequence parameter buffer.
struct SeqInfo {
  uint32_t width_mbs = 0;
  uint32_t height_mbs = 0;
  uint32_t crop_right = 0;  // in luma samples (must be even)
  uint32_t crop_bottom = 0;
  uint32_t level_idc = 41;
  uint32_t log2_max_frame_num = 4;  // 4..16
  uint32_t log2_max_poc_lsb = 4;    // 4..16
  uint32_t max_num_ref_frames = 1;
};

// One picture: where the samples come from and how the slice header reads.
struct PicInfo {
  bool idr = true;
  bool reference = true;
  uint32_t frame_num = 0;
  uint32_t idr_pic_id = 0;
  uint32_t poc_lsb = 0;
};

// A read-only view of a 4:2:0 picture: a luma plane and two chroma planes. For NV12 both
// chroma pointers point into the interleaved plane with a step of 2.
struct PlaneView {
  const uint8_t *y = nullptr;
  const uint8_t *u = nullptr;
  const uint8_t *v = nullptr;
  uint32_t y_pitch = 0;
  uint32_t c_pitch = 0;
  uint32_t c_step = 1;  // 1 for planar (I420), 2 for interleaved (NV12)
  uint32_t width = 0;   // samples available; reads past them repeat the last column/row
  uint32_t height = 0;
};

// Escapes an RBSP into a NAL unit payload (emulation_prevention_three_byte) and appends a
// start code, the NAL header byte and the escaped payload to `out`.
void append_nal(std::vector<uint8_t> &out, uint8_t nal_ref_idc, uint8_t nal_unit_type,
                const std::vector<uint8_t> &rbsp);

std::vector<uint8_t> make_sps(const SeqInfo &seq);
std::vector<uint8_t> make_pps();
// The whole picture as one I slice of I_PCM macroblocks.
std::vector<uint8_t> make_pcm_slice(const SeqInfo &seq, const PicInfo &pic, const PlaneView &src);

// An access unit: SPS and PPS before every IDR, then the slice.
void encode_picture(std::vector<uint8_t> &out, const SeqInfo &seq, const PicInfo &pic,
                    const PlaneView &src);

}  // namespace vasim
