// The gst-launch descriptions steady-webrtc builds from, for both variants, in one place so the
// steady and baseline pipelines can be read side by side.
#pragma once

#include <string>
#include <vector>

#include "options.h"

namespace steady_webrtc {

// The shared source pipeline: raw video through a capsfilter named "raw" (where the capture
// timestamp is painted), the one encoder "enc" every peer shares, and the fan-out "fan".
std::string source_description(const Options &options);
// One peer's bin: its queue "q", the payloader and a webrtcbin "webrtc"; the queue's sink pad
// is left unlinked (ghosted by gst_parse_bin_from_description).
std::string peer_description(const Options &options);
// Element factories a variant needs at run time (checked at startup, with a clear error).
std::vector<std::string> required_factories(const Options &options);

}  // namespace steady_webrtc
