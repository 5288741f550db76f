// The GOption plumbing of the example programs' command lines: C storage for string and flag
// options until they are copied into the program's Options, the range check, and the parse.
#pragma once

#include <glib.h>

#include <initializer_list>
#include <list>
#include <string>

namespace steady_examples {

// Storage that GOptionEntry arg_data can point to. Owns what GOption allocates.
class OptionStorage {
 public:
  OptionStorage() = default;
  ~OptionStorage();
  OptionStorage(const OptionStorage &) = delete;
  OptionStorage &operator=(const OptionStorage &) = delete;

  // For a G_OPTION_ARG_STRING entry: commit() copies the value into target when one was given.
  gchar **text(std::string &target);
  // For a G_OPTION_ARG_NONE entry: starts at target's value; commit() copies it back.
  gboolean *flag(bool &target);
  void commit();

 private:
  std::list<std::pair<gchar *, std::string *>> texts_;
  std::list<std::pair<gboolean, bool *>> flags_;
};

// An integer option's name, value and allowed range.
struct IntRange {
  const char *name;
  int value;
  int lo;
  int hi;
};

// True when every option is within its range; else prints, for the first that is not,
// "<program>: --NAME=VALUE is out of range, allowed LO..HI" on stderr.
bool in_range(const char *program, std::initializer_list<IntRange> options);

// Parses argv against entries (NULL-terminated) and commits storage. --help prints the help
// and exits 0, as GOption does. On an error prints "<program>: <error> (try --help)" on stderr
// and returns false. description (may be null) is shown after the options in --help.
bool parse_command_line(const char *program, const char *summary, const char *description,
                        const GOptionEntry *entries, OptionStorage &storage, int argc, char **argv);

}  // namespace steady_examples
