// Builds an example server's long-lived source pipeline from its gst-launch description.
#pragma once

#include <gst/gst.h>

#include <string>

#include "steady-ptr.h"

namespace steady_examples {

// The pipeline description parses into, named name; null on failure, with error saying so:
// "cannot build the WHAT pipeline: <parser's error>", or "the WHAT description did not produce a
// pipeline: check --source" when it parsed into a lone element.
steady::ObjectRef<GstElement> launch_pipeline(const std::string &description, const char *what,
                                              const char *name, std::string &error);

}  // namespace steady_examples
