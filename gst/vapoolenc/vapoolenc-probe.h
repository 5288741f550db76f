// Process-wide, thread-safe, computed-once probing of render nodes and encoder candidates.
#pragma once

#include "vapoolenc-codec.h"
#include "vapoolenc-vaprobe.h"

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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

// Computes each value once per key. A caller for a key that is being computed waits for that
// computation only (never for other keys, never under the map's lock); the computation itself
// runs without any lock held.
template <typename Key, typename Value>
class OnceMap {
 public:
  // The cached value of `key`, computing it with `compute` when nobody has; `*computed` tells
  // whether this call ran it.
  Value get(const Key &key, const std::function<Value()> &compute, bool *computed = nullptr) {
    std::shared_ptr<Entry> entry;
    bool mine = false;
    {
      std::lock_guard<std::mutex> guard(lock_);
      auto &slot = entries_[key];
      if (!slot) {
        slot = std::make_shared<Entry>();
        mine = true;
      }
      entry = slot;
    }
    if (computed)
      *computed = mine;
    if (mine) {
      Value v = compute();
      std::lock_guard<std::mutex> guard(entry->lock);
      entry->value = std::move(v);
      entry->ready = true;
      entry->cv.notify_all();
    }
    std::unique_lock<std::mutex> lk(entry->lock);
    entry->cv.wait(lk, [&] { return entry->ready; });
    return entry->value;
  }

 private:
  struct Entry {
    std::mutex lock;
    std::condition_variable cv;
    bool ready = false;
    Value value{};
  };
  std::mutex lock_;  // the map only, never held while computing or waiting
  std::map<Key, std::shared_ptr<Entry>> entries_;
};

class ProbeCache {
 public:
  // How an encode test is run (run_encode_test by default; unit tests pass their own).
  using EncodeTestFn =
      std::function<EncodeTestResult(const std::string &, const std::string &, EncoderKind)>;
  explicit ProbeCache(std::unique_ptr<VaBackend> backend, EncodeTestFn encode_test = nullptr);
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
  EncodeTestFn encode_test_fn_;
  // Each probe is computed once per key; a second caller for the same key waits for the first
  // one's answer, callers for other keys (another node, an already probed factory) do not
  // wait. No lock is held while a probe runs (an encode test can take seconds).
  OnceMap<int, std::vector<std::string>> nodes_;
  OnceMap<std::string, NodeInfo> node_info_;
  OnceMap<std::pair<std::string, std::string>, EncodeTestResult> encode_;
  OnceMap<std::string, std::string> device_paths_;
  std::mutex counts_lock_;
  Counts counts_;
};

}  // namespace vapoolenc
