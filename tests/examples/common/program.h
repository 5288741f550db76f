// The part of main() both example programs share once their options are parsed: --audit's
// tracer set before gst_init() (GStreamer reads GST_TRACERS once, there) and checked after it,
// the program run, and gst_deinit() last.
#pragma once

#include <functional>

#include "audit.h"

namespace steady_examples {

// Returns run()'s exit code, or 2 when --audit cannot be honoured. Messages start with
// "<program>: ".
int run_with_gstreamer(const char *program, const AuditSettings &audit,
                       const std::function<int()> &run);

}  // namespace steady_examples
