// printf-style formatting into a std::string, for building gst_parse_launch descriptions.
// Shared by the example servers (steady-rtsp, steady-webrtc).
#pragma once

#include <glib.h>

#include <cstdarg>
#include <string>

namespace steady_examples {

inline std::string format(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
inline std::string format(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  g_autofree gchar *text = g_strdup_vprintf(fmt, args);
  va_end(args);
  return text;
}

}  // namespace steady_examples
