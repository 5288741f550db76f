// Helpers for the vapoolenc check tests (tests/check/elements/vapoolenc.cc): pipelines, taps,
// bus runs, property readers, and a stand-in system for candidate selection.
#pragma once

#include "steady-check.h"

#include <gst/gst.h>

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vapoolenc-probe.h"
#include "vapoolenc-selection.h"

using namespace vapoolenc;

// ---------------------------------------------------------------------------------------------
// helpers

// fail_unless_equals_string keeps a pointer to its argument: compare owned strings instead.
#define EXPECT_STR(expr, expected)                                                                 \
  do {                                                                                             \
    const std::string steady_got = (expr);                                                         \
    const std::string steady_want = (expected);                                                    \
    fail_unless(steady_got == steady_want, "%s is '%s', expected '%s'", #expr, steady_got.c_str(), \
                steady_want.c_str());                                                              \
  } while (0)

// "fd -> target" of every open descriptor, for failure messages.
static inline std::string fd_list() {
  std::string out;
  DIR *d = opendir("/proc/self/fd");
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    char path[300], target[256] = {0};
    std::snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    out += std::string(e->d_name) + "->" + (n > 0 ? target : "?") + " ";
  }
  closedir(d);
  return out;
}

static inline int fd_count() {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  while (struct dirent *e = readdir(d))
    n += e->d_name[0] != '.' ? 1 : 0;
  closedir(d);
  return n - 1;  // the descriptor of the listing itself
}

// A fakehwenc instance used to set the process-wide simulated hardware properties.
static inline GstElement *fake_hw() {
  GstElement *e = gst_element_factory_make("fakehwenc", nullptr);
  fail_unless(e != nullptr, "fakehwenc test plugin not found");
  return GST_ELEMENT(gst_object_ref_sink(e));
}

static inline guint fake_live() {
  GstElement *e = fake_hw();
  guint live = 0;
  g_object_get(e, "live-sessions", &live, nullptr);
  gst_object_unref(e);
  return live;
}

static inline guint64 fake_created() {
  GstElement *e = fake_hw();
  guint64 n = 0;
  g_object_get(e, "sessions-created", &n, nullptr);
  gst_object_unref(e);
  return n;
}

static inline GstElement *launch(const std::string &desc) {
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  fail_unless(p != nullptr && err == nullptr, "cannot build '%s': %s", desc.c_str(),
              err ? err->message : "?");
  return GST_ELEMENT(gst_object_ref_sink(p));
}

static inline GstElement *child(GstElement *pipeline, const char *name) {
  GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), name);
  fail_unless(e != nullptr, "no element %s", name);
  return e;
}

// Records the flags of every buffer leaving a pad, and counts decoded frames.
struct Tap {
  std::vector<bool> keyframes;  // per encoded buffer: true when not a delta unit
  std::atomic<int> decoded{0};
};

static inline GstPadProbeReturn tap_encoded(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *tap = static_cast<Tap *>(data);
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  tap->keyframes.push_back(!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT));
  return GST_PAD_PROBE_OK;
}

static inline void on_handoff(GstElement *, GstBuffer *, GstPad *, gpointer data) {
  static_cast<Tap *>(data)->decoded++;
}

// Taps the src pad of element `enc` and the handoffs of fakesink `out`.
static inline void attach_tap(GstElement *pipeline, Tap *tap, const char *enc = "enc") {
  GstElement *e = child(pipeline, enc);
  GstPad *pad = gst_element_get_static_pad(e, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, tap_encoded, tap, nullptr);
  gst_object_unref(pad);
  gst_object_unref(e);
  if (GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out")) {
    g_object_set(out, "signal-handoffs", TRUE, nullptr);
    g_signal_connect(out, "handoff", G_CALLBACK(on_handoff), tap);
    gst_object_unref(out);
  }
}

