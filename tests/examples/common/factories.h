// Checks, before anything is built, that the elements a program's pipelines need exist.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace steady_examples {

// For each factory in names that is not registered, prints
// "<program>: element 'NAME' is not available.<hint(NAME)>" on stderr. True when none is missing.
bool have_factories(const char *program, const std::vector<std::string> &names,
                    const std::function<std::string(const std::string &name)> &hint);

}  // namespace steady_examples
