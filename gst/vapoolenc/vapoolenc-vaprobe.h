// Render nodes and their VA-API encode capabilities, read with libdrm and libva. Every call
// opens what it needs and releases it before returning (descriptor, VADisplay).
#pragma once

#include "vapoolenc-codec.h"

#include <map>
#include <string>
#include <vector>

namespace vapoolenc {

struct EncodeEntrypoints {
  bool slice = false;     // VAEntrypointEncSlice for a profile of the codec
  bool slice_lp = false;  // VAEntrypointEncSliceLP for a profile of the codec
};

struct NodeInfo {
  std::string path;
  bool opened = false;      // libva initialised a display on it
  std::string driver;       // vendor string, for logs
  std::string error;        // why not, when !opened
  std::map<Codec, EncodeEntrypoints> encode;
};

// The system boundary the probe cache talks to; the simulated VA device (tests) and unit
// tests can stand in for it.
class VaBackend {
 public:
  virtual ~VaBackend() = default;
  // Render nodes in enumeration order (e.g. /dev/dri/renderD128).
  virtual std::vector<std::string> render_nodes() = 0;
  // Opens the node with libva, reads its encode entrypoints, closes everything.
  virtual NodeInfo query_node(const std::string &path) = 0;
};

// libdrm (drmGetDevices2, DRM_NODE_RENDER) + libva (vaGetDisplayDRM, vaQueryConfigEntrypoints).
// The environment variable VAPOOLENC_RENDER_NODES (colon-separated paths) replaces the libdrm
// enumeration: it lets a simulated render node (a file that sysfs does not know) be probed.
class SystemVaBackend : public VaBackend {
 public:
  std::vector<std::string> render_nodes() override;
  NodeInfo query_node(const std::string &path) override;
};

}  // namespace vapoolenc
