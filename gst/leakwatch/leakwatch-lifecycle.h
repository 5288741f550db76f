// Lifecycle of every top-level pipeline: CREATED, state transitions, NULL, DESTROYED, and the
// verdicts drawn from them (finalized without reaching NULL, alive after NULL past the grace
// period, objects that outlived their destroyed pipeline).
//
// The tracker holds a GWeakRef per live pipeline so alerts can be posted on its bus without
// racing its finalization; everything else is plain data with explicit timestamps, so tests
// drive the grace logic with synthetic times.
#pragma once

#include <glib-object.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace leakwatch {

// Log sink: level is a GstDebugLevel value (GST_LEVEL_INFO, GST_LEVEL_WARNING...).
using Logger = std::function<void(int level, const std::string &message)>;

struct Transition {
  int64_t t_ns = 0;
  int from = 0;  // GstState
  int to = 0;
};

enum class PipelineVerdict {
  kOk,                  // nothing wrong seen (yet)
  kDroppedWithoutNull,  // finalized while not in NULL
  kAliveAfterNull,      // reached NULL, still alive after the grace period
  kOrphans,             // destroyed, but objects that belonged to it are still alive
};
const char *verdict_name(PipelineVerdict v);
const char *state_name(int state);

struct PipelineInfo {
  uint64_t id = 0;
  std::string name;
  const void *ptr = nullptr;
  int64_t created_ns = 0;
  int64_t null_ns = -1;       // last time it reached NULL after having left it
  int64_t destroyed_ns = -1;  // -1 = alive
  int state = 1;              // GST_STATE_NULL
  int max_state = 1;
  bool toplevel = true;
  std::vector<Transition> transitions;  // capped, see kMaxTransitions
  size_t dropped_transitions = 0;
  PipelineVerdict verdict = PipelineVerdict::kOk;
  int refcount_after_null = -1;  // for kAliveAfterNull
  int state_at_drop = 0;         // for kDroppedWithoutNull
  size_t orphans = 0;            // for kOrphans
  std::string orphan_examples;
  bool orphans_checked = false;
};

class Lifecycle {
 public:
  static constexpr size_t kMaxTransitions = 256;

  Lifecycle(Logger logger, size_t max_destroyed_kept = 1000);
  ~Lifecycle();
  Lifecycle(const Lifecycle &) = delete;
  Lifecycle &operator=(const Lifecycle &) = delete;

  // @object (may be null in tests) gets a weak reference for live_pipelines().
  void created(const void *ptr, GObject *object, uint64_t id, const std::string &name,
               int64_t now_ns);
  void renamed(const void *ptr, const std::string &name);
  void state_changed(const void *ptr, int old_state, int new_state, int64_t now_ns);
  void change_failed(const void *ptr, int from, int to, int64_t now_ns);
  void nested(const void *ptr);  // added to another bin: not a top-level pipeline
  void destroyed(const void *ptr, int64_t now_ns);

  // Pipelines in NULL for longer than @grace_ns without being destroyed and not yet judged.
  std::vector<std::pair<uint64_t, const void *>> due_after_null(int64_t now_ns, int64_t grace_ns);
  // Records the verdict for one of them (@refcount < 0: it was destroyed meanwhile).
  void judge_alive_after_null(uint64_t id, int refcount, int64_t now_ns);
  // Destroyed pipelines whose grace period has passed and were not checked for orphans.
  std::vector<uint64_t> due_orphan_check(int64_t now_ns, int64_t grace_ns);
  void judge_orphans(uint64_t id, size_t count, const std::string &examples);

  // Strong references to every live top-level pipeline (caller unrefs).
  std::vector<GObject *> live_pipelines();
  std::vector<PipelineInfo> snapshot() const;
  size_t live_count() const;

 private:
  PipelineInfo *find_live(const void *ptr);
  PipelineInfo *find_id(uint64_t id);
  void log(int level, const std::string &msg) const;
  void trim_destroyed();

  struct Entry {
    PipelineInfo info;
    GWeakRef weak;
    bool weak_set = false;
  };

  Logger logger_;
  size_t max_destroyed_kept_;
  mutable std::mutex mutex_;
  std::map<uint64_t, std::unique_ptr<Entry>> entries_;  // by id (creation order)
  std::map<const void *, uint64_t> live_;
  size_t trimmed_ = 0;
};

std::string format_seconds(int64_t ns);

}  // namespace leakwatch
