#include "leakwatch-registry.h"

#include <algorithm>

namespace leakwatch {

namespace {

// Deepest bin nesting followed (GStreamer allows no cycles; this bounds a corrupt chain).
constexpr int kMaxDepth = 64;

bool by_serial(const AliveObject &a, const AliveObject &b) {
  return a.serial < b.serial;
}

}  // namespace

void Registry::add(const void *ptr, TypeSlot *slot, const char *name, int64_t now_ns,
                   std::string stack) {
  const uint64_t serial = serial_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (slot->mode != TypeMode::kDetailed) {
    Shard &sh = shard_of(ptr);
    std::lock_guard<std::mutex> lock(sh.mutex);
    sh.records[ptr] = PlainRecord{slot, serial, now_ns};
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it != records_.end()) {
    // The address of an object whose destroy hook we never saw: forget the stale record.
    for (const void *c : it->second.children) {
      auto child = records_.find(c);
      if (child != records_.end())
        child->second.parent = nullptr;
    }
    unlink(it->second);
    records_.erase(it);
  }
  ObjectRecord &r = records_[ptr];
  r.ptr = ptr;
  r.slot = slot;
  r.detailed = true;
  r.serial = serial;
  r.created_ns = now_ns;
  if (name != nullptr)
    r.name = name;
  r.stack = std::move(stack);
  auto waiting = waiting_.equal_range(ptr);
  for (auto w = waiting.first; w != waiting.second; ++w) {
    auto child = records_.find(w->second);
    if (child != records_.end() && child->second.parent == ptr)
      link(r, child->second);
  }
  waiting_.erase(waiting.first, waiting.second);
}

TypeSlot *Registry::remove(const void *ptr) {
  {
    Shard &sh = shard_of(ptr);
    std::lock_guard<std::mutex> lock(sh.mutex);
    auto it = sh.records.find(ptr);
    if (it != sh.records.end()) {
      TypeSlot *slot = it->second.slot;
      sh.records.erase(it);
      return slot;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it == records_.end())
    return nullptr;
  ObjectRecord &r = it->second;
  TypeSlot *slot = r.slot;
  // Children that outlive their parent keep their owner (its last name included).
  for (const void *c : r.children) {
    auto child = records_.find(c);
    if (child != records_.end())
      child->second.parent = nullptr;
  }
  unlink(r);
  records_.erase(it);
  return slot;
}

void Registry::link(ObjectRecord &parent, ObjectRecord &child) {
  child.parent = parent.ptr;
  child.index_in_parent = parent.children.size();
  parent.children.push_back(child.ptr);
}

void Registry::unlink(ObjectRecord &child) {
  const void *parent_ptr = child.parent;
  child.parent = nullptr;
  if (parent_ptr == nullptr)
    return;
  auto p = records_.find(parent_ptr);
  if (p == records_.end()) {
    auto waiting = waiting_.equal_range(parent_ptr);
    for (auto w = waiting.first; w != waiting.second; ++w) {
      if (w->second == child.ptr) {
        waiting_.erase(w);
        break;
      }
    }
    return;
  }
  std::vector<const void *> &siblings = p->second.children;
  const size_t i = child.index_in_parent;
  if (i >= siblings.size() || siblings[i] != child.ptr)
    return;
  // Swap with the last sibling, which takes our index.
  siblings[i] = siblings.back();
  siblings.pop_back();
  if (i < siblings.size()) {
    auto moved = records_.find(siblings[i]);
    if (moved != records_.end())
      moved->second.index_in_parent = i;
  }
}

template <typename Fn>
void Registry::for_subtree(ObjectRecord &root, Fn fn) {
  // Recursive (no allocation per event); bins nest a few levels deep at most.
  struct Walk {
    Registry *self;
    Fn &fn;
    void operator()(ObjectRecord &r, int depth) {
      fn(r);
      if (depth + 1 >= kMaxDepth)
        return;
      for (const void *c : r.children) {
        auto child = self->records_.find(c);
        if (child != self->records_.end())
          (*this)(child->second, depth + 1);
      }
    }
  };
  Walk{this, fn}(root, 0);
}

void Registry::rename(const void *ptr, const char *name) {
  if (name == nullptr)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it != records_.end()) {
    it->second.name = name;
    if (it->second.owns_itself())
      it->second.owner->name = name;
  }
}

void Registry::refresh_names() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!inspector_.name)
    return;
  for (auto &entry : records_) {
    ObjectRecord &r = entry.second;
    if (r.slot->is_mini)
      continue;
    r.name = inspector_.name(r.ptr);
    if (r.owns_itself())
      r.owner->name = r.name;
  }
}

uint64_t Registry::mark_pipeline(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it == records_.end())
    return 0;
  ObjectRecord &r = it->second;
  if (!r.owns_itself()) {
    // Records below it that got the pipeline's previous owner keep that one: as before, a
    // pipeline becomes the owner of what is added to it from now on.
    r.owner = std::make_shared<PipelineOwner>();
    r.owner->id = r.serial;
  }
  r.owner->name = r.name;
  return r.serial;
}

