// See vasim-h264.h. Syntax follows ITU-T H.264 clauses 7.3.2.1 (SPS), 7.3.2.2 (PPS),
// 7.3.3 (slice header), 7.3.4/7.3.5 (slice data, macroblock layer with I_PCM).
#include "vasim-h264.h"

#include <algorithm>

namespace vasim {

void BitWriter::bits(uint32_t value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    acc_ = (acc_ << 1) | ((value >> i) & 1u);
    if (++nbits_ == 8) {
      out_.push_back(static_cast<uint8_t>(acc_));
      acc_ = 0;
      nbits_ = 0;
    }
  }
}

void BitWriter::ue(uint32_t value) {
  uint64_t v = static_cast<uint64_t>(value) + 1;
  int len = 0;
  while ((v >> len) > 1)
    ++len;
  bits(0, len);
  // len + 1 bits of v; split so that count never exceeds 32.
  if (len + 1 > 32) {
    bits(static_cast<uint32_t>(v >> 32), len + 1 - 32);
    bits(static_cast<uint32_t>(v), 32);
  } else {
    bits(static_cast<uint32_t>(v), len + 1);
  }
}

void BitWriter::se(int32_t value) {
  uint32_t mapped = value > 0 ? 2u * static_cast<uint32_t>(value) - 1u
                              : 2u * static_cast<uint32_t>(-static_cast<int64_t>(value));
  ue(mapped);
}

void BitWriter::align_zero() {
  while (nbits_ != 0)
    bits(0, 1);
}

void BitWriter::trailing() {
  bits(1, 1);
  align_zero();
}

