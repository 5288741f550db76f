#include "leakwatch-registry.h"

#include <algorithm>

namespace leakwatch {

void Registry::add(const void *ptr, TypeSlot *slot, const char *name, int64_t now_ns,
                   std::string stack) {
  std::lock_guard<std::mutex> lock(mutex_);
  ObjectRecord &r = records_[ptr];
  r = ObjectRecord();
  r.ptr = ptr;
  r.slot = slot;
  r.detailed = slot->mode == TypeMode::kDetailed;
  r.serial = ++serial_;
  r.created_ns = now_ns;
  if (r.detailed) {
    if (name != nullptr)
      r.name = name;
    r.stack = std::move(stack);
  }
}

TypeSlot *Registry::remove(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it == records_.end())
    return nullptr;
  TypeSlot *slot = it->second.slot;
  const uint64_t serial = it->second.serial;
  const bool was_pipeline = it->second.pipeline_id == serial;
  records_.erase(it);
  if (was_pipeline) {
    auto name = pipeline_names_.find(serial);
    if (name != pipeline_names_.end()) {
      for (auto &entry : records_)
        if (entry.second.pipeline_id == serial)
          entry.second.pipeline_name = name->second;
      pipeline_names_.erase(name);
    }
  }
  return slot;
}

void Registry::rename(const void *ptr, const char *name) {
  if (name == nullptr)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it != records_.end() && it->second.detailed) {
    it->second.name = name;
    if (it->second.pipeline_id == it->second.serial)
      pipeline_names_[it->second.serial] = name;
  }
}

void Registry::refresh_names() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!inspector_.name)
    return;
  for (auto &entry : records_) {
    ObjectRecord &r = entry.second;
    if (!r.detailed || r.slot->is_mini)
      continue;
    r.name = inspector_.name(r.ptr);
    if (r.pipeline_id == r.serial)
      pipeline_names_[r.serial] = r.name;
  }
}

uint64_t Registry::mark_pipeline(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it == records_.end())
    return 0;
  it->second.pipeline_id = it->second.serial;
  it->second.pipeline_name = it->second.name;
  pipeline_names_[it->second.serial] = it->second.name;
  return it->second.serial;
}

void Registry::set_parent(const void *child, const void *parent) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = records_.find(child);
  if (c == records_.end())
    return;
  c->second.parent = parent;
  auto p = records_.find(parent);
  if (p == records_.end() || p->second.pipeline_id == 0)
    return;
  const uint64_t id = p->second.pipeline_id;
  const std::string name = p->second.pipeline_name;
  // Give the owner to @child and to every record whose parent chain reaches @child.
  for (auto &entry : records_) {
    ObjectRecord &r = entry.second;
    const ObjectRecord *walk = &r;
    for (int depth = 0; walk != nullptr && depth < 64; ++depth) {
      if (walk->ptr == child) {
        r.pipeline_id = id;
        r.pipeline_name = name;
        break;
      }
      if (walk->parent == nullptr)
        break;
      auto up = records_.find(walk->parent);
      walk = up == records_.end() ? nullptr : &up->second;
    }
  }
}

void Registry::detach(const void *child) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = records_.find(child);
  if (c == records_.end())
    return;
  c->second.parent = nullptr;
  for (auto &entry : records_) {
    ObjectRecord &r = entry.second;
    // The nearest pipeline on the way up from @r, if that way passes through @child.
    const ObjectRecord *owner = nullptr;
    bool below_child = false;
    const ObjectRecord *walk = &r;
    for (int depth = 0; walk != nullptr && depth < 64; ++depth) {
      if (owner == nullptr && walk->pipeline_id == walk->serial)
        owner = walk;
      if (walk->ptr == child) {
        below_child = true;
        break;
      }
      if (walk->parent == nullptr)
        break;
      auto up = records_.find(walk->parent);
      walk = up == records_.end() ? nullptr : &up->second;
    }
    if (!below_child)
      continue;
    r.pipeline_id = owner ? owner->serial : 0;
    r.pipeline_name = owner ? owner->name : std::string();
  }
}

void Registry::note_pipeline_of(const void *object, const void *element) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto o = records_.find(object);
  auto e = records_.find(element);
  if (o == records_.end() || e == records_.end() || e->second.pipeline_id == 0 ||
      o->second.pipeline_id != 0 || !o->second.pipeline_name.empty())
    return;
  auto live = pipeline_names_.find(e->second.pipeline_id);
  o->second.pipeline_name = live != pipeline_names_.end() ? live->second : e->second.pipeline_name;
}

std::string Registry::name_of(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  return it == records_.end() ? std::string() : it->second.name;
}

int Registry::refcount(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it == records_.end() || !inspector_.refcount)
    return -1;
  return inspector_.refcount(ptr, it->second.slot->is_mini);
}

bool Registry::flagged(const ObjectRecord &r) const {
  if (!inspector_.may_be_leaked)
    return false;
  // An object kept alive on purpose keeps its children (an element's pads) alive too.
  const ObjectRecord *walk = &r;
  for (int depth = 0; walk != nullptr && depth < 64; ++depth) {
    if (inspector_.may_be_leaked(walk->ptr, walk->slot->is_mini))
      return true;
    if (walk->parent == nullptr)
      break;
    auto up = records_.find(walk->parent);
    walk = up == records_.end() ? nullptr : &up->second;
  }
  return false;
}

AliveObject Registry::describe(const ObjectRecord &r) const {
  AliveObject a;
  a.type = r.slot->name;
  a.is_mini = r.slot->is_mini;
  a.detailed = r.detailed;
  a.name = r.name;
  auto live_name = pipeline_names_.find(r.pipeline_id);
  a.pipeline = live_name != pipeline_names_.end() ? live_name->second : r.pipeline_name;
  a.pipeline_id = r.pipeline_id;
  a.serial = r.serial;
  a.created_ns = r.created_ns;
  a.stack = r.stack;
  if (inspector_.refcount)
    a.refcount = inspector_.refcount(r.ptr, r.slot->is_mini);
  return a;
}

std::vector<AliveObject> Registry::alive(uint64_t since_serial, bool detailed_only) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<AliveObject> out;
  for (const auto &entry : records_) {
    const ObjectRecord &r = entry.second;
    if (r.serial <= since_serial || (detailed_only && !r.detailed) || flagged(r))
      continue;
    out.push_back(describe(r));
  }
  std::sort(out.begin(), out.end(),
            [](const AliveObject &a, const AliveObject &b) { return a.serial < b.serial; });
  return out;
}

std::vector<AliveObject> Registry::alive_of_pipeline(uint64_t pipeline_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<AliveObject> out;
  for (const auto &entry : records_) {
    const ObjectRecord &r = entry.second;
    if (r.detailed && r.pipeline_id == pipeline_id && !flagged(r))
      out.push_back(describe(r));
  }
  std::sort(out.begin(), out.end(),
            [](const AliveObject &a, const AliveObject &b) { return a.serial < b.serial; });
  return out;
}

uint64_t Registry::last_serial() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return serial_;
}

size_t Registry::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_.size();
}

}  // namespace leakwatch
