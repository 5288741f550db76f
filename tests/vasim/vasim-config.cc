// Profiles, entrypoints and config attributes: vasim offers H.264 encoding (EncSlice) for
// the Constrained Baseline, Main and High profiles. Whatever the profile asked, the stream
// it writes is Constrained Baseline with I_PCM macroblocks (see vasim-h264.h).
#include "vasim-driver.h"

#include <algorithm>

namespace vasim {
namespace {

const VAProfile kProfiles[] = {VAProfileH264ConstrainedBaseline, VAProfileH264Main,
                               VAProfileH264High};

bool supported_profile(VAProfile p) {
  return std::find(std::begin(kProfiles), std::end(kProfiles), p) != std::end(kProfiles);
}

// The value vasim reports for one attribute of an H.264 EncSlice config.
uint32_t attrib_value(VAConfigAttribType type) {
  switch (type) {
    case VAConfigAttribRTFormat:
      return VA_RT_FORMAT_YUV420;
    case VAConfigAttribRateControl:
      // Accepted and ignored: I_PCM has no rate to control.
      return VA_RC_CQP | VA_RC_CBR | VA_RC_VBR;
    case VAConfigAttribEncPackedHeaders:
      // None: vasim writes its own SPS/PPS/slice headers (they must describe I_PCM/CAVLC,
      // which the encoder's own headers would not).
      return VA_ENC_PACKED_HEADER_NONE;
    case VAConfigAttribEncInterlaced:
      return VA_ENC_INTERLACED_NONE;
    case VAConfigAttribEncMaxRefFrames:
      // One list-0 reference, no list 1: encoders then do not plan B frames, so coding
      // order is display order.
      return 1;
    case VAConfigAttribEncMaxSlices:
      return 1;
    case VAConfigAttribEncSliceStructure:
      return VA_ENC_SLICE_STRUCTURE_ARBITRARY_MACROBLOCKS;
    case VAConfigAttribMaxPictureWidth:
    case VAConfigAttribMaxPictureHeight:
      return kMaxSize;
    default:
      return VA_ATTRIB_NOT_SUPPORTED;
  }
}

VAStatus query_profiles(VADriverContextP, VAProfile *list, int *num) {
  int n = 0;
  for (VAProfile p : kProfiles)
    list[n++] = p;
  *num = n;
  return VA_STATUS_SUCCESS;
}

VAStatus query_entrypoints(VADriverContextP, VAProfile profile, VAEntrypoint *list, int *num) {
  if (!supported_profile(profile)) {
    *num = 0;
    return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
  }
  list[0] = VAEntrypointEncSlice;
  *num = 1;
  return VA_STATUS_SUCCESS;
}

VAStatus check_profile_entrypoint(VAProfile profile, VAEntrypoint entrypoint) {
  if (!supported_profile(profile))
    return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
  if (entrypoint != VAEntrypointEncSlice)
    return VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT;
  return VA_STATUS_SUCCESS;
}

VAStatus get_config_attributes(VADriverContextP, VAProfile profile, VAEntrypoint entrypoint,
                               VAConfigAttrib *list, int num) {
  VAStatus st = check_profile_entrypoint(profile, entrypoint);
  if (st != VA_STATUS_SUCCESS)
    return st;
  for (int i = 0; i < num; ++i)
    list[i].value = attrib_value(list[i].type);
  return VA_STATUS_SUCCESS;
}

VAStatus create_config(VADriverContextP ctx, VAProfile profile, VAEntrypoint entrypoint,
                       VAConfigAttrib *list, int num, VAConfigID *out) {
  VAStatus st = check_profile_entrypoint(profile, entrypoint);
  if (st != VA_STATUS_SUCCESS)
    return st;
  Config cfg{profile, entrypoint, {}};
  cfg.attribs.push_back({VAConfigAttribRTFormat, VA_RT_FORMAT_YUV420});
  cfg.attribs.push_back({VAConfigAttribRateControl, VA_RC_CQP});
  for (int i = 0; i < num; ++i) {
    const uint32_t offered = attrib_value(list[i].type);
    if (offered == VA_ATTRIB_NOT_SUPPORTED)
      continue;  // lenient: an attribute vasim does not model changes nothing
    switch (list[i].type) {
      case VAConfigAttribRTFormat:
        if ((list[i].value & offered) == 0)
          return VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT;
        break;
      case VAConfigAttribRateControl:
      case VAConfigAttribEncPackedHeaders:
        if ((list[i].value & ~offered) != 0)
          return VA_STATUS_ERROR_INVALID_VALUE;
        break;
      default:
        break;
    }
    auto it = std::find_if(cfg.attribs.begin(), cfg.attribs.end(),
                           [&](const VAConfigAttrib &a) { return a.type == list[i].type; });
    if (it != cfg.attribs.end())
      it->value = list[i].value;
    else if (static_cast<int>(cfg.attribs.size()) < kMaxAttributes)
      cfg.attribs.push_back(list[i]);
  }
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  const VAConfigID id = d->new_id();
  d->configs.emplace(id, std::move(cfg));
  count_up(Kind::Config);
  *out = id;
  return VA_STATUS_SUCCESS;
}

VAStatus destroy_config(VADriverContextP ctx, VAConfigID id) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  if (d->configs.erase(id) == 0)
    return VA_STATUS_ERROR_INVALID_CONFIG;
  count_down(Kind::Config);
  return VA_STATUS_SUCCESS;
}

VAStatus query_config_attributes(VADriverContextP ctx, VAConfigID id, VAProfile *profile,
                                 VAEntrypoint *entrypoint, VAConfigAttrib *list, int *num) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->configs.find(id);
  if (it == d->configs.end())
    return VA_STATUS_ERROR_INVALID_CONFIG;
  *profile = it->second.profile;
  *entrypoint = it->second.entrypoint;
  int n = 0;
  for (const VAConfigAttrib &a : it->second.attribs)
    list[n++] = a;
  *num = n;
  return VA_STATUS_SUCCESS;
}

}  // namespace

void install_config_vtable(VADriverVTable *vt) {
  vt->vaQueryConfigProfiles = query_profiles;
  vt->vaQueryConfigEntrypoints = query_entrypoints;
  vt->vaGetConfigAttributes = get_config_attributes;
  vt->vaCreateConfig = create_config;
  vt->vaDestroyConfig = destroy_config;
  vt->vaQueryConfigAttributes = query_config_attributes;
}

}  // namespace vasim
