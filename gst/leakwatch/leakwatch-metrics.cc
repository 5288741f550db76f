#include "leakwatch-metrics.h"

#include <glib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace leakwatch {
namespace metrics {

const char *content_type(Format f) {
  return f == Format::kOpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                   : "text/plain; version=0.0.4; charset=utf-8";
}

Format negotiate(const std::string &accept) {
  std::string lower = accept;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(g_ascii_tolower(c)); });
  return lower.find("application/openmetrics-text") != std::string::npos ? Format::kOpenMetrics
                                                                         : Format::kPrometheus;
}

std::string sanitize_name(const std::string &name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (unsigned char c : name)
    out += (g_ascii_isalnum(c) || c == '_') ? static_cast<char>(c) : '_';
  if (out.empty() || g_ascii_isdigit(out[0]))
    out.insert(out.begin(), '_');
  return out;
}

std::string escape_label_value(const std::string &value) {
  // Bytes that are not UTF-8 become U+FFFD: both formats require UTF-8 label values.
  gchar *valid = g_utf8_make_valid(value.data(), static_cast<gssize>(value.size()));
  std::string out;
  out.reserve(value.size() + 8);
  for (const char *p = valid; *p; ++p) {
    switch (*p) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += *p;
    }
  }
  g_free(valid);
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  // The shortest of %.15g..%.17g that reads back exactly, with '.' whatever the locale.
  for (int precision = 15; precision <= 17; ++precision) {
    g_ascii_formatd(buf, sizeof(buf),
                    precision == 15   ? "%.15g"
                    : precision == 16 ? "%.16g"
                                      : "%.17g",
                    v);
    if (g_ascii_strtod(buf, nullptr) == v)
      break;
  }
  return buf;
}

Family &Exposition::family(const std::string &name, Type type, const std::string &help,
                           const std::string &unit) {
  std::string clean = sanitize_name(name);
  for (Family &f : families_)
    if (f.name == clean)
      return f;
  Family f;
  f.name = clean;
  f.type = type;
  f.help = help;
  f.unit = unit;
  families_.push_back(std::move(f));
  return families_.back();
}

size_t Exposition::series() const {
  size_t n = 0;
  for (const Family &f : families_)
    n += f.samples.size();
  return n;
}

namespace {

// 0.0.4 escapes backslash and newline in HELP; OpenMetrics also the double quote.
std::string escape_help(const std::string &help, bool om) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && om)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

void append_labels(std::string &out, const Labels &labels) {
  if (labels.empty())
    return;
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i)
      out += ',';
    out += sanitize_name(labels[i].first);
    out += "=\"";
    out += escape_label_value(labels[i].second);
    out += '"';
  }
  out += '}';
}

}  // namespace