// Runs to EOS or ERROR; returns the error text ("" on EOS). Collects element messages.
static inline std::string run(GstElement *pipeline, std::vector<GstStructure *> *elements = nullptr,
                              std::vector<std::string> *warnings = nullptr) {
  GstBus *bus = gst_element_get_bus(pipeline);
  std::string error;
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    error = "state change failed";
  for (bool done = false; !done;) {
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT |
                                    GST_MESSAGE_WARNING));
    fail_unless(msg != nullptr, "pipeline did not finish within 60 s");
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS:
        done = true;
        break;
      case GST_MESSAGE_ERROR: {
        GError *err = nullptr;
        gchar *dbg = nullptr;
        gst_message_parse_error(msg, &err, &dbg);
        error = std::string(err->message) + " | " + (dbg ? dbg : "");
        g_error_free(err);
        g_free(dbg);
        done = true;
        break;
      }
      case GST_MESSAGE_WARNING: {
        GError *err = nullptr;
        gst_message_parse_warning(msg, &err, nullptr);
        if (warnings)
          warnings->push_back(err->message);
        g_error_free(err);
        break;
      }
      default:
        if (elements && gst_message_get_structure(msg))
          elements->push_back(gst_structure_copy(gst_message_get_structure(msg)));
        break;
    }
    gst_message_unref(msg);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  return error;
}

static inline std::string get_str(GstElement *pipeline, const char *name, const char *prop) {
  GstElement *e = child(pipeline, name);
  gchar *v = nullptr;
  g_object_get(e, prop, &v, nullptr);
  std::string s = v ? v : "";
  g_free(v);
  gst_object_unref(e);
  return s;
}

template <typename T>
static inline T get_prop(GstElement *pipeline, const char *name, const char *prop) {
  GstElement *e = child(pipeline, name);
  T v{};
  g_object_get(e, prop, &v, nullptr);
  gst_object_unref(e);
  return v;
}

static inline guint64 stat_u64(GstElement *pipeline, const char *field) {
  GstElement *e = child(pipeline, "enc");
  GstStructure *s = nullptr;
  g_object_get(e, "pool-stats", &s, nullptr);
  guint64 v = 0;
  if (!gst_structure_get_uint64(s, field, &v)) {
    guint u = 0;
    fail_unless(gst_structure_get_uint(s, field, &u), "no field %s", field);
    v = u;
  }
  gst_structure_free(s);
  gst_object_unref(e);
  return v;
}

static const char *const kRaw = "video/x-raw,format=I420,width=160,height=120,framerate=30/1";

static inline std::string h264_pipeline(int frames, const std::string &enc_props,
                                        const char *caps = kRaw) {
  return "videotestsrc num-buffers=" + std::to_string(frames) + " ! " + caps +
         " ! vapoolenc name=enc " + enc_props +
         " ! h264parse ! avdec_h264 output-corrupt=false ! fakesink name=out sync=false";
}

static inline void require(const char *factory) {
  fail_unless(steady_have_factory(factory), "%s is required by this test", factory);
}

// ---------------------------------------------------------------------------------------------
// a stand-in system for selection

class FakeSystem : public Availability {
 public:
  std::set<std::string> factories;
  std::vector<std::string> nodes;
  std::map<std::string, NodeInfo> infos;
  std::map<std::string, std::string> va_paths;
  std::set<std::string> encode_fails;
  int encode_tests = 0;

  bool factory_exists(const std::string &f) override { return factories.count(f) > 0; }
  std::vector<std::string> render_nodes() override { return nodes; }
  NodeInfo node(const std::string &path) override {
    auto it = infos.find(path);
    if (it != infos.end())
      return it->second;
    NodeInfo none;
    none.path = path;
    none.error = "cannot open " + path;
    return none;
  }
  std::string va_device_path(const std::string &f) override {
    auto it = va_paths.find(f);
    return it == va_paths.end() ? "" : it->second;
  }
  std::vector<std::string> va_device_variants(const std::string &f) override {
    std::vector<std::string> out;
    for (const auto &name : factories)
      if (name.rfind("varenderD", 0) == 0 && f.rfind("va", 0) == 0 && name.size() > f.size() &&
          name.compare(name.size() - (f.size() - 2), f.size() - 2, f.substr(2)) == 0)
        out.push_back(name);
    return out;
  }
  EncodeTestResult encode_test(const Candidate &c) override {
    encode_tests++;
    EncodeTestResult r;
    r.ok = encode_fails.count(c.factory) == 0;
    r.error = r.ok ? "" : c.factory + " did not start with a keyframe";
    return r;
  }

  // A machine with one node (renderD128) that encodes H.264 with both entrypoints.
  void add_node(const std::string &path, bool slice, bool slice_lp) {
    nodes.push_back(path);
    NodeInfo info;
    info.path = path;
    info.opened = true;
    info.driver = "fake";
    info.encode[Codec::kH264] = EncodeEntrypoints{slice, slice_lp};
    infos[path] = info;
  }
};
