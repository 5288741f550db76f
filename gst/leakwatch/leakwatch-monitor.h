// Everything leakwatch knows, tied together: type counters, per-object records, pipeline
// lifecycles, process samples, trends, checkpoints and the data behind the reports.
//
// The tracer glue forwards GStreamer hooks here and turns results into GstStructures and bus
// messages; tests drive this class directly.
#pragma once

#include "leakwatch-counters.h"
#include "leakwatch-lifecycle.h"
#include "leakwatch-params.h"
#include "leakwatch-process.h"
#include "leakwatch-registry.h"
#include "leakwatch-series.h"
#include "leakwatch-trend.h"

#include <glib-object.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace leakwatch {

struct TypeCount {
  std::string type;
  bool is_mini = false;
  TypeMode mode = TypeMode::kCountOnly;
  uint64_t created = 0;
  uint64_t destroyed = 0;
  int64_t live = 0;
  int64_t peak = 0;
};

struct CheckpointResult {
  unsigned index = 0;
  double t_s = 0;
  // Detailed (resource-bearing) objects created since the previous checkpoint, still alive.
  std::vector<AliveObject> objects;
  // Live-count change per type since the previous checkpoint (non-zero entries only).
  std::map<std::string, int64_t> live_delta;
  std::map<std::string, int64_t> fds_delta;  // per class, every class present
  int64_t fds_total = 0, fds_total_delta = 0;
  std::map<std::string, int64_t> threads_delta;  // per group, non-zero entries only
  int64_t threads_total = 0, threads_total_delta = 0;
  int64_t rss = 0, rss_delta = 0;
  size_t pipelines_alive = 0;
};

struct ReportData {
  bool final = false;
  int pid = 0;
  double duration_s = 0;
  Params params;
  size_t samples = 0;
  std::vector<AliveObject> alive;  // objects with an entry, flagged ones left out
  std::vector<TypeCount> types;
  std::vector<PipelineInfo> pipelines;
  std::vector<Alert> alerts;
  std::vector<TrendState> trends;
  std::vector<double> times;
  std::map<std::string, std::vector<double>> series;
  ProcessSnapshot first, last;

  // Leaks, as judged at the final report: alive objects with an entry, live instances of
  // count-only mini-object types, pipelines finalized without reaching NULL.
  size_t leaked_objects() const;
  std::vector<TypeCount> leaked_count_only() const;
  size_t dropped_pipelines() const;
  bool has_leaks() const;
};

class Monitor {
 public:
  Monitor(const Params &params, Logger logger, Registry::Inspector inspector);
  Monitor(const Monitor &) = delete;
  Monitor &operator=(const Monitor &) = delete;

  const Params &params() const { return params_; }
  // Monotonic nanoseconds since the monitor was created (replaceable for tests).
  int64_t now_ns() const;
  void set_clock(std::function<int64_t()> clock) { clock_ = std::move(clock); }

  // --- hooks (any thread) ---
  void object_created(const void *ptr, GType type, const char *name, bool is_pipeline,
                      GObject *object);
  void object_destroyed(const void *ptr);
  // Hot path: one lock-free slot lookup and one relaxed atomic increment for count-only types.
  void mini_created(const void *ptr, GType type) {
    TypeSlot *s = types_.get(type, true);
    s->created.fetch_add(1, std::memory_order_relaxed);
    if (s->mode != TypeMode::kCountOnly)
      record_mini(ptr, s);
  }
  void mini_destroyed(const void *ptr, GType type) {
    TypeSlot *s = types_.get(type, true);
    if (s->mode == TypeMode::kCountOnly)
      s->destroyed.fetch_add(1, std::memory_order_relaxed);
    else if (registry_.remove(ptr) != nullptr)
      s->destroyed.fetch_add(1, std::memory_order_relaxed);
  }
  void object_named(const void *ptr, const char *name, bool is_pipeline);
  void added_to_bin(const void *bin, const void *element, bool element_is_pipeline);
  void removed_from_bin(const void *element);
  void pad_added(const void *element, const void *pad);
  // @element posted a have-context message whose context holds @object.
  void context_posted(const void *element, const void *object);
  void pipeline_state_changed(const void *ptr, int old_state, int new_state);
  void pipeline_change_failed(const void *ptr, int from, int to);

  // --- sampling, checkpoints, reports (any thread; serialized internally) ---
  // Takes one process sample, feeds series and trends, runs the grace checks.
  std::vector<Alert> sample();
  CheckpointResult checkpoint();
  ReportData report(bool final);
  // What the metrics endpoint serves: report(false) without the per-object list and the
  // sample series, so a scrape copies little.
  ReportData metrics_data();

  Lifecycle &lifecycle() { return lifecycle_; }
  Registry &registry() { return registry_; }
  TypeTable &types() { return types_; }

 private:
  void record_mini(const void *ptr, TypeSlot *slot);
  TypeMode classify(GType type, bool is_mini) const;
  Limit limit_for(const std::string &metric) const;
  std::map<std::string, int64_t> live_by_type() const;
  std::vector<std::pair<std::string, double>> metrics_of(const ProcessSnapshot &s);
  void grace_checks(int64_t now);

  Params params_;
  Logger logger_;
  std::function<int64_t()> clock_;
  int64_t start_us_ = 0;
  TypeTable types_;
  Registry registry_;
  Lifecycle lifecycle_;

  std::mutex sample_mutex_;  // everything below
  ProcessProbe probe_;
  SeriesStore series_;
  TrendBank trends_;
  std::map<std::string, double> known_metrics_;
  ProcessSnapshot first_;
  ProcessSnapshot last_;
  size_t samples_ = 0;
  std::atomic<bool> final_{false};
  unsigned checkpoints_ = 0;
  uint64_t checkpoint_serial_ = 0;
  ProcessSnapshot checkpoint_snapshot_;
  std::map<std::string, int64_t> checkpoint_live_;
};

}  // namespace leakwatch