void append_nal(std::vector<uint8_t> &out, uint8_t nal_ref_idc, uint8_t nal_unit_type,
                const std::vector<uint8_t> &rbsp) {
  out.reserve(out.size() + rbsp.size() + rbsp.size() / 64 + 8);
  const uint8_t start[] = {0, 0, 0, 1};
  out.insert(out.end(), start, start + 4);
  out.push_back(static_cast<uint8_t>(((nal_ref_idc & 3u) << 5) | (nal_unit_type & 31u)));
  int zeros = 0;
  for (uint8_t b : rbsp) {
    // Two zero bytes followed by 0x00..0x03 would read as a start code prefix or escape.
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  // An RBSP ending in a zero byte cannot happen (trailing bits end in a one), but a
  // cabac_zero_word-like tail would need 0x03 too; our RBSPs always end with the stop bit.
}

std::vector<uint8_t> make_sps(const SeqInfo &seq) {
  BitWriter w;
  w.bits(66, 8);  // profile_idc: Baseline
  w.bits(1, 1);   // constraint_set0_flag
  w.bits(1, 1);   // constraint_set1_flag: Constrained Baseline
  w.bits(0, 6);   // constraint_set2..5, reserved_zero_2bits
  w.bits(seq.level_idc & 0xff, 8);
  w.ue(0);  // seq_parameter_set_id
  w.ue(seq.log2_max_frame_num - 4);
  w.ue(0);  // pic_order_cnt_type
  w.ue(seq.log2_max_poc_lsb - 4);
  w.ue(seq.max_num_ref_frames);
  w.bits(0, 1);  // gaps_in_frame_num_value_allowed_flag
  w.ue(seq.width_mbs - 1);
  w.ue(seq.height_mbs - 1);
  w.bits(1, 1);  // frame_mbs_only_flag
  w.bits(1, 1);  // direct_8x8_inference_flag
  const bool crop = seq.crop_right != 0 || seq.crop_bottom != 0;
  w.bits(crop ? 1 : 0, 1);
  if (crop) {
    // 4:2:0 progressive: offsets are in units of two luma samples.
    w.ue(0);
    w.ue(seq.crop_right / 2);
    w.ue(0);
    w.ue(seq.crop_bottom / 2);
  }
  w.bits(0, 1);  // vui_parameters_present_flag
  w.trailing();
  return std::move(w.data());
}

std::vector<uint8_t> make_pps() {
  BitWriter w;
  w.ue(0);       // pic_parameter_set_id
  w.ue(0);       // seq_parameter_set_id
  w.bits(0, 1);  // entropy_coding_mode_flag: CAVLC
  w.bits(0, 1);  // bottom_field_pic_order_in_frame_present_flag
  w.ue(0);       // num_slice_groups_minus1
  w.ue(0);       // num_ref_idx_l0_default_active_minus1
  w.ue(0);       // num_ref_idx_l1_default_active_minus1
  w.bits(0, 1);  // weighted_pred_flag
  w.bits(0, 2);  // weighted_bipred_idc
  w.se(0);       // pic_init_qp_minus26
  w.se(0);       // pic_init_qs_minus26
  w.se(0);       // chroma_qp_index_offset
  w.bits(1, 1);  // deblocking_filter_control_present_flag
  w.bits(0, 1);  // constrained_intra_pred_flag
  w.bits(0, 1);  // redundant_pic_cnt_present_flag
  w.trailing();
  return std::move(w.data());
}

namespace {

inline uint8_t sample(const uint8_t *plane, uint32_t pitch, uint32_t step, uint32_t w, uint32_t h,
                      uint32_t x, uint32_t y) {
  x = std::min(x, w - 1);
  y = std::min(y, h - 1);
  return plane[static_cast<size_t>(y) * pitch + static_cast<size_t>(x) * step];
}

}  // namespace

std::vector<uint8_t> make_pcm_slice(const SeqInfo &seq, const PicInfo &pic, const PlaneView &src) {
  BitWriter w;
  const uint32_t mbs = seq.width_mbs * seq.height_mbs;
  w.data().reserve(static_cast<size_t>(mbs) * 386 + 32);
  w.ue(0);  // first_mb_in_slice
  w.ue(7);  // slice_type: I, and every slice of the picture is I
  w.ue(0);  // pic_parameter_set_id
  w.bits(pic.frame_num & ((1u << seq.log2_max_frame_num) - 1), seq.log2_max_frame_num);
  if (pic.idr)
    w.ue(pic.idr_pic_id);
  w.bits(pic.poc_lsb & ((1u << seq.log2_max_poc_lsb) - 1), seq.log2_max_poc_lsb);
  if (pic.idr || pic.reference) {  // nal_ref_idc != 0
    // dec_ref_pic_marking()
    if (pic.idr) {
      w.bits(0, 1);  // no_output_of_prior_pics_flag
      w.bits(0, 1);  // long_term_reference_flag
    } else {
      w.bits(0, 1);  // adaptive_ref_pic_marking_mode_flag
    }
  }
  w.se(0);  // slice_qp_delta
  w.ue(1);  // disable_deblocking_filter_idc: off (PCM macroblocks are not filtered anyway)

  const uint32_t cw = (src.width + 1) / 2;
  const uint32_t ch = (src.height + 1) / 2;
  for (uint32_t mb = 0; mb < mbs; ++mb) {
    const uint32_t mbx = mb % seq.width_mbs;
    const uint32_t mby = mb / seq.width_mbs;
    w.ue(25);  // mb_type I_PCM
    w.align_zero();
    for (uint32_t y = 0; y < 16; ++y)
      for (uint32_t x = 0; x < 16; ++x)
        w.byte(sample(src.y, src.y_pitch, 1, src.width, src.height, mbx * 16 + x, mby * 16 + y));
    for (const uint8_t *plane : {src.u, src.v})
      for (uint32_t y = 0; y < 8; ++y)
        for (uint32_t x = 0; x < 8; ++x)
          w.byte(sample(plane, src.c_pitch, src.c_step, cw, ch, mbx * 8 + x, mby * 8 + y));
  }
  w.trailing();
  return std::move(w.data());
}

void encode_picture(std::vector<uint8_t> &out, const SeqInfo &seq, const PicInfo &pic,
                    const PlaneView &src) {
  if (pic.idr) {
    append_nal(out, 3, 7, make_sps(seq));
    append_nal(out, 3, 8, make_pps());
  }
  append_nal(out, (pic.idr || pic.reference) ? 2 : 0, pic.idr ? 5 : 1,
             make_pcm_slice(seq, pic, src));
}

}  // namespace vasim
