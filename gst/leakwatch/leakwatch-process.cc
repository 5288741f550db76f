#include "leakwatch-process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#ifdef LEAKWATCH_HAVE_LIBDRM
#include <xf86drm.h>
#endif

namespace leakwatch {

namespace {

constexpr unsigned kDrmMajor = 226;

bool starts_with(const std::string &s, const char *prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

std::string basename_of(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "renderD128" -> true for prefix "renderD"
bool prefix_then_digits(const std::string &s, const char *prefix) {
  size_t n = std::strlen(prefix);
  if (s.size() <= n || s.compare(0, n, prefix) != 0)
    return false;
  for (size_t i = n; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return std::string();
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "123 KiB" -> bytes
int64_t parse_size(const std::string &value) {
  const char *p = value.c_str();
  char *end = nullptr;
  long long n = std::strtoll(p, &end, 10);
  while (end && *end == ' ')
    ++end;
  int64_t mult = 1;
  if (end && *end) {
    if (std::strncmp(end, "KiB", 3) == 0)
      mult = 1024;
    else if (std::strncmp(end, "MiB", 3) == 0)
      mult = 1024 * 1024;
    else if (std::strncmp(end, "GiB", 3) == 0)
      mult = 1024ll * 1024 * 1024;
  }
  return static_cast<int64_t>(n) * mult;
}

}  // namespace

const char *fd_class_name(FdClass c) {
  static const char *const names[] = {"drm-render", "drm-primary", "nvidia", "dmabuf", "socket",
                                      "pipe",       "eventfd",     "file",   "other"};
  int i = static_cast<int>(c);
  return i >= 0 && i < kFdClassCount ? names[i] : "other";
}

FdClass classify_fd(const std::string &target, bool have_stat, mode_t mode, dev_t rdev) {
  if (starts_with(target, "socket:"))
    return FdClass::kSocket;
  if (starts_with(target, "pipe:"))
    return FdClass::kPipe;
  if (target == "anon_inode:[eventfd]")
    return FdClass::kEventfd;
  if (target == "anon_inode:dmabuf" || starts_with(target, "/dmabuf:"))
    return FdClass::kDmabuf;
  if (have_stat && S_ISCHR(mode) && major(rdev) == kDrmMajor)
    return minor(rdev) >= 128 ? FdClass::kDrmRender : FdClass::kDrmPrimary;
  if (!target.empty() && target[0] == '/') {
    std::string base = basename_of(target);
    if (prefix_then_digits(base, "renderD"))
      return FdClass::kDrmRender;
    if (prefix_then_digits(base, "card") &&
        basename_of(target.substr(0, target.size() - base.size() - 1)) == "dri")
      return FdClass::kDrmPrimary;
    if (starts_with(target, "/dev/nvidia"))
      return FdClass::kNvidia;
  }
  if (have_stat && S_ISREG(mode))
    return FdClass::kFile;
  return FdClass::kOther;
}

std::string thread_group(const std::string &comm) {
  std::string out;
  bool in_digits = false;
  for (char ch : comm) {
    if (ch == '\n')
      break;
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      if (!in_digits)
        out.push_back('#');
      in_digits = true;
    } else {
      out.push_back(ch);
      in_digits = false;
    }
  }
  return out.empty() ? std::string("(unnamed)") : out;
}

bool glib_helper_thread(const std::string &group) {
  return group == "pool-spawner" || group == "gmain" || group == "gdbus";
}

bool parse_drm_fdinfo(const std::string &text, DrmClient &out) {
  out = DrmClient();
  bool have_driver = false;
  int64_t total = 0, legacy = 0, resident = 0;
  bool have_total = false, have_legacy = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    std::string key = line.substr(0, colon);
    size_t v = line.find_first_not_of(" \t", colon + 1);
    std::string value = v == std::string::npos ? std::string() : line.substr(v);
    if (key == "drm-driver") {
      out.driver = value;
      have_driver = true;
    } else if (key == "drm-client-id") {
      out.client_id = value;
    } else if (starts_with(key, "drm-total-")) {
      total += parse_size(value);
      have_total = true;
    } else if (starts_with(key, "drm-memory-")) {
      legacy += parse_size(value);
      have_legacy = true;
    } else if (starts_with(key, "drm-resident-")) {
      resident += parse_size(value);
    }
  }
  out.total = have_total ? total : legacy;
  out.resident = have_total ? resident : (resident ? resident : legacy);
  out.has_memory = have_total || have_legacy || resident != 0;
  return have_driver;
}

ProcessProbe::ProcessProbe(bool use_nvml) : use_nvml_(use_nvml) {}

std::string ProcessProbe::drm_driver_name(int fd, const std::string &fdinfo_driver) {
#ifdef LEAKWATCH_HAVE_LIBDRM
  if (drmVersionPtr v = drmGetVersion(fd)) {
    std::string name = v->name ? v->name : "";
    drmFreeVersion(v);
    if (!name.empty())
      return name;
  }
#else
  (void)fd;
#endif
  return fdinfo_driver.empty() ? std::string("drm") : fdinfo_driver;
}

ProcessSnapshot ProcessProbe::sample() {
  ProcessSnapshot s;

  // RSS: resident pages from statm.
  {
    std::string statm = read_file("/proc/self/statm");
    long long size = 0, resident = 0;
    if (std::sscanf(statm.c_str(), "%lld %lld", &size, &resident) == 2)
      s.rss = static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
  }

  // Descriptors.
  std::set<std::string> drm_clients;
  if (DIR *dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    while (struct dirent *de = readdir(dir)) {
      if (de->d_name[0] == '.')
        continue;
      int fd = std::atoi(de->d_name);
      if (fd == own)
        continue;
      std::string link = std::string("/proc/self/fd/") + de->d_name;
      char target[4096];
      ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n < 0)
        continue;  // closed meanwhile
      target[n] = '\0';
      struct stat st;
      bool have_stat = stat(link.c_str(), &st) == 0;
      FdClass c =
          classify_fd(target, have_stat, have_stat ? st.st_mode : 0, have_stat ? st.st_rdev : 0);
      s.fds[static_cast<int>(c)]++;
      s.fds_total++;
      if (c == FdClass::kDrmRender || c == FdClass::kDrmPrimary) {
        DrmClient client;
        if (parse_drm_fdinfo(read_file(std::string("/proc/self/fdinfo/") + de->d_name), client) &&
            client.has_memory) {
          std::string driver = drm_driver_name(fd, client.driver);
          std::string key =
              driver + "/" + (client.client_id.empty() ? de->d_name : client.client_id);
          if (drm_clients.insert(key).second) {
            s.gpu[driver] += client.total;
            s.gpu[driver + "-resident"] += client.resident;
          }
        }
      }
    }
    closedir(dir);
  }

  // Threads by name.
  if (DIR *dir = opendir("/proc/self/task")) {
    while (struct dirent *de = readdir(dir)) {
      if (de->d_name[0] == '.')
        continue;
      std::string comm = read_file(std::string("/proc/self/task/") + de->d_name + "/comm");
      if (comm.empty())
        continue;  // exited meanwhile
      s.threads[thread_group(comm)]++;
      s.threads_total++;
    }
    closedir(dir);
  }

  if (use_nvml_)
    s.nvml = nvml_.process_used_bytes(static_cast<unsigned>(getpid()));
  return s;
}

}  // namespace leakwatch
