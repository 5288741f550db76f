// Per-instance records of the objects leakwatch follows one by one.
//
// Every GstObject (they are rare) and the mini objects of non count-only types get an entry
// keyed by address; resource-bearing types (elements, pads, pools, allocators, buses,
// clocks, displays and contexts, the `track` list) get a detailed record with the name, the
// owning pipeline and the creation time. Nothing here reads an object after its destroy hook:
// names are captured at creation, element-new and bin-add time.
//
// Two stores, so the hot path stays off the mutex that parent tracking takes:
// - plain entries (pointer-mode types: caps, structures' owners, tasks...; no name, no
//   parent) live in shards keyed by address, each with a mutex of its own;
// - detailed records live in one map under the registry mutex, linked both ways to their
//   parent (parent pointer, children list), so adding a pad or an element to a bin costs the
//   size of the moved subtree and a removal the number of direct children: nothing walks
//   every record. The owning pipeline is a shared {id, name} that the pipeline's record
//   renames in place and that outlives the pipeline in the records that belonged to it.
//
// Safety of the inspector callbacks: they run under the mutex of the store holding the entry
// while the entry is present. The destroy hook removes the entry under the same mutex before
// the object's memory is released, so an object with an entry is never freed while an
// inspector reads it.
#pragma once

#include "leakwatch-counters.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace leakwatch {

// The top-level pipeline that owns records: its serial and its current (or last) name.
struct PipelineOwner {
  uint64_t id = 0;
  std::string name;
};

struct ObjectRecord {
  const void *ptr = nullptr;
  TypeSlot *slot = nullptr;
  bool detailed = false;
  uint64_t serial = 0;  // creation order, 1-based
  int64_t created_ns = 0;
  std::string name;
  std::shared_ptr<PipelineOwner> owner;  // null = unknown
  // For an unowned object a pipeline's element posted (note_pipeline_of): named, not owned.
  std::shared_ptr<PipelineOwner> posted_by;
  const void *parent = nullptr;
  std::vector<const void *> children;  // records whose parent is this one
  size_t index_in_parent = 0;          // position in the parent's children
  std::string stack;

  uint64_t pipeline_id() const { return owner ? owner->id : 0; }
  bool owns_itself() const { return owner && owner->id == serial; }
};

// An entry of a plain (pointer-mode) type.
struct PlainRecord {
  TypeSlot *slot = nullptr;
  uint64_t serial = 0;
  int64_t created_ns = 0;
};

// A still-alive object as reported (a copy: no pointer is dereferenced later).
struct AliveObject {
  std::string type;
  bool is_mini = false;
  bool detailed = false;
  std::string name;
  std::string pipeline;
  uint64_t pipeline_id = 0;
  uint64_t serial = 0;
  int64_t created_ns = 0;
  int refcount = -1;
  std::string stack;
};

class Registry {
 public:
  struct Inspector {
    // True when the live object carries GST_(MINI_)OBJECT_FLAG_MAY_BE_LEAKED.
    std::function<bool(const void *ptr, bool is_mini)> may_be_leaked;
    // Current reference count of the live object.
    std::function<int(const void *ptr, bool is_mini)> refcount;
    // Current name of a live GstObject. Only called by refresh_names(), i.e. when no other
    // thread can be finalizing objects (gst_deinit()): finalize frees the name before the
    // destroy hook runs.
    std::function<std::string(const void *ptr)> name;
  };

  explicit Registry(Inspector inspector) : inspector_(std::move(inspector)) {}

  void add(const void *ptr, TypeSlot *slot, const char *name, int64_t now_ns, std::string stack);
  // Removes the entry; returns its slot, or nullptr when the address was never added.
  TypeSlot *remove(const void *ptr);
  // Updates the recorded name of a detailed record (element-new, bin-add).
  void rename(const void *ptr, const char *name);
  // Marks a record as a top-level pipeline: it owns itself. Returns its serial (0 if unknown).
  uint64_t mark_pipeline(const void *ptr);
  // Records @parent as @child's parent and gives @child and everything below it the owning
  // pipeline of @parent, when known.
  void set_parent(const void *child, const void *parent);
  // @child left its bin (gst_bin_remove): it and what hangs below it no longer belong to the
  // pipeline they were in, unless a pipeline inside the subtree owns them. An encoder that a
  // pool takes out of a session's pipeline to reuse it is not that session's leftover.
  void detach(const void *child);
  // For an object without an owner (a GstCudaContext or GL context a pipeline's element posted
  // in a have-context message): names @element's pipeline in reports, without making the
  // object the pipeline's (no "outlived the pipeline" verdict: applications share contexts
  // between pipelines on purpose). The first pipeline named is kept.
  void note_pipeline_of(const void *object, const void *element);
  // Recorded name of an object with a detailed record ("" otherwise).
  std::string name_of(const void *ptr);
  // Reference count of a live object with an entry, -1 when it has none.
  int refcount(const void *ptr);

  // Re-reads the names of all detailed GstObject records (see Inspector::name).
  void refresh_names();
  // Alive objects with an entry created after @since_serial; flagged ones are left out.
  std::vector<AliveObject> alive(uint64_t since_serial = 0, bool detailed_only = false);
  // Alive detailed objects that belonged to pipeline @pipeline_id (flagged ones left out).
  std::vector<AliveObject> alive_of_pipeline(uint64_t pipeline_id);
  uint64_t last_serial() const;
  size_t size() const;

 private:
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<const void *, PlainRecord> records;
  };
  static constexpr size_t kShards = 32;  // power of two
  Shard &shard_of(const void *ptr) const {
    uintptr_t x = reinterpret_cast<uintptr_t>(ptr);
    return shards_[((x >> 4) ^ (x >> 12)) & (kShards - 1)];
  }

  AliveObject describe(const ObjectRecord &r) const;
  AliveObject describe_plain(const void *ptr, const PlainRecord &r) const;
  bool flagged(const ObjectRecord &r) const;
  // (mutex_ held) Parent links.
  void link(ObjectRecord &parent, ObjectRecord &child);
  void unlink(ObjectRecord &child);
  // (mutex_ held) Calls fn on @root and every record below it, parents first.
  template <typename Fn>
  void for_subtree(ObjectRecord &root, Fn fn);

  Inspector inspector_;
  std::atomic<uint64_t> serial_{0};
  mutable std::mutex mutex_;  // records_ and everything in them
  std::unordered_map<const void *, ObjectRecord> records_;
  // Parent -> child links made before the parent had a record (an element adds its pads in
  // its instance init, before object-created fires for it); linked when the parent is added.
  std::unordered_multimap<const void *, const void *> waiting_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace leakwatch
