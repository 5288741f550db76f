#include "vapoolenc-codec.h"

#include <cctype>
#include <cstring>
#include <regex>

namespace vapoolenc {

std::optional<Codec> parse_codec(const std::string &name) {
  std::string n;
  for (char c : name)
    n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "h264" || n == "avc")
    return Codec::kH264;
  if (n == "h265" || n == "hevc")
    return Codec::kH265;
  if (n == "vp8")
    return Codec::kVp8;
  if (n == "vp9")
    return Codec::kVp9;
  if (n == "av1")
    return Codec::kAv1;
  return std::nullopt;
}

const char *codec_name(Codec codec) {
  switch (codec) {
    case Codec::kH264:
      return "h264";
    case Codec::kH265:
      return "h265";
    case Codec::kVp8:
      return "vp8";
    case Codec::kVp9:
      return "vp9";
    case Codec::kAv1:
      return "av1";
  }
  return "?";
}

const char *codec_names() { return "h264, h265, vp8, vp9, av1"; }

const char *device_name(Device device) {
  switch (device) {
    case Device::kAuto:
      return "auto";
    case Device::kVa:
      return "va";
    case Device::kVaapi:
      return "vaapi";
    case Device::kNvenc:
      return "nvenc";
    case Device::kSoftware:
      return "software";
  }
  return "?";
}

const char *kind_name(EncoderKind kind) {
  switch (kind) {
    case EncoderKind::kVa:
      return "va";
    case EncoderKind::kVaapi:
      return "vaapi";
    case EncoderKind::kNvenc:
      return "nvenc";
    case EncoderKind::kOther:
      return "hardware";
    case EncoderKind::kSoftware:
      return "software";
  }
  return "?";
}

const std::vector<std::string> &hardware_order(Codec codec) {
  static const std::vector<std::string> h264 = {"vah264lpenc", "vah264enc", "vaapih264enc",
                                                "nvh264enc"};
  static const std::vector<std::string> h265 = {"vah265lpenc", "vah265enc", "vaapih265enc",
                                                "nvh265enc"};
  static const std::vector<std::string> vp8 = {"vavp8enc", "vaapivp8enc"};
  static const std::vector<std::string> vp9 = {"vavp9lpenc", "vavp9enc", "vaapivp9enc"};
  static const std::vector<std::string> av1 = {"vaav1lpenc", "vaav1enc", "nvav1enc"};
  switch (codec) {
    case Codec::kH264:
      return h264;
    case Codec::kH265:
      return h265;
    case Codec::kVp8:
      return vp8;
    case Codec::kVp9:
      return vp9;
    case Codec::kAv1:
      return av1;
  }
  return h264;
}

const std::vector<std::string> &software_order(Codec codec) {
  static const std::vector<std::string> h264 = {"x264enc", "openh264enc"};
  static const std::vector<std::string> h265 = {"x265enc"};
  static const std::vector<std::string> vp8 = {"vp8enc"};
  static const std::vector<std::string> vp9 = {"vp9enc"};
  static const std::vector<std::string> av1 = {"av1enc", "rav1enc", "svtav1enc"};
  switch (codec) {
    case Codec::kH264:
      return h264;
    case Codec::kH265:
      return h265;
    case Codec::kVp8:
      return vp8;
    case Codec::kVp9:
      return vp9;
    case Codec::kAv1:
      return av1;
  }
  return h264;
}

EncoderKind classify_factory(const std::string &factory, bool software) {
  if (software)
    return EncoderKind::kSoftware;
  if (factory.rfind("vaapi", 0) == 0)
    return EncoderKind::kVaapi;
  // va plugin: vah264enc, vah264lpenc, and per-device varenderD129h264enc.
  static const std::regex va_re("^va(renderD[0-9]+)?[a-z0-9]+enc$");
  if (std::regex_match(factory, va_re))
    return EncoderKind::kVa;
  if (factory.rfind("nv", 0) == 0 && factory.size() > 5 &&
      factory.compare(factory.size() - 3, 3, "enc") == 0)
    return EncoderKind::kNvenc;
  return EncoderKind::kOther;
}

bool kind_serves_device(EncoderKind kind, Device device) {
  switch (device) {
    case Device::kAuto:
      return kind != EncoderKind::kSoftware;
    case Device::kVa:
      return kind == EncoderKind::kVa || kind == EncoderKind::kOther;
    case Device::kVaapi:
      return kind == EncoderKind::kVaapi || kind == EncoderKind::kOther;
    case Device::kNvenc:
      return kind == EncoderKind::kNvenc || kind == EncoderKind::kOther;
    case Device::kSoftware:
      return kind == EncoderKind::kSoftware;
  }
  return false;
}

bool wants_low_power(const std::string &factory) {
  return factory.size() > 5 && factory.compare(factory.size() - 5, 5, "lpenc") == 0;
}

const char *codec_media_type(Codec codec) {
  switch (codec) {
    case Codec::kH264:
      return "video/x-h264";
    case Codec::kH265:
      return "video/x-h265";
    case Codec::kVp8:
      return "video/x-vp8";
    case Codec::kVp9:
      return "video/x-vp9";
    case Codec::kAv1:
      return "video/x-av1";
  }
  return "video/x-h264";
}

std::vector<std::string> split_list(const std::string &list) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&]() {
    size_t b = cur.find_first_not_of(" \t");
    size_t e = cur.find_last_not_of(" \t");
    if (b != std::string::npos)
      out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char c : list) {
    if (c == ',')
      flush();
    else
      cur += c;
  }
  flush();
  return out;
}

}  // namespace vapoolenc
