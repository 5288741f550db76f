#include "leakwatch-report.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace leakwatch {

std::string json_escape(const std::string &s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

std::string html_escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string human_bytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = bytes;
  while (std::fabs(v) >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::vector<LeakGroup> group_leaks(const ReportData &d) {
  std::vector<LeakGroup> groups;
  for (const AliveObject &a : d.alive) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const LeakGroup &g) { return g.type == a.type; });
    if (it == groups.end()) {
      groups.push_back(LeakGroup{a.type, {}});
      it = groups.end() - 1;
    }
    it->objects.push_back(&a);
  }
  std::stable_sort(groups.begin(), groups.end(), [](const LeakGroup &a, const LeakGroup &b) {
    return a.objects.size() > b.objects.size();
  });
  return groups;
}

namespace {

std::string num(double v) {
  if (!std::isfinite(v))
    return "0";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  else
    std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string quoted(const std::string &s) {
  return "\"" + json_escape(s) + "\"";
}

std::string describe_object(const AliveObject &a, double now_s) {
  std::string s;
  if (a.detailed)
    s = "'" + (a.name.empty() ? std::string("(unnamed)") : a.name) + "'";
  else
    s = "(unnamed)";
  if (!a.pipeline.empty())
    s += " in pipeline '" + a.pipeline + "'";
  char buf[96];
  std::snprintf(buf, sizeof(buf), ", created at +%.3f s", static_cast<double>(a.created_ns) / 1e9);
  s += buf;
  (void)now_s;
  if (a.refcount >= 0)
    s += ", refcount " + std::to_string(a.refcount);
  return s;
}

}  // namespace

std::string format_summary(const ReportData &d) {
  std::ostringstream o;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "leakwatch: summary of pid %d after %.1f s, %zu samples\n", d.pid,
                d.duration_s, d.samples);
  o << buf;

  // Objects.
  std::vector<LeakGroup> groups = group_leaks(d);
  std::vector<TypeCount> count_only = d.leaked_count_only();
  if (!d.params.objects) {
    o << "leakwatch: objects: not tracked (objects=false)\n";
  } else if (groups.empty() && count_only.empty()) {
    o << "leakwatch: objects: nothing left alive\n";
  } else {
    o << "leakwatch: objects: LEAKED " << d.alive.size() << " object(s) with records";
    size_t mini = 0;
    for (const TypeCount &t : count_only)
      mini += static_cast<size_t>(t.live);
    if (mini)
      o << " and " << mini << " counted mini object(s)";
    o << "\n";
    for (const LeakGroup &g : groups) {
      o << "  " << g.type << " x" << g.objects.size() << ":";
      size_t shown = 0;
      for (const AliveObject *a : g.objects) {
        if (shown++ == 3) {
          o << " ...";
          break;
        }
        o << (shown > 1 ? ";" : "") << " " << describe_object(*a, d.duration_s);
      }
      o << "\n";
      if (d.params.stack && !g.objects.empty() && !g.objects[0]->stack.empty())
        o << "    created at:\n" << g.objects[0]->stack;
    }
    for (const TypeCount &t : count_only)
      o << "  " << t.type << " x" << t.live << " (counted: " << t.created << " created, "
        << t.destroyed << " destroyed, peak " << t.peak << ")\n";
  }

  // Pipelines.
  size_t total = d.pipelines.size(), problems = 0;
  for (const PipelineInfo &p : d.pipelines) {
    std::string line;
    if (p.verdict == PipelineVerdict::kDroppedWithoutNull) {
      line = std::string("finalized without reaching NULL (it was ") + state_name(p.state_at_drop) +
             ")";
    } else if (p.destroyed_ns < 0 && d.final) {
      line = std::string("still alive at exit in ") + state_name(p.state);
      if (p.null_ns >= 0)
        line += ", " + format_seconds(static_cast<int64_t>(d.duration_s * 1e9) - p.null_ns) +
                " after reaching NULL";
      else
        line += ", never set back to NULL";
    } else if (p.verdict == PipelineVerdict::kAliveAfterNull) {
      line = "reached NULL but was still alive after the grace period (refcount " +
             std::to_string(p.refcount_after_null) + ")";
    } else if (p.verdict == PipelineVerdict::kOrphans) {
      line = "destroyed, but " + std::to_string(p.orphans) +
             " of its objects outlived it: " + p.orphan_examples;
    }
    if (!line.empty()) {
      problems++;
      o << "leakwatch: pipeline '" << p.name << "': " << line << "\n";
    }
  }
  o << "leakwatch: pipelines: " << total << " seen, " << problems << " with problems\n";