void Registry::set_parent(const void *child, const void *parent) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = records_.find(child);
  if (c == records_.end())
    return;
  unlink(c->second);
  c->second.parent = parent;
  auto p = records_.find(parent);
  if (p == records_.end()) {
    if (parent != nullptr)
      waiting_.emplace(parent, child);
    return;
  }
  link(p->second, c->second);
  if (!p->second.owner)
    return;
  // @child and everything below it now belong to @parent's pipeline.
  std::shared_ptr<PipelineOwner> owner = p->second.owner;
  for_subtree(c->second, [&owner](ObjectRecord &r) { r.owner = owner; });
}

void Registry::detach(const void *child) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = records_.find(child);
  if (c == records_.end())
    return;
  unlink(c->second);
  // Each record below @child now belongs to the nearest pipeline between it and @child,
  // or to none: carried down the subtree, replaced by each pipeline met on the way.
  const std::shared_ptr<PipelineOwner> none;
  struct Walk {
    Registry *self;
    void operator()(ObjectRecord &r, const std::shared_ptr<PipelineOwner> &owner, int depth) {
      if (!r.owns_itself())
        r.owner = owner;
      if (depth + 1 >= kMaxDepth)
        return;
      const std::shared_ptr<PipelineOwner> &mine = r.owns_itself() ? r.owner : owner;
      for (const void *k : r.children) {
        auto kid = self->records_.find(k);
        if (kid != self->records_.end())
          (*this)(kid->second, mine, depth + 1);
      }
    }
  };
  Walk{this}(c->second, none, 0);
}

void Registry::note_pipeline_of(const void *object, const void *element) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto o = records_.find(object);
  auto e = records_.find(element);
  if (o == records_.end() || e == records_.end() || !e->second.owner || o->second.owner ||
      o->second.posted_by)
    return;
  o->second.posted_by = e->second.owner;
}

std::string Registry::name_of(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  return it == records_.end() ? std::string() : it->second.name;
}

int Registry::refcount(const void *ptr) {
  if (!inspector_.refcount)
    return -1;
  {
    Shard &sh = shard_of(ptr);
    std::lock_guard<std::mutex> lock(sh.mutex);
    auto it = sh.records.find(ptr);
    if (it != sh.records.end())
      return inspector_.refcount(ptr, it->second.slot->is_mini);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(ptr);
  if (it == records_.end())
    return -1;
  return inspector_.refcount(ptr, it->second.slot->is_mini);
}

bool Registry::flagged(const ObjectRecord &r) const {
  if (!inspector_.may_be_leaked)
    return false;
  // An object kept alive on purpose keeps its children (an element's pads) alive too.
  const ObjectRecord *walk = &r;
  for (int depth = 0; walk != nullptr && depth < kMaxDepth; ++depth) {
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
  if (r.owner)
    a.pipeline = r.owner->name;
  else if (r.posted_by)
    a.pipeline = r.posted_by->name;
  a.pipeline_id = r.pipeline_id();
  a.serial = r.serial;
  a.created_ns = r.created_ns;
  a.stack = r.stack;
  if (inspector_.refcount)
    a.refcount = inspector_.refcount(r.ptr, r.slot->is_mini);
  return a;
}

AliveObject Registry::describe_plain(const void *ptr, const PlainRecord &r) const {
  AliveObject a;
  a.type = r.slot->name;
  a.is_mini = r.slot->is_mini;
  a.serial = r.serial;
  a.created_ns = r.created_ns;
  if (inspector_.refcount)
    a.refcount = inspector_.refcount(ptr, r.slot->is_mini);
  return a;
}

std::vector<AliveObject> Registry::alive(uint64_t since_serial, bool detailed_only) {
  std::vector<AliveObject> out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &entry : records_) {
      const ObjectRecord &r = entry.second;
      if (r.serial <= since_serial || flagged(r))
        continue;
      out.push_back(describe(r));
    }
  }
  if (!detailed_only) {
    for (Shard &sh : shards_) {
      std::lock_guard<std::mutex> lock(sh.mutex);
      for (const auto &entry : sh.records) {
        const PlainRecord &r = entry.second;
        if (r.serial <= since_serial ||
            (inspector_.may_be_leaked && inspector_.may_be_leaked(entry.first, r.slot->is_mini)))
          continue;
        out.push_back(describe_plain(entry.first, r));
      }
    }
  }
  std::sort(out.begin(), out.end(), by_serial);
  return out;
}

std::vector<AliveObject> Registry::alive_of_pipeline(uint64_t pipeline_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<AliveObject> out;
  for (const auto &entry : records_) {
    const ObjectRecord &r = entry.second;
    if (r.pipeline_id() == pipeline_id && !flagged(r))
      out.push_back(describe(r));
  }
  std::sort(out.begin(), out.end(), by_serial);
  return out;
}

uint64_t Registry::last_serial() const {
  return serial_.load(std::memory_order_relaxed);
}

size_t Registry::size() const {
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    n = records_.size();
  }
  for (Shard &sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mutex);
    n += sh.records.size();
  }
  return n;
}

}  // namespace leakwatch
