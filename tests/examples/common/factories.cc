#include "factories.h"

#include <gst/gst.h>

#include <cstdio>

namespace steady_examples {

bool have_factories(const char *program, const std::vector<std::string> &names,
                    const std::function<std::string(const std::string &name)> &hint) {
  bool ok = true;
  for (const std::string &name : names) {
    if (GstElementFactory *factory = gst_element_factory_find(name.c_str())) {
      gst_object_unref(factory);
      continue;
    }
    ok = false;
    std::fprintf(stderr, "%s: element '%s' is not available.%s\n", program, name.c_str(),
                 hint(name).c_str());
  }
  return ok;
}

}  // namespace steady_examples
