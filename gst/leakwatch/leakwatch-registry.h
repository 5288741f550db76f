// Per-instance records of the objects leakwatch follows one by one.
//
// Every GstObject (they are rare) and the mini objects of non count-only types get an entry
// keyed by address; resource-bearing types (elements, pads, pools, allocators, buses,
// clocks, displays and contexts, the `track` list) get a detailed record with the name, the
// owning pipeline and the creation time. Nothing here reads an object after its destroy hook:
// names are captured at creation, element-new and bin-add time.
//
// Safety of the inspector callbacks: they run under the registry mutex while the entry is
// present. The destroy hook removes the entry under the same mutex before the object's memory
// is released, so an object with an entry is never freed while an inspector reads it.
#pragma once

#include "leakwatch-counters.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace leakwatch {

struct ObjectRecord {
  const void *ptr = nullptr;
  TypeSlot *slot = nullptr;
  bool detailed = false;
  uint64_t serial = 0;  // creation order, 1-based
  int64_t created_ns = 0;
  std::string name;
  uint64_t pipeline_id = 0;  // serial of the owning top-level pipeline, 0 = unknown
  std::string pipeline_name;
  const void *parent = nullptr;
  std::string stack;
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
  AliveObject describe(const ObjectRecord &r) const;
  bool flagged(const ObjectRecord &r) const;

  Inspector inspector_;
  mutable std::mutex mutex_;
  std::unordered_map<const void *, ObjectRecord> records_;
  // Current names of live pipelines by id; a destroyed pipeline's last name is copied into
  // the records that belonged to it.
  std::unordered_map<uint64_t, std::string> pipeline_names_;
  uint64_t serial_ = 0;
};

}  // namespace leakwatch