std::string Exposition::render(Format format) const {
  std::string out;
  out.reserve(64 * series() + 128 * families_.size());
  const bool om = format == Format::kOpenMetrics;
  for (const Family &f : families_) {
    if (f.samples.empty())
      continue;
    const bool counter = f.type == Type::kCounter;
    const std::string sample_name = counter ? f.name + "_total" : f.name;
    // 0.0.4 names the family by its sample name; OpenMetrics without the _total suffix.
    const std::string &family_name = om ? f.name : sample_name;
    out += "# HELP " + family_name + " " + escape_help(f.help, om) + "\n";
    out += "# TYPE " + family_name + (counter ? " counter\n" : " gauge\n");
    if (om && !f.unit.empty())
      out += "# UNIT " + family_name + " " + f.unit + "\n";
    for (const Sample &s : f.samples) {
      out += sample_name;
      append_labels(out, s.labels);
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  if (om)
    out += "# EOF\n";
  return out;
}

ProcessStat read_process_stat() {
  ProcessStat st;
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may contain anything.
  size_t close = text.rfind(')');
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (close != std::string::npos && ticks > 0) {
    std::istringstream fields(text.substr(close + 2));
    std::vector<std::string> f;
    std::string word;
    while (fields >> word)
      f.push_back(word);
    // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23.
    if (f.size() > 20) {
      st.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      std::ifstream proc_stat("/proc/stat");
      std::string key;
      double btime = -1;
      while (proc_stat >> key) {
        if (key == "btime") {
          proc_stat >> btime;
          break;
        }
      }
      if (btime >= 0)
        st.start_time = btime + std::stod(f[19]) / ticks;
      st.virtual_bytes = std::stod(f[20]);
    }
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    st.max_fds = static_cast<double>(rl.rlim_cur);
  return st;
}

namespace {

void add_process(Exposition &e, const Input &in) {
  const ProcessSnapshot &s = in.last;
  if (in.stat.cpu_seconds >= 0)
    e.add(e.family("process_cpu_seconds", Type::kCounter, "User and system CPU time spent.",
                   "seconds"),
          {}, in.stat.cpu_seconds);
  if (in.stat.start_time >= 0)
    e.add(e.family("process_start_time_seconds", Type::kGauge,
                   "Start time of the process since the Unix epoch.", "seconds"),
          {}, in.stat.start_time);
  if (in.stat.virtual_bytes >= 0)
    e.add(e.family("process_virtual_memory_bytes", Type::kGauge, "Virtual memory size.", "bytes"),
          {}, in.stat.virtual_bytes);
  if (in.stat.max_fds >= 0)
    e.add(e.family("process_max_fds", Type::kGauge, "Limit on open file descriptors."), {},
          in.stat.max_fds);
  if (in.samples == 0)
    return;  // nothing sampled yet: no invented zeros
  e.add(e.family("process_resident_memory_bytes", Type::kGauge,
                 "Resident set size at leakwatch's latest sample.", "bytes"),
        {}, static_cast<double>(s.rss));
  e.add(e.family("process_open_fds", Type::kGauge,
                 "Open file descriptors at leakwatch's latest sample."),
        {}, static_cast<double>(s.fds_total));
  Family &fds = e.family("leakwatch_open_fds", Type::kGauge,
                         "Open file descriptors by class (drm-render, drm-primary, nvidia, "
                         "dmabuf, socket, pipe, eventfd, file, other).");
  for (int c = 0; c < kFdClassCount; ++c)
    e.add(fds, {{"class", fd_class_name(static_cast<FdClass>(c))}}, static_cast<double>(s.fds[c]));
  e.add(e.family("leakwatch_process_threads", Type::kGauge, "Threads of the process."), {},
        static_cast<double>(s.threads_total));
  Family &threads = e.family("leakwatch_threads", Type::kGauge,
                             "Threads by name class (runs of digits folded into '#').");
  for (const auto &t : s.threads)
    e.add(threads, {{"group", t.first}}, static_cast<double>(t.second));
  Family &gpu = e.family("leakwatch_gpu_memory_bytes", Type::kGauge,
                         "GPU memory of this process by DRM driver (fdinfo) and NVML.", "bytes");
  for (const auto &g : s.gpu) {
    const std::string suffix = "-resident";
    bool resident = g.first.size() > suffix.size() &&
                    g.first.compare(g.first.size() - suffix.size(), suffix.size(), suffix) == 0;
    std::string driver = resident ? g.first.substr(0, g.first.size() - suffix.size()) : g.first;
    e.add(gpu, {{"driver", driver}, {"kind", resident ? "resident" : "total"}},
          static_cast<double>(g.second));
  }
  if (s.nvml >= 0)
    e.add(gpu, {{"driver", "nvidia"}, {"kind", "nvml-used"}}, static_cast<double>(s.nvml));
}

void add_types(Exposition &e, const Input &in) {
  std::vector<const TypeCount *> types;
  for (const TypeCount &t : in.types)
    types.push_back(&t);
  size_t keep = types.size();
  if (in.max_types > 0 && types.size() > in.max_types) {
    // The types with most live objects (then most created) keep their own rows.
    std::stable_sort(types.begin(), types.end(), [](const TypeCount *a, const TypeCount *b) {
      return a->live != b->live ? a->live > b->live : a->created > b->created;
    });
    keep = in.max_types;
  }
  Family &live = e.family("leakwatch_objects_live", Type::kGauge,
                          "Live GstObject and GstMiniObject instances by GType.");
  Family &created = e.family("leakwatch_objects_created", Type::kCounter,
                             "GstObject and GstMiniObject instances created, by GType.");
  for (size_t i = 0; i < keep; ++i) {
    e.add(live, {{"type", types[i]->type}}, static_cast<double>(types[i]->live));
    e.add(created, {{"type", types[i]->type}}, static_cast<double>(types[i]->created));
  }
  if (keep < types.size()) {
    double other_live = 0, other_created = 0;
    for (size_t i = keep; i < types.size(); ++i) {
      other_live += static_cast<double>(types[i]->live);
      other_created += static_cast<double>(types[i]->created);
    }
    e.add(live, {{"type", "other"}}, other_live);
    e.add(created, {{"type", "other"}}, other_created);
  }
  e.add(e.family("leakwatch_object_types", Type::kGauge,
                 "GTypes seen (the bound metrics-max-types folds the rest into type=\"other\")."),
        {}, static_cast<double>(types.size()));
}

void add_pipelines(Exposition &e, const Input &in) {
  size_t alive = 0, in_null = 0;
  std::map<std::string, size_t> verdicts;
  for (int v = 0; v <= static_cast<int>(PipelineVerdict::kOrphans); ++v)
    verdicts[verdict_name(static_cast<PipelineVerdict>(v))] = 0;
  Family &state = e.family("leakwatch_pipeline_state", Type::kGauge,
                           "Current GstState of each live top-level pipeline (1 NULL, 2 READY, "
                           "3 PAUSED, 4 PLAYING).");
  for (const PipelineInfo &p : in.pipelines) {
    if (!p.toplevel)
      continue;
    verdicts[verdict_name(p.verdict)]++;
    if (p.destroyed_ns >= 0)
      continue;
    alive++;
    if (p.state == 1 && p.null_ns >= 0)
      in_null++;
    e.add(state, {{"pipeline", p.name}, {"id", std::to_string(p.id)}}, p.state);
  }
  e.add(e.family("leakwatch_pipelines_alive", Type::kGauge, "Top-level pipelines alive."), {},
        static_cast<double>(alive));
  e.add(e.family("leakwatch_pipelines_in_null", Type::kGauge,
                 "Live top-level pipelines back in NULL after having run (waiting to be freed)."),
        {}, static_cast<double>(in_null));
  Family &v = e.family("leakwatch_pipelines_by_verdict", Type::kGauge,
                       "Pipelines leakwatch remembers, by verdict (ok, dropped-without-null, "
                       "alive-after-null, orphans).");
  for (const auto &kv : verdicts)
    e.add(v, {{"verdict", kv.first}}, static_cast<double>(kv.second));
}

void add_trends(Exposition &e, const Input &in) {
  Family &alert = e.family("leakwatch_trend_alert", Type::kGauge,
                           "1 while leakwatch's trend estimator judges the series as growing.");
  Family &slope = e.family("leakwatch_trend_slope_per_minute", Type::kGauge,
                           "Theil-Sen slope of the series per minute over the last window, per "
                           "scale (samples per point).");
  for (const TrendState &t : in.trends) {
    e.add(alert, {{"series", t.metric}}, t.alerting ? 1 : 0);
    for (const auto &sc : t.scale_slopes)
      e.add(slope, {{"series", t.metric}, {"scale", std::to_string(sc.first)}}, sc.second);
  }
  e.add(e.family("leakwatch_samples", Type::kCounter, "Process samples taken."), {},
        static_cast<double>(in.samples));
  e.add(e.family("leakwatch_sample_interval_seconds", Type::kGauge,
                 "Configured sampling interval (0: only on sample-now).", "seconds"),
        {}, in.interval_s);
}

void add_elements(Exposition &e, const Input &in) {
  for (const ElementValue &v : in.elements.values)
    e.add(e.family(v.family, v.type, v.help), v.labels, v.value);
  e.add(e.family("leakwatch_metrics_element_series_omitted", Type::kGauge,
                 "Element series left out of this scrape by metrics-max-element-series."),
        {}, static_cast<double>(in.elements.omitted));
}

}  // namespace

Exposition build_exposition(const Input &in) {
  Exposition e;
  add_process(e, in);
  add_types(e, in);
  add_pipelines(e, in);
  add_trends(e, in);
  add_elements(e, in);
  return e;
}

}  // namespace metrics
}  // namespace leakwatch
