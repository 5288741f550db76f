// Process-wide accounting of vasim's VA objects, the test API of vasim.h, and the dump
// written at vaTerminate (VASIM_DUMP=stderr, or VASIM_DUMP=<file> to append to a file).
#include "vasim-driver.h"
#include "vasim.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vasim {
namespace {

std::mutex g_lock;
std::condition_variable g_changed;  // live displays went down
vasim_counts g_counts{VASIM_COUNTS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

int32_t *live(Kind kind) {
  switch (kind) {
    case Kind::Display:
      return &g_counts.displays;
    case Kind::Config:
      return &g_counts.configs;
    case Kind::Context:
      return &g_counts.contexts;
    case Kind::Surface:
      return &g_counts.surfaces;
    case Kind::Buffer:
      return &g_counts.buffers;
    case Kind::Image:
      return &g_counts.images;
  }
  return nullptr;
}

}  // namespace

void count_up(Kind kind) {
  std::lock_guard<std::mutex> g(g_lock);
  int32_t v = ++*live(kind);
  if (kind == Kind::Context && v > g_counts.peak_contexts)
    g_counts.peak_contexts = v;
  if (kind == Kind::Surface && v > g_counts.peak_surfaces)
    g_counts.peak_surfaces = v;
  if (kind == Kind::Display)
    ++g_counts.displays_opened;
}

void count_down(Kind kind, int n) {
  std::lock_guard<std::mutex> g(g_lock);
  *live(kind) -= n;
  if (kind == Kind::Display)
    g_changed.notify_all();
}

bool reserve_context(long cap, long *live_now) {
  std::lock_guard<std::mutex> g(g_lock);
  *live_now = g_counts.contexts;
  if (cap >= 0 && g_counts.contexts >= cap) {
    ++g_counts.contexts_refused;
    return false;
  }
  if (++g_counts.contexts > g_counts.peak_contexts)
    g_counts.peak_contexts = g_counts.contexts;
  ++g_counts.contexts_created;
  return true;
}

void note_frame(bool failed) {
  std::lock_guard<std::mutex> g(g_lock);
  if (failed)
    ++g_counts.frames_failed;
  else
    ++g_counts.frames_encoded;
}

void note_leaked(int n) {
  std::lock_guard<std::mutex> g(g_lock);
  g_counts.leaked_at_terminate += n;
}

long env_long(const char *name, long fallback) {
  const char *s = std::getenv(name);
  if (!s || !*s)
    return fallback;
  char *end = nullptr;
  long v = std::strtol(s, &end, 10);
  return (end && *end == '\0') ? v : fallback;
}

void dump_counts(const char *why, int leaked_here) {
  const char *target = std::getenv("VASIM_DUMP");
  if (!target || !*target)
    return;
  vasim_counts c;
  {
    std::lock_guard<std::mutex> g(g_lock);
    c = g_counts;
  }
  FILE *f = nullptr;
  const bool to_stderr = std::strcmp(target, "stderr") == 0 || std::strcmp(target, "-") == 0;
  f = to_stderr ? stderr : std::fopen(target, "a");
  if (!f)
    return;
  std::fprintf(f,
               "vasim: %s: leaked_here=%d live: displays=%d configs=%d contexts=%d "
               "surfaces=%d buffers=%d images=%d totals: displays_opened=%lld "
               "contexts_created=%lld contexts_refused=%lld frames_encoded=%lld "
               "frames_failed=%lld leaked_at_terminate=%lld peak_contexts=%d "
               "peak_surfaces=%d\n",
               why, leaked_here, c.displays, c.configs, c.contexts, c.surfaces, c.buffers, c.images,
               static_cast<long long>(c.displays_opened),
               static_cast<long long>(c.contexts_created),
               static_cast<long long>(c.contexts_refused), static_cast<long long>(c.frames_encoded),
               static_cast<long long>(c.frames_failed),
               static_cast<long long>(c.leaked_at_terminate), c.peak_contexts, c.peak_surfaces);
  if (to_stderr)
    std::fflush(f);
  else
    std::fclose(f);
}

}  // namespace vasim

extern "C" __attribute__((visibility("default"))) int vasim_get_counts(vasim_counts *out) {
  if (!out || out->version != VASIM_COUNTS_VERSION)
    return -1;
  std::lock_guard<std::mutex> g(vasim::g_lock);
  *out = vasim::g_counts;
  return 0;
}

extern "C" __attribute__((visibility("default"))) int vasim_reset_totals(void) {
  std::lock_guard<std::mutex> g(vasim::g_lock);
  vasim_counts &c = vasim::g_counts;
  c.peak_contexts = c.contexts;
  c.peak_surfaces = c.surfaces;
  c.displays_opened = c.contexts_created = c.contexts_refused = 0;
  c.frames_encoded = c.frames_failed = c.leaked_at_terminate = 0;
  return 0;
}

extern "C" __attribute__((visibility("default"))) int vasim_wait_displays(int32_t displays,
                                                                          int32_t timeout_ms) {
  std::unique_lock<std::mutex> g(vasim::g_lock);
  const bool ok = vasim::g_changed.wait_for(g, std::chrono::milliseconds(timeout_ms),
                                            [&] { return vasim::g_counts.displays == displays; });
  return ok ? 0 : -1;
}
