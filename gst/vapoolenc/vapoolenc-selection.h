// Candidate selection: which encoder factories (and render nodes) a vapoolenc may use, in
// order, for a device, a codec and the user's overrides.
#pragma once

#include "vapoolenc-codec.h"
#include "vapoolenc-probe.h"

#include <string>
#include <vector>

namespace vapoolenc {

enum class ProbeMode { kEntrypoints, kEncode };

struct Candidate {
  std::string factory;
  std::string node;  // render node, "" when the encoder is not bound to one
  EncoderKind kind = EncoderKind::kSoftware;
  bool hardware() const { return kind != EncoderKind::kSoftware; }
};

struct SelectionRequest {
  Device device = Device::kAuto;
  std::string codec = "h264";
  std::string hardware_factories;  // comma-separated override, "" for the built-in order
  std::string software_factory;    // override, "" for the built-in order
  std::string render_node;         // "" for the first usable one
  ProbeMode probe = ProbeMode::kEncode;

  bool operator==(const SelectionRequest &o) const {
    return device == o.device && codec == o.codec && hardware_factories == o.hardware_factories &&
           software_factory == o.software_factory && render_node == o.render_node &&
           probe == o.probe;
  }
};

struct Selection {
  bool ok = false;
  Codec codec = Codec::kH264;
  // Usable candidates in order: hardware first, then (device=auto|software) one software.
  std::vector<Candidate> candidates;
  // Why each rejected candidate was rejected ("vah264enc: not installed").
  std::vector<std::string> rejected;
  // When !ok: what is wrong and what to change.
  std::string error;

  const Candidate *software() const;
};

// What selection asks of the system; SystemAvailability uses the registry and ProbeCache.
class Availability {
 public:
  virtual ~Availability() = default;
  virtual bool factory_exists(const std::string &factory) = 0;
  virtual std::vector<std::string> render_nodes() = 0;
  virtual NodeInfo node(const std::string &path) = 0;
  virtual std::string va_device_path(const std::string &factory) = 0;
  virtual EncodeTestResult encode_test(const Candidate &candidate) = 0;
  // The va plugin's per-device twins of a factory (vah264enc -> varenderD129h264enc, ...),
  // registered for render nodes after the first.
  virtual std::vector<std::string> va_device_variants(const std::string &factory) = 0;
};

class SystemAvailability : public Availability {
 public:
  explicit SystemAvailability(ProbeCache &cache) : cache_(cache) {}
  bool factory_exists(const std::string &factory) override;
  std::vector<std::string> render_nodes() override { return cache_.render_nodes(); }
  NodeInfo node(const std::string &path) override { return cache_.node(path); }
  std::string va_device_path(const std::string &factory) override {
    return cache_.va_device_path(factory);
  }
  EncodeTestResult encode_test(const Candidate &c) override {
    return cache_.encode_test(c.factory, c.node, c.kind);
  }
  std::vector<std::string> va_device_variants(const std::string &factory) override;

 private:
  ProbeCache &cache_;
};

Selection select_candidates(const SelectionRequest &request, Availability &system);

// "a, b, c" for messages.
std::string join(const std::vector<std::string> &items, const char *sep = ", ");

}  // namespace vapoolenc
