// Process-wide, thread-safe, computed-once probing of render nodes and encoder candidates.
#pragma once

#include "vapoolenc-codec.h"
#include "vapoolenc-vaprobe.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace vapoolenc {

struct EncodeTestResult {
  bool ok = false;
  std::string error;  // why not, when !ok
};

// Encodes one 320x240 test frame with `factory` (sharing the node's display) and checks that
// the first output is a keyframe. Opens a small pipeline and takes it down to NULL before
// returning.
EncodeTestResult run_encode_test(const std::string &factory, const std::string &node,
                                 EncoderKind kind);

class ProbeCache {
 public:
  explicit ProbeCache(std::unique_ptr<VaBackend> backend);
  // The process-wide cache over SystemVaBackend.
  static ProbeCache &global();

  std::vector<std::string> render_nodes();
  NodeInfo node(const std::string &path);
  EncodeTestResult encode_test(const std::string &factory, const std::string &node,
                               EncoderKind kind);
  // The device-path a va encoder factory is bound to ("" when unknown).
  std::string va_device_path(const std::string &factory);

  // How many real probes ran (each is cached afterwards).
  struct Counts {
    unsigned enumerations = 0, node_queries = 0, encode_tests = 0, device_paths = 0;
  };
  Counts counts();

 private:
  std::unique_ptr<VaBackend> backend_;
  // One lock for the whole cache: a probe is computed once, and a second caller waits for
  // the first one's answer instead of probing the same thing in parallel.
  std::mutex lock_;
  std::optional<std::vector<std::string>> nodes_;
  std::map<std::string, NodeInfo> node_info_;
  std::map<std::pair<std::string, std::string>, EncodeTestResult> encode_;
  std::map<std::string, std::string> device_paths_;
  Counts counts_;
};

}  // namespace vapoolenc
