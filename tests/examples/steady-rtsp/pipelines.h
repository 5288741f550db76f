// The gst-launch descriptions steady-rtsp builds its pipelines from, for both variants, in one
// place so the steady and baseline pipelines can be read side by side.
#pragma once

#include <string>
#include <vector>

#include "options.h"

namespace steady_rtsp {

// The encoder of one session: vapoolenc (steady) or a plain x264enc (baseline), named "enc".
std::string encoder_description(const Options &options);
// The shared /live source pipeline, ending in an element named "fan".
std::string live_source_description(const Options &options);
// The /live client media handed to rtsp-server: an appsrc named "feed" fed by a ClientBridge.
std::string live_client_description(const Options &options);
// One /transcode client's media: its own source and its own encoder session.
std::string transcode_description(const Options &options);
// Element factories a variant needs at run time (checked at startup, with a clear error).
std::vector<std::string> required_factories(const Options &options);

}  // namespace steady_rtsp