  // Descriptors and threads that grew since start.
  std::string grew;
  for (int c = 0; c < kFdClassCount; ++c) {
    int64_t a = d.first.fds[c], b = d.last.fds[c];
    if (b > a)
      grew += std::string(grew.empty() ? "" : ", ") + fd_class_name(static_cast<FdClass>(c)) + " " +
              std::to_string(a) + " -> " + std::to_string(b);
  }
  o << "leakwatch: descriptors: " << d.last.fds_total << " open ("
    << (grew.empty() ? std::string("no class grew") : "grew: " + grew) << ")\n";
  grew.clear();
  std::map<std::string, std::pair<int64_t, int64_t>> th;
  for (const auto &t : d.first.threads)
    th[t.first].first = t.second;
  for (const auto &t : d.last.threads)
    th[t.first].second = t.second;
  // A GLib helper's one instance is GLib starting it, not growth; a second one is growth.
  for (const auto &t : th)
    if (t.second.second > std::max<int64_t>(t.second.first, glib_helper_thread(t.first) ? 1 : 0))
      grew += std::string(grew.empty() ? "" : ", ") + t.first + " " +
              std::to_string(t.second.first) + " -> " + std::to_string(t.second.second);
  o << "leakwatch: threads: " << d.last.threads_total << " ("
    << (grew.empty() ? std::string("no name grew") : "grew: " + grew) << ")\n";
  o << "leakwatch: rss: " << human_bytes(static_cast<double>(d.first.rss)) << " -> "
    << human_bytes(static_cast<double>(d.last.rss)) << "\n";

  // Trends.
  if (d.alerts.empty()) {
    o << "leakwatch: trends: no alert\n";
  } else {
    o << "leakwatch: trends: " << d.alerts.size() << " alert(s)\n";
    for (const Alert &a : d.alerts) {
      std::snprintf(buf, sizeof(buf), "  %s at +%.1f s: %.4g per minute, +%.4g over %zu samples\n",
                    a.metric.c_str(), a.t_s, a.slope_per_minute, a.growth, a.window);
      o << buf;
    }
  }
  if (d.final)
    o << "leakwatch: verdict: " << (d.has_leaks() ? "LEAKS FOUND" : "clean") << "\n";
  return o.str();
}

