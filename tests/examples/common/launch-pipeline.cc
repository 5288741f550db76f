#include "launch-pipeline.h"

namespace steady_examples {

steady::ObjectRef<GstElement> launch_pipeline(const std::string &description, const char *what,
                                              const char *name, std::string &error) {
  g_autoptr(GError) parse_error = nullptr;
  GstElement *parsed = gst_parse_launch_full(description.c_str(), nullptr,
                                             GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (!parsed) {
    error = std::string("cannot build the ") + what + " pipeline: " + parse_error->message;
    return {};
  }
  auto pipeline = steady::ObjectRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(parsed)));
  if (!GST_IS_PIPELINE(parsed)) {
    error = std::string("the ") + what + " description did not produce a pipeline: check --source";
    return {};
  }
  gst_object_set_name(GST_OBJECT(parsed), name);
  return pipeline;
}

}  // namespace steady_examples
