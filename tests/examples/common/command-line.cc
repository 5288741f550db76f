#include "command-line.h"

#include <cstdio>

namespace steady_examples {

OptionStorage::~OptionStorage() {
  for (auto &text : texts_)
    g_free(text.first);  // what GOption allocated, or null
}

gchar **OptionStorage::text(std::string &target) {
  texts_.emplace_back(nullptr, &target);
  return &texts_.back().first;
}

gboolean *OptionStorage::flag(bool &target) {
  flags_.emplace_back(target ? TRUE : FALSE, &target);
  return &flags_.back().first;
}

void OptionStorage::commit() {
  for (auto &[raw, target] : texts_) {
    if (raw)
      *target = raw;
  }
  for (auto &[value, target] : flags_)
    *target = value;
}

bool in_range(const char *program, std::initializer_list<IntRange> options) {
  for (const IntRange &o : options) {
    if (o.value < o.lo || o.value > o.hi) {
      std::fprintf(stderr, "%s: --%s=%d is out of range, allowed %d..%d\n", program, o.name,
                   o.value, o.lo, o.hi);
      return false;
    }
  }
  return true;
}

bool parse_command_line(const char *program, const char *summary, const char *description,
                        const GOptionEntry *entries, OptionStorage &storage, int argc,
                        char **argv) {
  g_autoptr(GOptionContext) context = g_option_context_new(summary);
  g_option_context_add_main_entries(context, entries, nullptr);
  if (description)
    g_option_context_set_description(context, description);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    std::fprintf(stderr, "%s: %s (try --help)\n", program, error->message);
    return false;
  }
  storage.commit();
  return true;
}

}  // namespace steady_examples