std::string to_json(const ReportData &d) {
  std::ostringstream o;
  o << "{\n\"leakwatch\": 1,\n\"final\": " << (d.final ? "true" : "false") << ",\n";
  o << "\"pid\": " << d.pid << ",\n\"duration_s\": " << num(d.duration_s) << ",\n";
  o << "\"samples_taken\": " << d.samples << ",\n";
  o << "\"verdict\": " << quoted(!d.final ? "running" : d.has_leaks() ? "leaks" : "clean") << ",\n";
  const Params &p = d.params;
  o << "\"params\": {\"interval\": " << num(p.interval_s) << ", \"window\": " << p.window
    << ", \"grace\": " << num(p.grace_s) << ", \"report-interval\": " << num(p.report_interval_s)
    << ", \"fail-on-leak\": " << (p.fail_on_leak ? "true" : "false") << ", \"track\": [";
  for (size_t i = 0; i < p.track.size(); ++i)
    o << (i ? ", " : "") << quoted(p.track[i]);
  o << "]},\n";

  // Alive objects (leaks when final).
  o << "\"objects\": [";
  bool first = true;
  for (const LeakGroup &g : group_leaks(d)) {
    o << (first ? "\n" : ",\n") << "  {\"type\": " << quoted(g.type)
      << ", \"count\": " << g.objects.size() << ", \"instances\": [";
    first = false;
    for (size_t i = 0; i < g.objects.size(); ++i) {
      const AliveObject &a = *g.objects[i];
      o << (i ? ", " : "") << "{\"name\": " << quoted(a.name)
        << ", \"pipeline\": " << quoted(a.pipeline)
        << ", \"created_s\": " << num(static_cast<double>(a.created_ns) / 1e9)
        << ", \"refcount\": " << a.refcount << ", \"mini\": " << (a.is_mini ? "true" : "false");
      if (!a.stack.empty())
        o << ", \"stack\": " << quoted(a.stack);
      o << "}";
    }
    o << "]}";
  }
  o << "\n],\n";

  o << "\"types\": [";
  for (size_t i = 0; i < d.types.size(); ++i) {
    const TypeCount &t = d.types[i];
    const char *mode = t.mode == TypeMode::kCountOnly ? "counted"
                       : t.mode == TypeMode::kPointer ? "instances"
                                                      : "records";
    o << (i ? ",\n" : "\n") << "  {\"type\": " << quoted(t.type)
      << ", \"kind\": " << quoted(t.is_mini ? "mini-object" : "object")
      << ", \"tracking\": " << quoted(mode) << ", \"created\": " << t.created
      << ", \"destroyed\": " << t.destroyed << ", \"live\": " << t.live << ", \"peak\": " << t.peak
      << "}";
  }
  o << "\n],\n";

  o << "\"pipelines\": [";
  for (size_t i = 0; i < d.pipelines.size(); ++i) {
    const PipelineInfo &pl = d.pipelines[i];
    auto t = [](int64_t ns) { return ns < 0 ? std::string("null") : num(ns / 1e9); };
    o << (i ? ",\n" : "\n") << "  {\"id\": " << pl.id << ", \"name\": " << quoted(pl.name)
      << ", \"created_s\": " << t(pl.created_ns) << ", \"null_s\": " << t(pl.null_ns)
      << ", \"destroyed_s\": " << t(pl.destroyed_ns)
      << ", \"state\": " << quoted(state_name(pl.state)) << ", \"verdict\": "
      << quoted(d.final && pl.destroyed_ns < 0 && pl.verdict == PipelineVerdict::kOk
                    ? "alive-at-exit"
                    : verdict_name(pl.verdict))
      << ", \"refcount_after_null\": " << pl.refcount_after_null << ", \"orphans\": " << pl.orphans
      << ", \"transitions\": [";
    for (size_t k = 0; k < pl.transitions.size(); ++k)
      o << (k ? ", " : "") << "{\"t_s\": " << num(pl.transitions[k].t_ns / 1e9)
        << ", \"from\": " << quoted(state_name(pl.transitions[k].from))
        << ", \"to\": " << quoted(state_name(pl.transitions[k].to)) << "}";
    o << "]}";
  }
  o << "\n],\n";

  o << "\"alerts\": [";
  for (size_t i = 0; i < d.alerts.size(); ++i) {
    const Alert &a = d.alerts[i];
    o << (i ? ",\n" : "\n") << "  {\"metric\": " << quoted(a.metric) << ", \"t_s\": " << num(a.t_s)
      << ", \"slope_per_minute\": " << num(a.slope_per_minute) << ", \"growth\": " << num(a.growth)
      << ", \"window\": " << a.window << ", \"window_s\": " << num(a.window_s)
      << ", \"scale\": " << a.scale << "}";
  }
  o << "\n],\n";

  o << "\"trends\": [";
  for (size_t i = 0; i < d.trends.size(); ++i) {
    const TrendState &t = d.trends[i];
    o << (i ? ",\n" : "\n") << "  {\"metric\": " << quoted(t.metric)
      << ", \"slope_per_minute\": " << num(t.slope_per_minute) << ", \"growth\": " << num(t.growth)
      << ", \"alerting\": " << (t.alerting ? "true" : "false") << "}";
  }
  o << "\n],\n";

  o << "\"samples\": {\"t_s\": [";
  for (size_t i = 0; i < d.times.size(); ++i)
    o << (i ? "," : "") << num(d.times[i]);
  o << "],\n\"series\": {";
  first = true;
  for (const auto &col : d.series) {
    o << (first ? "\n" : ",\n") << "  " << quoted(col.first) << ": [";
    first = false;
    for (size_t i = 0; i < col.second.size(); ++i)
      o << (i ? "," : "") << num(col.second[i]);
    o << "]";
  }
  o << "\n}}\n}\n";
  return o.str();
}

bool write_file_atomic(const std::string &path, const std::string &content, std::string &error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = "cannot open " + tmp + " for writing";
      return false;
    }
    out << content;
    out.flush();
    if (!out) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  if (g_rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path;
    g_unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace leakwatch
