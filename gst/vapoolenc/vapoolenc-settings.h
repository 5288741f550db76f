// The common encoder settings of vapoolenc and their mapping onto each encoder's own
// properties and units (the table is documented in docs/vapoolenc.md).
#pragma once

#include <gst/gst.h>

#include <string>
#include <utility>
#include <vector>

namespace vapoolenc {

struct Settings {
  unsigned bitrate_kbps = 0;  // 0: leave the encoder's default
  unsigned key_int_max = 0;   // frames between keyframes; 0: leave the encoder's default
  bool low_latency = true;    // no B-frames, no lookahead, zero-latency tuning

  // Stable text used in pool keys, e.g. "bitrate=2000,key-int-max=60,low-latency=1".
  std::string key() const;
  bool operator==(const Settings &o) const {
    return bitrate_kbps == o.bitrate_kbps && key_int_max == o.key_int_max &&
           low_latency == o.low_latency;
  }
};

// How one encoder family receives the common settings.
struct SettingsMapping {
  const char *pattern;        // factory name, or prefix ending in '*'
  const char *bitrate_prop;   // nullptr: not settable
  unsigned bitrate_per_kbps;  // the encoder's unit: 1 for kbit/s, 1000 for bit/s
  const char *keyint_prop;
  std::vector<std::pair<const char *, const char *>> low_latency;  // prop -> value
};

// The mapping for a factory; nullptr when vapoolenc knows no mapping (settings are then left
// at the encoder's defaults and a warning is logged).
const SettingsMapping *find_mapping(const std::string &factory);
const std::vector<SettingsMapping> &all_mappings();

// One property assignment that was or would be made.
struct Assignment {
  std::string property;
  std::string value;
  bool applied;  // false when the element has no such property
};

// Applies the settings to an element according to its mapping. Values are clamped to the
// property's range. Returns what was assigned.
std::vector<Assignment> apply_settings(GstElement *element, const std::string &factory,
                                       const Settings &settings);

// True when an encoder's output buffer carries a coded picture, false for a header-only buffer
// (stream headers, which have no timestamp). The va encoders of GStreamer 1.24+ also flag the
// access unit that carries SPS/PPS with the picture as HEADER (seen with vah264enc 1.26.2;
// 1.22 does not): it has a timestamp, so it counts as a picture.
inline bool carries_picture(GstBuffer *buf) {
  return !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_HEADER) || GST_BUFFER_PTS_IS_VALID(buf);
}

}  // namespace vapoolenc
