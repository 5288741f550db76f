#include "leakwatch-lifecycle.h"

#include <gst/gst.h>

#include <cstdio>

namespace leakwatch {

const char *verdict_name(PipelineVerdict v) {
  switch (v) {
    case PipelineVerdict::kOk:
      return "ok";
    case PipelineVerdict::kDroppedWithoutNull:
      return "finalized-without-null";
    case PipelineVerdict::kAliveAfterNull:
      return "alive-after-null";
    case PipelineVerdict::kOrphans:
      return "objects-outlived-pipeline";
  }
  return "ok";
}

const char *state_name(int state) {
  return gst_element_state_get_name(static_cast<GstState>(state));
}

std::string format_seconds(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

Lifecycle::Lifecycle(Logger logger, size_t max_destroyed_kept)
    : logger_(std::move(logger)), max_destroyed_kept_(max_destroyed_kept) {}

Lifecycle::~Lifecycle() {
  for (auto &e : entries_)
    if (e.second->weak_set)
      g_weak_ref_clear(&e.second->weak);
}

void Lifecycle::log(int level, const std::string &msg) const {
  if (logger_)
    logger_(level, msg);
}

PipelineInfo *Lifecycle::find_live(const void *ptr) {
  auto it = live_.find(ptr);
  if (it == live_.end())
    return nullptr;
  return find_id(it->second);
}

PipelineInfo *Lifecycle::find_id(uint64_t id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second->info;
}

void Lifecycle::created(const void *ptr, GObject *object, uint64_t id, const std::string &name,
                        int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto entry = std::make_unique<Entry>();
  entry->info.id = id;
  entry->info.name = name;
  entry->info.ptr = ptr;
  entry->info.created_ns = now_ns;
  if (object != nullptr) {
    g_weak_ref_init(&entry->weak, object);
    entry->weak_set = true;
  }
  entries_[id] = std::move(entry);
  live_[ptr] = id;
  log(GST_LEVEL_INFO, "Pipeline lifecycle: CREATED '" + name + "'");
}

void Lifecycle::renamed(const void *ptr, const std::string &name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (PipelineInfo *p = find_live(ptr))
    p->name = name;
}

void Lifecycle::state_changed(const void *ptr, int old_state, int new_state, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  PipelineInfo *p = find_live(ptr);
  if (p == nullptr || !p->toplevel)
    return;
  if (p->transitions.size() < kMaxTransitions)
    p->transitions.push_back({now_ns, old_state, new_state});
  else
    p->dropped_transitions++;
  p->state = new_state;
  if (new_state > p->max_state)
    p->max_state = new_state;
  const std::string age = format_seconds(now_ns - p->created_ns);
  if (new_state == GST_STATE_NULL) {
    p->null_ns = now_ns;
    log(GST_LEVEL_INFO,
        "Pipeline lifecycle: '" + p->name + "' reached NULL " + age + " after creation");
  } else {
    if (p->verdict == PipelineVerdict::kAliveAfterNull)
      p->verdict = PipelineVerdict::kOk;  // back in use: it was not abandoned
    p->null_ns = -1;
    log(GST_LEVEL_INFO, std::string("Pipeline lifecycle: '") + p->name + "' " +
                            state_name(old_state) + " -> " + state_name(new_state) + " at +" + age);
  }
}

void Lifecycle::change_failed(const void *ptr, int from, int to, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  PipelineInfo *p = find_live(ptr);
  if (p == nullptr)
    return;
  log(GST_LEVEL_WARNING, std::string("Pipeline lifecycle: '") + p->name + "' state change " +
                             state_name(from) + " -> " + state_name(to) + " FAILED at +" +
                             format_seconds(now_ns - p->created_ns));
}

void Lifecycle::nested(const void *ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (PipelineInfo *p = find_live(ptr))
    p->toplevel = false;
}

void Lifecycle::destroyed(const void *ptr, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end())
    return;
  const uint64_t id = it->second;
  live_.erase(it);
  auto e = entries_.find(id);
  if (e == entries_.end())
    return;
  if (e->second->weak_set) {
    g_weak_ref_clear(&e->second->weak);
    e->second->weak_set = false;
  }
  PipelineInfo &p = e->second->info;
  p.destroyed_ns = now_ns;
  p.ptr = nullptr;
  const std::string life = format_seconds(now_ns - p.created_ns);
  if (p.toplevel && p.state != GST_STATE_NULL) {
    p.verdict = PipelineVerdict::kDroppedWithoutNull;
    p.state_at_drop = p.state;
    log(GST_LEVEL_WARNING, std::string("Pipeline lifecycle: DESTROYED '") + p.name +
                               "' without reaching NULL (it was " + state_name(p.state) +
                               ") after " + life);
  } else {
    std::string extra;
    if (p.null_ns >= 0)
      extra = ", " + format_seconds(now_ns - p.null_ns) + " after NULL";
    log(GST_LEVEL_INFO, "Pipeline lifecycle: DESTROYED '" + p.name + "' after " + life + extra);
  }
  trim_destroyed();
}

void Lifecycle::trim_destroyed() {
  size_t destroyed = entries_.size() - live_.size();
  for (auto it = entries_.begin(); destroyed > max_destroyed_kept_ && it != entries_.end();) {
    const PipelineInfo &p = it->second->info;
    if (p.destroyed_ns >= 0 && p.verdict == PipelineVerdict::kOk && p.orphans_checked) {
      it = entries_.erase(it);
      destroyed--;
      trimmed_++;
    } else {
      ++it;
    }
  }
}

std::vector<std::pair<uint64_t, const void *>> Lifecycle::due_after_null(int64_t now_ns,
                                                                         int64_t grace_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<uint64_t, const void *>> out;
  for (const auto &l : live_) {
    const PipelineInfo *p = find_id(l.second);
    if (p != nullptr && p->toplevel && p->null_ns >= 0 && p->verdict == PipelineVerdict::kOk &&
        now_ns - p->null_ns > grace_ns)
      out.emplace_back(p->id, l.first);
  }
  return out;
}

void Lifecycle::judge_alive_after_null(uint64_t id, int refcount, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  PipelineInfo *p = find_id(id);
  if (p == nullptr || refcount < 0 || p->destroyed_ns >= 0 || p->null_ns < 0)
    return;
  p->verdict = PipelineVerdict::kAliveAfterNull;
  p->refcount_after_null = refcount;
  log(GST_LEVEL_WARNING, "Pipeline lifecycle: '" + p->name + "' reached NULL " +
                             format_seconds(now_ns - p->null_ns) +
                             " ago and is still alive (refcount " + std::to_string(refcount) + ")");
}

std::vector<uint64_t> Lifecycle::due_orphan_check(int64_t now_ns, int64_t grace_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<uint64_t> out;
  for (const auto &e : entries_) {
    const PipelineInfo &p = e.second->info;
    if (p.destroyed_ns >= 0 && !p.orphans_checked && now_ns - p.destroyed_ns > grace_ns)
      out.push_back(p.id);
  }
  return out;
}

void Lifecycle::judge_orphans(uint64_t id, size_t count, const std::string &examples) {
  std::lock_guard<std::mutex> lock(mutex_);
  PipelineInfo *p = find_id(id);
  if (p == nullptr)
    return;
  p->orphans_checked = true;
  if (count == 0)
    return;
  p->orphans = count;
  p->orphan_examples = examples;
  if (p->verdict == PipelineVerdict::kOk)
    p->verdict = PipelineVerdict::kOrphans;
  log(GST_LEVEL_WARNING, "Pipeline lifecycle: '" + p->name + "' was destroyed but " +
                             std::to_string(count) +
                             " of its objects are still alive: " + examples);
  trim_destroyed();
}

std::vector<GObject *> Lifecycle::live_pipelines() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<GObject *> out;
  for (const auto &l : live_) {
    auto e = entries_.find(l.second);
    if (e == entries_.end() || !e->second->weak_set || !e->second->info.toplevel)
      continue;
    if (gpointer obj = g_weak_ref_get(&e->second->weak))
      out.push_back(G_OBJECT(obj));
  }
  return out;
}

std::vector<PipelineInfo> Lifecycle::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<PipelineInfo> out;
  for (const auto &e : entries_)
    if (e.second->info.toplevel)
      out.push_back(e.second->info);
  return out;
}

size_t Lifecycle::live_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_.size();
}

}  // namespace leakwatch
