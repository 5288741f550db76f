// What the status line reports about the process itself, read from /proc/self: descriptors by
// class, threads by name, resident memory. Plain C++, no GStreamer.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace steady_examples {

struct ProcStats {
  std::map<std::string, int> fds_by_class;  // "socket", "pipe", "eventfd", "dri", "file", "other"
  std::map<std::string, int> threads_by_name;
  int fds = 0;
  int threads = 0;
  std::uint64_t rss_bytes = 0;

  static ProcStats sample();
  // "23 (socket 12, pipe 4, eventfd 5, file 2)"
  std::string fds_summary() const;
};

// Classifies one /proc/<pid>/fd link target ("socket:[123]", "pipe:[9]", "/dev/dri/renderD128").
std::string classify_fd_target(const std::string &target);

}  // namespace steady_examples
