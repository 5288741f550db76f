#include "leakwatch-monitor.h"

#include <gst/gst.h>

#include <unistd.h>

#include <algorithm>
#include <set>

namespace leakwatch {

namespace {

// Resource-bearing GstObject types recorded one by one (and their subclasses).
const char *const kDetailedObjectTypes[] = {
    "GstElement",   "GstPad",       "GstBufferPool",  "GstAllocator",
    "GstBus",       "GstClock",     "GstVaDisplay",   "GstVaapiDisplay",
    "GstGLDisplay", "GstGLContext", "GstCudaContext",
};

// Mini-object types only counted: they pass by the million and carry no flag worth checking.
const char *const kCountOnlyMiniTypes[] = {
    "GstBuffer", "GstBufferList", "GstMemory", "GstEvent", "GstQuery", "GstMessage", "GstSample",
};

bool is_drm_class(const std::string &cls) {
  return cls == "drm-render" || cls == "drm-primary" || cls == "nvidia" || cls == "dmabuf";
}

}  // namespace

size_t ReportData::leaked_objects() const {
  return final ? alive.size() : 0;
}

std::vector<TypeCount> ReportData::leaked_count_only() const {
  std::vector<TypeCount> out;
  if (!final)
    return out;
  for (const TypeCount &t : types)
    if (t.mode == TypeMode::kCountOnly && t.live > 0)
      out.push_back(t);
  return out;
}

size_t ReportData::dropped_pipelines() const {
  size_t n = 0;
  for (const PipelineInfo &p : pipelines)
    if (p.verdict == PipelineVerdict::kDroppedWithoutNull)
      n++;
  return n;
}

bool ReportData::has_leaks() const {
  return leaked_objects() > 0 || !leaked_count_only().empty() || dropped_pipelines() > 0;
}

Monitor::Monitor(const Params &params, Logger logger, Registry::Inspector inspector)
    : params_(params),
      logger_(logger),
      start_us_(g_get_monotonic_time()),
      types_([this](GType t, bool mini) { return classify(t, mini); }),
      registry_(std::move(inspector)),
      lifecycle_(logger),
      probe_(params.nvml),
      series_(params.history),
      trends_(params.window, [this](const std::string &m) { return limit_for(m); }) {
  first_ = probe_.sample();
  last_ = first_;
  checkpoint_snapshot_ = first_;
}

int64_t Monitor::now_ns() const {
  if (clock_)
    return clock_();
  return (g_get_monotonic_time() - start_us_) * 1000;
}

TypeMode Monitor::classify(GType type, bool is_mini) const {
  for (const std::string &t : params_.track)
    if (type_is_a_named(type, t.c_str()))
      return TypeMode::kDetailed;
  if (is_mini) {
    for (const char *name : kCountOnlyMiniTypes)
      if (type_is_a_named(type, name))
        return TypeMode::kCountOnly;
    return TypeMode::kPointer;
  }
  for (const char *name : kDetailedObjectTypes)
    if (type_is_a_named(type, name))
      return TypeMode::kDetailed;
  return TypeMode::kPointer;
}

Limit Monitor::limit_for(const std::string &metric) const {
  if (metric == "rss")
    return {params_.rss_slope, params_.rss_growth};
  if (metric.rfind("fds/", 0) == 0)
    return {0, is_drm_class(metric.substr(4)) ? params_.fd_growth : params_.fd_other_growth};
  if (metric.rfind("threads/", 0) == 0)
    return {params_.thread_slope, params_.thread_growth};
  if (metric.rfind("gpu/", 0) == 0 || metric == "nvml")
    return {params_.gpu_slope, params_.gpu_growth};
  return {0, params_.object_growth};
}

void Monitor::object_created(const void *ptr, GType type, const char *name, bool is_pipeline,
                             GObject *object) {
  TypeSlot *slot = types_.get(type, false);
  std::string stack;
  if (params_.stack && slot->mode == TypeMode::kDetailed) {
    g_autofree gchar *s = gst_debug_get_stack_trace(GST_STACK_TRACE_SHOW_FULL);
    if (s != nullptr)
      stack = s;
  }
  const int64_t now = now_ns();
  registry_.add(ptr, slot, name, now, std::move(stack));
  slot->created.fetch_add(1, std::memory_order_relaxed);
  slot->observe_peak(slot->live());
  if (is_pipeline) {
    uint64_t id = registry_.mark_pipeline(ptr);
    lifecycle_.created(ptr, object, id, name ? name : "(unnamed)", now);
  }
}

void Monitor::object_destroyed(const void *ptr) {
  TypeSlot *slot = registry_.remove(ptr);
  if (slot == nullptr)
    return;  // created before leakwatch
  slot->destroyed.fetch_add(1, std::memory_order_relaxed);
  lifecycle_.destroyed(ptr, now_ns());
}

void Monitor::record_mini(const void *ptr, TypeSlot *slot) {
  std::string name;
  if (slot->mode == TypeMode::kDetailed) {
    // Mini objects have no name: a tracked one is named by its type and address.
    char buf[64];
    g_snprintf(buf, sizeof(buf), "%s@%p", slot->name.c_str(), ptr);
    name = buf;
  }
  registry_.add(ptr, slot, name.empty() ? nullptr : name.c_str(), now_ns(), std::string());
  slot->observe_peak(slot->live());
}

void Monitor::object_named(const void *ptr, const char *name, bool is_pipeline) {
  registry_.rename(ptr, name);
  if (is_pipeline && name != nullptr) {
    registry_.mark_pipeline(ptr);
    lifecycle_.renamed(ptr, name);
  }
}

void Monitor::added_to_bin(const void *bin, const void *element, bool element_is_pipeline) {
  registry_.set_parent(element, bin);
  if (element_is_pipeline)
    lifecycle_.nested(element);
}

void Monitor::removed_from_bin(const void *element) {
  registry_.detach(element);
}

void Monitor::pad_added(const void *element, const void *pad) {
  registry_.set_parent(pad, element);
}

void Monitor::context_posted(const void *element, const void *object) {
  registry_.note_pipeline_of(object, element);
}

void Monitor::pipeline_state_changed(const void *ptr, int old_state, int new_state) {
  lifecycle_.state_changed(ptr, old_state, new_state, now_ns());
}

void Monitor::pipeline_change_failed(const void *ptr, int from, int to) {
  lifecycle_.change_failed(ptr, from, to, now_ns());
}

std::map<std::string, int64_t> Monitor::live_by_type() const {
  std::map<std::string, int64_t> out;
  for (TypeSlot *s : types_.slots()) {
    int64_t live = s->live();
    s->observe_peak(live);
    out[s->name] += live;
  }
  return out;
}

std::vector<std::pair<std::string, double>> Monitor::metrics_of(const ProcessSnapshot &s) {
  std::vector<std::pair<std::string, double>> v;
  v.emplace_back("rss", static_cast<double>(s.rss));
  v.emplace_back("fds/total", static_cast<double>(s.fds_total));
  for (int c = 0; c < kFdClassCount; ++c)
    v.emplace_back(std::string("fds/") + fd_class_name(static_cast<FdClass>(c)),
                   static_cast<double>(s.fds[c]));
  v.emplace_back("threads/total", static_cast<double>(s.threads_total));
  for (const auto &t : s.threads)
    v.emplace_back("threads/" + t.first, static_cast<double>(t.second));
  for (const auto &g : s.gpu)
    v.emplace_back("gpu/" + g.first, static_cast<double>(g.second));
  if (s.nvml >= 0)
    v.emplace_back("nvml", static_cast<double>(s.nvml));
  return v;
}

void Monitor::grace_checks(int64_t now) {
  // At the final report the process is ending: every pending judgement is due.
  const int64_t grace = final_ ? -1 : static_cast<int64_t>(params_.grace_s * 1e9);
  for (const auto &due : lifecycle_.due_after_null(now, grace)) {
    // refcount() reads the pipeline under the registry lock, only while it has an entry.
    int rc = registry_.refcount(due.second);
    lifecycle_.judge_alive_after_null(due.first, rc, now);
  }
  for (uint64_t id : lifecycle_.due_orphan_check(now, grace)) {
    std::vector<AliveObject> orphans = registry_.alive_of_pipeline(id);
    std::string examples;
    for (size_t i = 0; i < orphans.size() && i < 5; ++i)
      examples += (i ? ", " : "") + orphans[i].type + " '" + orphans[i].name + "'";
    lifecycle_.judge_orphans(id, orphans.size(), examples);
  }
}

std::vector<Alert> Monitor::sample() {
  std::lock_guard<std::mutex> lock(sample_mutex_);
  const int64_t now = now_ns();
  const double t_s = static_cast<double>(now) / 1e9;
  ProcessSnapshot snap = probe_.sample();
  std::vector<std::pair<std::string, double>> values = metrics_of(snap);

  // Object counts: every type seen for the series, tracked (detailed) types for trends.
  std::vector<std::pair<std::string, double>> object_values;
  for (TypeSlot *s : types_.slots()) {
    int64_t live = s->live();
    s->observe_peak(live);
    if (live > 0 || s->peak.load(std::memory_order_relaxed) > 0)
      object_values.emplace_back("objects/" + s->name, static_cast<double>(live));
  }

  // Metrics seen before but absent now (a thread group that ended) read 0.
  for (auto &kv : known_metrics_)
    kv.second = 0;
  for (const auto &kv : values)
    known_metrics_[kv.first] = kv.second;
  std::vector<std::pair<std::string, double>> trend_values(known_metrics_.begin(),
                                                           known_metrics_.end());
  std::set<std::string> detailed;
  for (TypeSlot *s : types_.slots())
    if (s->mode == TypeMode::kDetailed)
      detailed.insert("objects/" + s->name);
  for (const auto &kv : object_values)
    if (detailed.count(kv.first) != 0)
      trend_values.push_back(kv);

  values.insert(values.end(), object_values.begin(), object_values.end());
  series_.append(t_s, values);
  std::vector<Alert> alerts = trends_.add(t_s, trend_values);
  last_ = snap;
  samples_++;
  grace_checks(now);
  for (const Alert &a : alerts) {
    char buf[256];
    g_snprintf(buf, sizeof(buf),
               "trend alert: %s grows %.6g per minute, +%.6g over the last %zu samples (%.1f s)",
               a.metric.c_str(), a.slope_per_minute, a.growth, a.window, a.window_s);
    if (logger_)
      logger_(GST_LEVEL_WARNING, buf);
  }
  return alerts;
}

CheckpointResult Monitor::checkpoint() {
  std::lock_guard<std::mutex> lock(sample_mutex_);
  CheckpointResult r;
  r.index = ++checkpoints_;
  r.t_s = static_cast<double>(now_ns()) / 1e9;
  const uint64_t serial_now = registry_.last_serial();
  r.objects = registry_.alive(checkpoint_serial_, true);
  checkpoint_serial_ = serial_now;

  std::map<std::string, int64_t> live = live_by_type();
  for (const auto &kv : live) {
    auto prev = checkpoint_live_.find(kv.first);
    int64_t d = kv.second - (prev == checkpoint_live_.end() ? 0 : prev->second);
    if (d != 0)
      r.live_delta[kv.first] = d;
  }
  checkpoint_live_ = live;

  ProcessSnapshot snap = probe_.sample();
  const ProcessSnapshot &prev = checkpoint_snapshot_;
  for (int c = 0; c < kFdClassCount; ++c)
    r.fds_delta[fd_class_name(static_cast<FdClass>(c))] = snap.fds[c] - prev.fds[c];
  r.fds_total = snap.fds_total;
  r.fds_total_delta = snap.fds_total - prev.fds_total;
  std::map<std::string, int64_t> groups;
  for (const auto &t : prev.threads)
    groups[t.first] -= t.second;
  for (const auto &t : snap.threads)
    groups[t.first] += t.second;
  for (const auto &g : groups)
    if (g.second != 0)
      r.threads_delta[g.first] = g.second;
  r.threads_total = snap.threads_total;
  r.threads_total_delta = snap.threads_total - prev.threads_total;
  r.rss = snap.rss;
  r.rss_delta = snap.rss - prev.rss;
  r.pipelines_alive = lifecycle_.live_count();
  checkpoint_snapshot_ = snap;
  return r;
}

ReportData Monitor::report(bool final) {
  if (final) {
    // At gst_deinit() nothing is being finalized any more: names can be read again (objects
    // renamed after creation, e.g. gst_object_set_name() on a parsed pipeline).
    registry_.refresh_names();
    for (const PipelineInfo &p : lifecycle_.snapshot())
      if (p.destroyed_ns < 0 && p.ptr != nullptr)
        lifecycle_.renamed(p.ptr, registry_.name_of(p.ptr));
    // One last sample so the series ends now, and the grace checks see the final state.
    final_ = true;
    sample();
  }
  std::lock_guard<std::mutex> lock(sample_mutex_);
  ReportData d;
  d.final = final;
  d.pid = static_cast<int>(getpid());
  d.duration_s = static_cast<double>(now_ns()) / 1e9;
  d.params = params_;
  d.samples = samples_;
  d.alive = registry_.alive(0, false);
  for (TypeSlot *s : types_.slots()) {
    TypeCount t;
    t.type = s->name;
    t.is_mini = s->is_mini;
    t.mode = s->mode;
    t.created = s->created.load(std::memory_order_relaxed);
    t.destroyed = s->destroyed.load(std::memory_order_relaxed);
    t.live = s->live();
    s->observe_peak(t.live);
    t.peak = s->peak.load(std::memory_order_relaxed);
    d.types.push_back(t);
  }
  std::sort(d.types.begin(), d.types.end(),
            [](const TypeCount &a, const TypeCount &b) { return a.type < b.type; });
  d.pipelines = lifecycle_.snapshot();
  d.alerts = trends_.history();
  d.trends = trends_.states();
  d.times = series_.times();
  d.series = series_.columns();
  d.first = first_;
  d.last = last_;
  return d;
}

ReportData Monitor::metrics_data() {
  std::lock_guard<std::mutex> lock(sample_mutex_);
  ReportData d;
  d.pid = static_cast<int>(getpid());
  d.duration_s = static_cast<double>(now_ns()) / 1e9;
  d.params = params_;
  d.samples = samples_;
  for (TypeSlot *s : types_.slots()) {
    TypeCount t;
    t.type = s->name;
    t.is_mini = s->is_mini;
    t.mode = s->mode;
    t.created = s->created.load(std::memory_order_relaxed);
    t.destroyed = s->destroyed.load(std::memory_order_relaxed);
    t.live = s->live();
    t.peak = s->peak.load(std::memory_order_relaxed);
    d.types.push_back(t);
  }
  std::sort(d.types.begin(), d.types.end(),
            [](const TypeCount &a, const TypeCount &b) { return a.type < b.type; });
  d.pipelines = lifecycle_.snapshot();
  d.alerts = trends_.history();
  d.trends = trends_.states();
  d.last = last_;
  return d;
}

}  // namespace leakwatch
