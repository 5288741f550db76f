#include "proc-stats.h"

#include <dirent.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

namespace steady_examples {

namespace {

template <typename Fn>
void for_each_entry(const char *dir_path, Fn &&fn) {
  DIR *dir = opendir(dir_path);
  if (!dir)
    return;
  while (const dirent *entry = readdir(dir)) {
    if (entry->d_name[0] != '.')
      fn(std::string(entry->d_name));
  }
  closedir(dir);
}

bool starts_with(const std::string &s, const char *prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

std::string classify_fd_target(const std::string &target) {
  if (starts_with(target, "socket:"))
    return "socket";
  if (starts_with(target, "pipe:"))
    return "pipe";
  if (target == "anon_inode:[eventfd]")
    return "eventfd";
  if (starts_with(target, "/dev/dri/") || starts_with(target, "/dev/nvidia"))
    return "gpu";
  if (starts_with(target, "anon_inode:"))
    return "anon";
  if (starts_with(target, "/dev/"))
    return "device";
  if (starts_with(target, "/"))
    return "file";
  return "other";
}

ProcStats ProcStats::sample() {
  ProcStats stats;
  for_each_entry("/proc/self/fd", [&](const std::string &name) {
    char target[PATH_MAX];
    const std::string link = "/proc/self/fd/" + name;
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n < 0)
      return;  // the descriptor opendir() itself used, closed in between
    target[n] = '\0';
    stats.fds_by_class[classify_fd_target(target)]++;
    stats.fds++;
  });
  for_each_entry("/proc/self/task", [&](const std::string &tid) {
    std::ifstream comm("/proc/self/task/" + tid + "/comm");
    std::string name;
    if (std::getline(comm, name)) {
      stats.threads_by_name[name]++;
      stats.threads++;
    }
  });
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (starts_with(line, "VmRSS:")) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      fields >> kib;
      stats.rss_bytes = kib * 1024;
    }
  }
  return stats;
}

std::string ProcStats::fds_summary() const {
  std::ostringstream out;
  out << fds << " (";
  bool first = true;
  for (const auto &[cls, count] : fds_by_class) {
    out << (first ? "" : ", ") << cls << ' ' << count;
    first = false;
  }
  out << ')';
  return out.str();
}

}  // namespace steady_examples
