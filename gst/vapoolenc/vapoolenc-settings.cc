#include "vapoolenc-settings.h"

#include <cstdio>

namespace vapoolenc {

std::string Settings::key() const {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "bitrate=%u,key-int-max=%u,low-latency=%d", bitrate_kbps,
                key_int_max, low_latency ? 1 : 0);
  return buf;
}

const std::vector<SettingsMapping> &all_mappings() {
  static const std::vector<SettingsMapping> table = {
      {"x264enc", "bitrate", 1, "key-int-max", {{"tune", "zerolatency"}, {"bframes", "0"},
                                               {"rc-lookahead", "0"}, {"sync-lookahead", "0"}}},
      {"openh264enc", "bitrate", 1000, "gop-size", {{"usage-type", "camera"}}},
      {"x265enc", "bitrate", 1, "key-int-max", {{"tune", "zerolatency"}}},
      {"vp8enc", "target-bitrate", 1000, "keyframe-max-dist",
       {{"deadline", "1"}, {"lag-in-frames", "0"}}},
      {"vp9enc", "target-bitrate", 1000, "keyframe-max-dist",
       {{"deadline", "1"}, {"lag-in-frames", "0"}, {"row-mt", "true"}}},
      {"av1enc", "target-bitrate", 1, "keyframe-max-dist",
       {{"usage-profile", "realtime"}, {"lag-in-frames", "0"}}},
      {"rav1enc", "bitrate", 1000, "max-key-frame-interval", {{"low-latency", "true"}}},
      {"svtav1enc", "target-bitrate", 1, "intra-period-length", {}},
      {"vaapi*", "bitrate", 1, "keyframe-period", {{"max-bframes", "0"}}},
      {"va*", "bitrate", 1, "key-int-max", {{"b-frames", "0"}}},
      {"nv*", "bitrate", 1, "gop-size",
       {{"bframes", "0"}, {"zerolatency", "true"}, {"rc-lookahead", "0"}}},
      {"fakehwenc", "target-bitrate", 1000, "gop-size", {{"low-delay", "true"}}},
  };
  return table;
}

const SettingsMapping *find_mapping(const std::string &factory) {
  for (const auto &m : all_mappings()) {
    std::string p = m.pattern;
    if (!p.empty() && p.back() == '*') {
      p.pop_back();
      if (factory.rfind(p, 0) == 0)
        return &m;
    } else if (factory == p) {
      return &m;
    }
  }
  return nullptr;
}

namespace {

// Sets a property from text, clamped to its range. False when the element lacks it or the
// text cannot be converted.
bool set_clamped(GstElement *element, const char *prop, const std::string &value) {
  GParamSpec *pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), prop);
  if (!pspec || !(pspec->flags & G_PARAM_WRITABLE))
    return false;
  GValue v = G_VALUE_INIT;
  g_value_init(&v, pspec->value_type);
  bool ok = gst_value_deserialize(&v, value.c_str());
  if (ok) {
    g_param_value_validate(pspec, &v);
    g_object_set_property(G_OBJECT(element), prop, &v);
  }
  g_value_unset(&v);
  return ok;
}

}  // namespace

std::vector<Assignment> apply_settings(GstElement *element, const std::string &factory,
                                       const Settings &settings) {
  std::vector<Assignment> done;
  const SettingsMapping *m = find_mapping(factory);
  if (!m)
    return done;
  auto assign = [&](const char *prop, const std::string &value) {
    done.push_back({prop, value, set_clamped(element, prop, value)});
  };
  if (settings.bitrate_kbps && m->bitrate_prop)
    assign(m->bitrate_prop,
           std::to_string(static_cast<unsigned long long>(settings.bitrate_kbps) *
                          m->bitrate_per_kbps));
  if (settings.key_int_max && m->keyint_prop)
    assign(m->keyint_prop, std::to_string(settings.key_int_max));
  if (settings.low_latency)
    for (const auto &[prop, value] : m->low_latency)
      assign(prop, value);
  return done;
}

}  // namespace vapoolenc
