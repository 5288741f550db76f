#include "leakwatch-elements.h"

#include <cstring>

namespace leakwatch {

namespace {

bool ends_with(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool numeric(const GValue *v, double &out, bool &integer) {
  integer = true;
  switch (G_VALUE_TYPE(v)) {
    case G_TYPE_INT:
      out = g_value_get_int(v);
      return true;
    case G_TYPE_UINT:
      out = g_value_get_uint(v);
      return true;
    case G_TYPE_INT64:
      out = static_cast<double>(g_value_get_int64(v));
      return true;
    case G_TYPE_UINT64:
      out = static_cast<double>(g_value_get_uint64(v));
      return true;
    case G_TYPE_LONG:
      out = static_cast<double>(g_value_get_long(v));
      return true;
    case G_TYPE_ULONG:
      out = static_cast<double>(g_value_get_ulong(v));
      return true;
    case G_TYPE_BOOLEAN:
      integer = false;  // a 0/1 gauge
      out = g_value_get_boolean(v) ? 1 : 0;
      return true;
    case G_TYPE_DOUBLE:
      integer = false;
      out = g_value_get_double(v);
      return true;
    case G_TYPE_FLOAT:
      integer = false;
      out = g_value_get_float(v);
      return true;
    default:
      return false;
  }
}

struct Collector {
  size_t max_series;
  metrics::ElementValues out;

  void add(const std::string &family, metrics::Type type, const std::string &help,
           metrics::Labels labels, double value) {
    if (out.values.size() >= max_series) {
      out.omitted++;
      return;
    }
    out.values.push_back({family, type, help, std::move(labels), value});
  }

  // Every numeric field of @s as prefix_<field>.
  void add_structure(const GstStructure *s, const std::string &prefix, const std::string &help,
                     const metrics::Labels &labels) {
    const int n = gst_structure_n_fields(s);
    for (int i = 0; i < n; ++i) {
      const char *field = gst_structure_nth_field_name(s, i);
      double v;
      bool integer;
      if (!numeric(gst_structure_get_value(s, field), v, integer))
        continue;
      FieldMetric m = field_metric(prefix, field, integer);
      add(m.name, m.type, help + " (field '" + field + "')", labels, v * m.scale);
    }
  }

  // A read-only property of @object read by name, when it exists with a numeric type.
  void add_property(GObject *object, const char *property, const std::string &prefix,
                    const std::string &help, const metrics::Labels &labels) {
    GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), property);
    if (spec == nullptr || !(spec->flags & G_PARAM_READABLE))
      return;
    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    g_object_get_property(object, property, &value);
    double v;
    bool integer;
    if (numeric(&value, v, integer)) {
      FieldMetric m = field_metric(prefix, property, integer);
      add(m.name, m.type, help, labels, v * m.scale);
    }
    g_value_unset(&value);
  }

  // The GstStructure held by a boxed property, or null (caller frees).
  static GstStructure *structure_property(GObject *object, const char *property) {
    GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), property);
    if (spec == nullptr || !(spec->flags & G_PARAM_READABLE) ||
        spec->value_type != GST_TYPE_STRUCTURE)
      return nullptr;
    GstStructure *s = nullptr;
    g_object_get(object, property, &s, nullptr);
    return s;
  }
};

std::string name_of(gpointer object) {
  gchar *name = gst_object_get_name(GST_OBJECT(object));
  std::string out = name ? name : "";
  g_free(name);
  return out;
}

}  // namespace

FieldMetric field_metric(const std::string &prefix, const std::string &field, bool integer) {
  FieldMetric m;
  std::string f = field;
  if (ends_with(f, "-time")) {
    f = f.substr(0, f.size() - 5) + "-seconds";
    m.scale = 1e-9;
  }
  static const char *const gauge_words[] = {"level", "peak",    "lag",    "parked", "active",
                                            "rate",  "evicted", "reused", "num-",   "capacity"};
  bool gauge = !integer || m.scale != 1;
  for (const char *w : gauge_words)
    if (f.find(w) != std::string::npos)
      gauge = true;
  m.type = gauge ? metrics::Type::kGauge : metrics::Type::kCounter;
  m.name = metrics::sanitize_name(prefix + f);
  return m;
}

