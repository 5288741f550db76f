// Codecs, devices and the built-in candidate orders of vapoolenc. Plain data, no state.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vapoolenc {

enum class Codec { kH264, kH265, kVp8, kVp9, kAv1 };

// What the user asks for with the `device` property.
enum class Device { kAuto, kVa, kVaapi, kNvenc, kSoftware };

// What an encoder factory is, judged by its name.
enum class EncoderKind {
  kVa,        // plugins-bad `va`: vah264enc, vah264lpenc, varenderD129h264enc...
  kVaapi,     // gstreamer-vaapi: vaapih264enc...
  kNvenc,     // plugins-bad `nvcodec`: nvh264enc...
  kOther,     // any other hardware factory named in hardware-factories (e.g. fakehwenc)
  kSoftware,  // x264enc, openh264enc, x265enc, vp8enc, vp9enc, av1enc...
};

std::optional<Codec> parse_codec(const std::string &name);
const char *codec_name(Codec codec);
// "h264, h265, vp8, vp9, av1": for error texts.
const char *codec_names();
const char *device_name(Device device);
const char *kind_name(EncoderKind kind);

// Built-in hardware order for a codec (all kinds, in preference order).
const std::vector<std::string> &hardware_order(Codec codec);
// Built-in software order for a codec.
const std::vector<std::string> &software_order(Codec codec);
// Classifies a factory name. `software` tells whether it came from the software list.
EncoderKind classify_factory(const std::string &factory, bool software);
// Whether a factory of `kind` serves a fixed `device` (kOther serves every hardware device).
bool kind_serves_device(EncoderKind kind, Device device);
// True for the va encoders that need the low-power entrypoint (…lpenc).
bool wants_low_power(const std::string &factory);
// Media type of the encoded output, e.g. "video/x-h264".
const char *codec_media_type(Codec codec);

// Splits "a, b,c" into {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(const std::string &list);

}  // namespace vapoolenc
