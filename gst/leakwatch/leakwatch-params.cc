#include "leakwatch-params.h"

#include <gst/gst.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

namespace leakwatch {

namespace {

bool value_to_double(const GValue *v, double &out) {
  GType t = G_VALUE_TYPE(v);
  if (t == G_TYPE_DOUBLE)
    out = g_value_get_double(v);
  else if (t == G_TYPE_FLOAT)
    out = g_value_get_float(v);
  else if (t == G_TYPE_INT)
    out = g_value_get_int(v);
  else if (t == G_TYPE_UINT)
    out = g_value_get_uint(v);
  else if (t == G_TYPE_INT64)
    out = static_cast<double>(g_value_get_int64(v));
  else if (t == G_TYPE_UINT64)
    out = static_cast<double>(g_value_get_uint64(v));
  else if (t == G_TYPE_STRING) {
    const char *s = g_value_get_string(v);
    if (s == nullptr || *s == '\0')
      return false;
    char *end = nullptr;
    out = g_ascii_strtod(s, &end);
    return end != nullptr && *end == '\0';
  } else
    return false;
  return true;
}

bool value_to_bool(const GValue *v, bool &out) {
  if (G_VALUE_TYPE(v) == G_TYPE_BOOLEAN) {
    out = g_value_get_boolean(v);
    return true;
  }
  double d;
  if (G_VALUE_TYPE(v) != G_TYPE_STRING && value_to_double(v, d) && (d == 0 || d == 1)) {
    out = d == 1;
    return true;
  }
  if (G_VALUE_TYPE(v) == G_TYPE_STRING) {
    const char *s = g_value_get_string(v);
    if (s && (!g_ascii_strcasecmp(s, "yes") || !g_ascii_strcasecmp(s, "on"))) {
      out = true;
      return true;
    }
    if (s && (!g_ascii_strcasecmp(s, "no") || !g_ascii_strcasecmp(s, "off"))) {
      out = false;
      return true;
    }
  }
  return false;
}

bool value_to_string(const GValue *v, std::string &out) {
  if (G_VALUE_TYPE(v) == G_TYPE_STRING) {
    const char *s = g_value_get_string(v);
    out = s ? s : "";
    return true;
  }
  // Unquoted values such as track=GstFoo parse as strings already; anything else is
  // serialized back (a number given as a path, say).
  g_autofree gchar *s = gst_value_serialize(v);
  if (s == nullptr)
    return false;
  out = s;
  return true;
}

struct Spec {
  const char *name;
  const char *def;
  std::function<bool(const GValue *, Params &, std::string &)> apply;
};

std::function<bool(const GValue *, Params &, std::string &)> number(double Params::*field,
                                                                    double min, double max) {
  return [=](const GValue *v, Params &p, std::string &why) {
    double d;
    if (!value_to_double(v, d) || d < min || d > max) {
      std::ostringstream ss;
      ss << "expects a number in [" << min << ", " << max << "]";
      why = ss.str();
      return false;
    }
    p.*field = d;
    return true;
  };
}

std::function<bool(const GValue *, Params &, std::string &)> uinteger(unsigned Params::*field,
                                                                      unsigned min, unsigned max) {
  return [=](const GValue *v, Params &p, std::string &why) {
    double d;
    if (!value_to_double(v, d) || d < min || d > max ||
        d != static_cast<double>(static_cast<unsigned>(d))) {
      why = "expects an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
      return false;
    }
    p.*field = static_cast<unsigned>(d);
    return true;
  };
}

std::function<bool(const GValue *, Params &, std::string &)> boolean(bool Params::*field) {
  return [=](const GValue *v, Params &p, std::string &why) {
    bool b;
    if (!value_to_bool(v, b)) {
      why = "expects true or false";
      return false;
    }
    p.*field = b;
    return true;
  };
}

std::function<bool(const GValue *, Params &, std::string &)> text(std::string Params::*field) {
  return [=](const GValue *v, Params &p, std::string &why) {
    if (!value_to_string(v, p.*field)) {
      why = "expects a path";
      return false;
    }
    return true;
  };
}

const std::vector<Spec> &specs() {
  static const std::vector<Spec> s = {
      {"interval", "1 (seconds, 0 = sample only on sample-now)",
       number(&Params::interval_s, 0, 86400)},
      {"window", "60 (samples)", uinteger(&Params::window, 8, 100000)},
      {"grace", "5 (seconds)", number(&Params::grace_s, 0, 86400)},
      {"track", "\"\" (type names, e.g. \"GstFoo,GstBar\")",
       [](const GValue *v, Params &p, std::string &why) {
         std::string list;
         if (!value_to_string(v, list)) {
           why = "expects type names";
           return false;
         }
         p.track.clear();
         gchar **parts = g_strsplit_set(list.c_str(), ",| ", -1);
         for (gchar **it = parts; *it; ++it)
           if (**it)
             p.track.emplace_back(*it);
         g_strfreev(parts);
         return true;
       }},
      {"report", "none (JSON path)", text(&Params::report)},
      {"html", "none (HTML path)", text(&Params::html)},
      {"report-interval", "0 (seconds, 0 = only at exit)",
       number(&Params::report_interval_s, 0, 864000)},
      {"fail-on-leak", "false", boolean(&Params::fail_on_leak)},
      {"stack", "false", boolean(&Params::stack)},
      {"summary", "true", boolean(&Params::summary)},
      {"nvml", "true", boolean(&Params::nvml)},
      {"objects", "true (false = no hooks, process sampling only)", boolean(&Params::objects)},
      {"history", "3600 (samples)", uinteger(&Params::history, 16, 10000000)},
      {"rss-slope", "1048576 (bytes/min)", number(&Params::rss_slope, 0, 1e15)},
      {"rss-growth", "2097152 (bytes)", number(&Params::rss_growth, 0, 1e15)},
      {"fd-growth", "2 (DRM/nvidia/dmabuf descriptors)", number(&Params::fd_growth, 0, 1e9)},
      {"fd-other-growth", "16 (descriptors)", number(&Params::fd_other_growth, 0, 1e9)},
      {"thread-slope", "0.1 (threads/min)", number(&Params::thread_slope, 0, 1e9)},
      {"thread-growth", "2 (threads)", number(&Params::thread_growth, 0, 1e9)},
      {"gpu-slope", "1048576 (bytes/min)", number(&Params::gpu_slope, 0, 1e15)},
      {"gpu-growth", "4194304 (bytes)", number(&Params::gpu_growth, 0, 1e15)},
      {"object-growth", "4 (objects)", number(&Params::object_growth, 0, 1e12)},
      {"metrics-port", "off (0 = a free port, logged)",
       [](const GValue *v, Params &p, std::string &why) {
         double d;
         if (!value_to_double(v, d) || d < 0 || d > 65535 || d != static_cast<int>(d)) {
           why = "expects a TCP port in [0, 65535]";
           return false;
         }
         p.metrics_port = static_cast<int>(d);
         return true;
       }},
      {"metrics-address", "127.0.0.1", text(&Params::metrics_address)},
      {"metrics-file", "none (path)", text(&Params::metrics_file)},
      {"metrics-max-types", "0 (0 = every type)", uinteger(&Params::metrics_max_types, 0, 1000000)},
      {"metrics-element-stats", "false", boolean(&Params::metrics_element_stats)},
      {"metrics-max-element-series", "2000",
       uinteger(&Params::metrics_max_element_series, 0, 1000000)},
  };
  return s;
}

}  // namespace

std::string accepted_params() {
  std::string out;
  for (const Spec &s : specs()) {
    if (!out.empty())
      out += ", ";
    out += std::string(s.name) + "=" + s.def;
  }
  return out;
}

std::string parse_params(const char *params, Params &out) {
  out = Params();
  if (params == nullptr || *params == '\0')
    return std::string();
  std::string text = std::string("leakwatch,") + params;
  GstStructure *st = gst_structure_from_string(text.c_str(), nullptr);
  if (st == nullptr)
    return std::string("leakwatch: could not parse parameters '") + params +
           "' (expected name=value pairs separated by ','); using defaults. Accepted: " +
           accepted_params();
  std::vector<std::string> problems;
  const int n = gst_structure_n_fields(st);
  for (int i = 0; i < n; ++i) {
    const char *field = gst_structure_nth_field_name(st, i);
    const GValue *v = gst_structure_get_value(st, field);
    const Spec *spec = nullptr;
    for (const Spec &s : specs())
      if (g_strcmp0(s.name, field) == 0)
        spec = &s;
    if (spec == nullptr) {
      problems.push_back(std::string("unknown parameter '") + field + "'");
      continue;
    }
    std::string why;
    if (!spec->apply(v, out, why)) {
      g_autofree gchar *shown = gst_value_serialize(v);
      problems.push_back(std::string("'") + field + "=" + (shown ? shown : "?") + "' " + why +
                         " (default kept)");
    }
  }
  gst_structure_free(st);
  if (problems.empty())
    return std::string();
  std::string msg = "leakwatch: ";
  for (size_t i = 0; i < problems.size(); ++i)
    msg += (i ? "; " : "") + problems[i];
  msg += ". Accepted: " + accepted_params();
  return msg;
}

}  // namespace leakwatch