metrics::ElementValues collect_element_values(const std::vector<GObject *> &pipelines, bool generic,
                                              size_t max_series) {
  Collector c{max_series, {}};
  bool pool_done = false;
  for (GObject *p : pipelines) {
    if (!GST_IS_BIN(p))
      continue;
    const std::string pipeline = name_of(p);
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(p));
    GValue item = G_VALUE_INIT;
    bool done = false;
    while (!done) {
      switch (gst_iterator_next(it, &item)) {
        case GST_ITERATOR_OK: {
          GstElement *e = GST_ELEMENT(g_value_get_object(&item));
          GObject *o = G_OBJECT(e);
          GstElementFactory *f = gst_element_get_factory(e);
          const char *factory = f ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)) : "";
          const metrics::Labels labels = {{"pipeline", pipeline}, {"element", name_of(e)}};
          if (!std::strcmp(factory, "boundedqueue")) {
            if (GstStructure *s = Collector::structure_property(o, "stats")) {
              c.add_structure(s, "steady_boundedqueue_", "boundedqueue statistics", labels);
              gst_structure_free(s);
            }
          } else if (!std::strcmp(factory, "sharedframetee")) {
            c.add_property(o, "buffers-in", "steady_sharedframetee_",
                           "Buffers sharedframetee received from upstream.", labels);
            c.add_property(o, "num-src-pads", "steady_sharedframetee_",
                           "Branches (request src pads) on the element.", labels);
            GstIterator *pads = gst_element_iterate_src_pads(e);
            GValue pv = G_VALUE_INIT;
            while (gst_iterator_next(pads, &pv) == GST_ITERATOR_OK) {
              GObject *pad = G_OBJECT(g_value_get_object(&pv));
              metrics::Labels pl = labels;
              pl.emplace_back("pad", name_of(pad));
              if (GstStructure *s = Collector::structure_property(pad, "stats")) {
                c.add_structure(s, "steady_sharedframetee_branch_",
                                "sharedframetee branch statistics", pl);
                gst_structure_free(s);
              }
              g_value_reset(&pv);
            }
            g_value_unset(&pv);
            gst_iterator_free(pads);
          } else if (!std::strcmp(factory, "vapoolenc")) {
            for (const char *prop : {"failovers", "frames-in", "frames-out", "frames-lost"})
              c.add_property(o, prop, "steady_vapoolenc_",
                             std::string("vapoolenc ") + prop + " of this element.", labels);
            c.add_property(o, "reused", "steady_vapoolenc_",
                           "1 when the current session came from the pool.", labels);
            if (!pool_done) {
              if (GstStructure *s = Collector::structure_property(o, "pool-stats")) {
                c.add_structure(s, "steady_vapoolenc_pool_", "vapoolenc process-wide session pool",
                                {});
                gst_structure_free(s);
                pool_done = true;
              }
            }
          } else if (generic) {
            if (GstStructure *s = Collector::structure_property(o, "stats")) {
              const int n = gst_structure_n_fields(s);
              for (int i = 0; i < n; ++i) {
                const char *field = gst_structure_nth_field_name(s, i);
                double v;
                bool integer;
                if (!numeric(gst_structure_get_value(s, field), v, integer))
                  continue;
                metrics::Labels gl = labels;
                gl.emplace_back("factory", factory);
                gl.emplace_back("field", field);
                c.add("gst_element_stats", metrics::Type::kGauge,
                      "Numeric fields of an element's read-only 'stats' structure "
                      "(metrics-element-stats=true).",
                      gl, v);
              }
              gst_structure_free(s);
            }
          }
          g_value_reset(&item);
          break;
        }
        case GST_ITERATOR_RESYNC:
          gst_iterator_resync(it);
          break;
        default:
          done = true;
      }
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }
  return c.out;
}

}  // namespace leakwatch
