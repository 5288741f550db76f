// Per-GType created/destroyed counters with a lock-free lookup on the hot path.
//
// Every GstObject and GstMiniObject creation and destruction lands here. The table is an
// open-addressing array of published slot pointers: finding the slot of a type already seen
// is a hash, one or two acquire loads and a compare, and counting is one relaxed atomic
// increment on a cache line of its own. Only the first sighting of a type takes a mutex.
#pragma once

#include <glib-object.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace leakwatch {

// How leakwatch treats instances of one type, decided once when the type is first seen.
enum class TypeMode : uint8_t {
  kCountOnly,  // counters only (buffers, events, queries, messages, memories...)
  kPointer,    // a per-instance entry (pointer and type) so leaks can be filtered by flag
  kDetailed,   // a full record: name, owning pipeline, creation time, optional stack
};

struct alignas(64) TypeSlot {
  GType type = 0;
  std::string name;
  bool is_mini = false;
  TypeMode mode = TypeMode::kCountOnly;
  alignas(64) std::atomic<uint64_t> created{0};
  alignas(64) std::atomic<uint64_t> destroyed{0};
  // Highest live count observed (exact for per-instance types, at samples for the others).
  std::atomic<int64_t> peak{0};

  int64_t live() const {
    // destroyed is read first so a concurrent creation cannot make live negative.
    int64_t d = static_cast<int64_t>(destroyed.load(std::memory_order_acquire));
    int64_t c = static_cast<int64_t>(created.load(std::memory_order_acquire));
    return c > d ? c - d : 0;
  }
  void observe_peak(int64_t live_now) {
    int64_t p = peak.load(std::memory_order_relaxed);
    while (live_now > p && !peak.compare_exchange_weak(p, live_now, std::memory_order_relaxed)) {
    }
  }
};

class TypeTable {
 public:
  // Decides the mode of a type seen for the first time (called under the table's mutex).
  using Classifier = std::function<TypeMode(GType type, bool is_mini)>;

  explicit TypeTable(Classifier classifier);
  TypeTable(const TypeTable &) = delete;
  TypeTable &operator=(const TypeTable &) = delete;

  // Lock-free once the type has a slot.
  TypeSlot *get(GType type, bool is_mini) {
    size_t i = hash(type);
    for (size_t n = 0; n < kCapacity; ++n, i = (i + 1) & (kCapacity - 1)) {
      TypeSlot *s = slots_[i].load(std::memory_order_acquire);
      if (s == nullptr)
        return insert(type, is_mini);
      if (s->type == type)
        return s;
    }
    return &overflow_;
  }

  // Every slot published so far (the overflow slot last when used).
  std::vector<TypeSlot *> slots() const;

  static constexpr size_t kCapacity = 4096;  // power of two

 private:
  static size_t hash(GType type) {
    uint64_t x = static_cast<uint64_t>(type) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(x >> 52) & (kCapacity - 1);
  }
  TypeSlot *insert(GType type, bool is_mini);

  Classifier classifier_;
  std::unique_ptr<std::atomic<TypeSlot *>[]> slots_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<TypeSlot>> owned_;
  TypeSlot overflow_;
};

// True when @type or one of its ancestors is named @name (works for types that are not
// registered in this process: nothing needs to be linked).
bool type_is_a_named(GType type, const char *name);

}  // namespace leakwatch
