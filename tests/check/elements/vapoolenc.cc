// Tests for vapoolenc: selection, probing, the session pool (reuse, keys, limits, idle
// expiry), failover and shutdown. Hardware is stood in for by the test-only `fakehwenc`
// (tests/plugins/fakehwenc); the software path uses the real x264enc/openh264enc/vp8enc and
// every encoded stream is decoded with a real decoder.
#include "steady-check.h"

#include <gst/check/gsttestclock.h>
#include <gst/gst.h>

#include <dirent.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vapoolenc-display.h"
#include "vapoolenc-pool.h"
#include "vapoolenc-probe.h"
#include "vapoolenc-selection.h"
#include "vapoolenc-settings.h"

using namespace vapoolenc;

// ---------------------------------------------------------------------------------------------
// helpers

static int fd_count() {
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
static GstElement *fake_hw() {
  GstElement *e = gst_element_factory_make("fakehwenc", nullptr);
  fail_unless(e != nullptr, "fakehwenc test plugin not found");
  return GST_ELEMENT(gst_object_ref_sink(e));
}

static guint fake_live() {
  GstElement *e = fake_hw();
  guint live = 0;
  g_object_get(e, "live-sessions", &live, nullptr);
  gst_object_unref(e);
  return live;
}

static guint64 fake_created() {
  GstElement *e = fake_hw();
  guint64 n = 0;
  g_object_get(e, "sessions-created", &n, nullptr);
  gst_object_unref(e);
  return n;
}

static GstElement *launch(const std::string &desc) {
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  fail_unless(p != nullptr && err == nullptr, "cannot build '%s': %s", desc.c_str(),
              err ? err->message : "?");
  return GST_ELEMENT(gst_object_ref_sink(p));
}

static GstElement *child(GstElement *pipeline, const char *name) {
  GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), name);
  fail_unless(e != nullptr, "no element %s", name);
  return e;
}

// Records the flags of every buffer leaving a pad, and counts decoded frames.
struct Tap {
  std::vector<bool> keyframes;  // per encoded buffer: true when not a delta unit
  std::atomic<int> decoded{0};
};

static GstPadProbeReturn tap_encoded(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *tap = static_cast<Tap *>(data);
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  tap->keyframes.push_back(!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT));
  return GST_PAD_PROBE_OK;
}

static void on_handoff(GstElement *, GstBuffer *, GstPad *, gpointer data) {
  static_cast<Tap *>(data)->decoded++;
}

// Taps the src pad of element `enc` and the handoffs of fakesink `out`.
static void attach_tap(GstElement *pipeline, Tap *tap, const char *enc = "enc") {
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
static std::string run(GstElement *pipeline, std::vector<GstStructure *> *elements = nullptr,
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

static std::string get_str(GstElement *pipeline, const char *name, const char *prop) {
  GstElement *e = child(pipeline, name);
  gchar *v = nullptr;
  g_object_get(e, prop, &v, nullptr);
  std::string s = v ? v : "";
  g_free(v);
  gst_object_unref(e);
  return s;
}

template <typename T>
static T get_prop(GstElement *pipeline, const char *name, const char *prop) {
  GstElement *e = child(pipeline, name);
  T v{};
  g_object_get(e, prop, &v, nullptr);
  gst_object_unref(e);
  return v;
}

static guint64 stat_u64(GstElement *pipeline, const char *field) {
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

static const char *kRaw = "video/x-raw,format=I420,width=160,height=120,framerate=30/1";

static std::string h264_pipeline(int frames, const std::string &enc_props,
                                 const char *caps = kRaw) {
  return "videotestsrc num-buffers=" + std::to_string(frames) + " ! " + caps +
         " ! vapoolenc name=enc " + enc_props +
         " ! h264parse ! avdec_h264 output-corrupt=false ! fakesink name=out sync=false";
}

static void require(const char *factory) {
  fail_unless(steady_have_factory(factory), "%s is required by this test", factory);
}

// ---------------------------------------------------------------------------------------------
// selection (core, with a stand-in system)

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

static std::vector<std::string> names(const Selection &s) {
  std::vector<std::string> out;
  for (const auto &c : s.candidates)
    out.push_back(c.factory + (c.node.empty() ? "" : "@" + c.node));
  return out;
}

static Selection pick(FakeSystem &sys, Device device, const std::string &hw = "",
                      const std::string &sw = "", const std::string &node = "") {
  SelectionRequest req;
  req.device = device;
  req.hardware_factories = hw;
  req.software_factory = sw;
  req.render_node = node;
  return select_candidates(req, sys);
}

GST_START_TEST(test_selection_every_device) {
  const std::string n = "/dev/dri/renderD128";
  FakeSystem all;
  all.factories = {"vah264lpenc", "vah264enc", "vaapih264enc", "nvh264enc", "x264enc",
                   "openh264enc"};
  all.add_node(n, true, true);
  all.va_paths = {{"vah264lpenc", n}, {"vah264enc", n}};
  FakeSystem none;  // nothing but software
  none.factories = {"x264enc"};
  FakeSystem nothing;  // not even software

  using V = std::vector<std::string>;
  // auto
  Selection s = pick(all, Device::kAuto);
  fail_unless(s.ok);
  fail_unless(names(s) == V({"vah264lpenc@" + n, "vah264enc@" + n, "vaapih264enc@" + n,
                             "nvh264enc", "x264enc"}));
  s = pick(none, Device::kAuto);
  fail_unless(s.ok && names(s) == V({"x264enc"}));
  s = pick(nothing, Device::kAuto);
  fail_unless(!s.ok);
  fail_unless(s.error.find("device=auto: no usable h264 encoder") != std::string::npos,
              "%s", s.error.c_str());
  // va
  s = pick(all, Device::kVa);
  fail_unless(s.ok && names(s) == V({"vah264lpenc@" + n, "vah264enc@" + n}));
  s = pick(none, Device::kVa);
  fail_unless(!s.ok);
  fail_unless(s.error.find("vah264lpenc: not installed; vah264enc: not installed") !=
                  std::string::npos,
              "%s", s.error.c_str());
  fail_unless(s.error.find("device=auto") != std::string::npos);
  // vaapi
  s = pick(all, Device::kVaapi);
  fail_unless(s.ok && names(s) == V({"vaapih264enc@" + n}));
  s = pick(none, Device::kVaapi);
  fail_unless(!s.ok && s.error.find("device=vaapi") == 0, "%s", s.error.c_str());
  // nvenc
  s = pick(all, Device::kNvenc);
  fail_unless(s.ok && names(s) == V({"nvh264enc"}));
  s = pick(none, Device::kNvenc);
  fail_unless(!s.ok && s.error.find("nvh264enc: not installed") != std::string::npos);
  // software
  s = pick(all, Device::kSoftware);
  fail_unless(s.ok && names(s) == V({"x264enc"}));
  s = pick(all, Device::kSoftware, "", "openh264enc");
  fail_unless(s.ok && names(s) == V({"openh264enc"}));
  s = pick(nothing, Device::kSoftware);
  fail_unless(!s.ok);
  fail_unless(s.error ==
                  "device=software: no software h264 encoder (x264enc: not installed; "
                  "openh264enc: not installed). Install one or set software-factory to an "
                  "installed encoder",
              "%s", s.error.c_str());
  // hardware-factories overrides the list and its order; kinds must match a fixed device.
  s = pick(all, Device::kAuto, "nvh264enc,vah264enc");
  fail_unless(s.ok && names(s) == V({"nvh264enc", "vah264enc@" + n, "x264enc"}));
  s = pick(all, Device::kVa, "vaapih264enc,vah264enc");
  fail_unless(s.ok && names(s) == V({"vah264enc@" + n}));
  fail_unless(s.rejected == V({"vaapih264enc: a vaapi encoder, not device=va"}));
}
GST_END_TEST;

GST_START_TEST(test_selection_nodes_and_probe) {
  const std::string a = "/dev/dri/renderD128", b = "/dev/dri/renderD129";
  FakeSystem sys;
  sys.factories = {"vah264lpenc", "vah264enc", "varenderD129h264enc", "x264enc"};
  sys.add_node(a, true, false);  // no low-power entrypoint on the first node
  sys.add_node(b, true, true);
  sys.va_paths = {{"vah264lpenc", a}, {"vah264enc", a}, {"varenderD129h264enc", b}};
  using V = std::vector<std::string>;

  Selection s = pick(sys, Device::kVa, "vah264lpenc,vah264enc,varenderD129h264enc");
  fail_unless(s.ok);
  fail_unless(names(s) == V({"vah264enc@" + a, "varenderD129h264enc@" + b}));
  fail_unless(s.rejected == V({"vah264lpenc: " + a + " lacks EncSliceLP for h264"}));
  // render-node picks the second node.
  s = pick(sys, Device::kVa, "vah264lpenc,vah264enc,varenderD129h264enc", "", b);
  fail_unless(s.ok && names(s) == V({"varenderD129h264enc@" + b}));
  // probe=encode: a candidate whose test frame is not a keyframe is rejected.
  sys.encode_fails = {"vah264enc"};
  s = pick(sys, Device::kAuto, "vah264enc");
  fail_unless(s.ok && names(s) == V({"x264enc"}));
  fail_unless(s.rejected == V({"vah264enc: vah264enc did not start with a keyframe"}));
  // probe=entrypoints skips the test encode.
  SelectionRequest req;
  req.device = Device::kVa;
  req.hardware_factories = "vah264enc";
  req.probe = ProbeMode::kEntrypoints;
  int before = sys.encode_tests;
  s = select_candidates(req, sys);
  fail_unless(s.ok && sys.encode_tests == before);
  // No codec support on the node.
  sys.infos[a].encode.clear();
  sys.encode_fails.clear();
  s = pick(sys, Device::kVa, "vah264enc");
  fail_unless(!s.ok);
  fail_unless(s.rejected == V({"vah264enc: " + a + " has no VA encode entrypoint for h264"}));
}
GST_END_TEST;

// Selection through the real element and registry, for every device value.
GST_START_TEST(test_selection_element) {
  require("x264enc");
  struct Case {
    const char *props;
    const char *encoder;  // nullptr: the state change must fail
    const char *error;    // expected fragment of the error
  };
  const bool have_va = steady_have_factory("vah264enc") || steady_have_factory("vah264lpenc");
  const bool have_vaapi = steady_have_factory("vaapih264enc");
  const bool have_nv = steady_have_factory("nvh264enc");
  std::vector<Case> cases = {
      {"device=software", "x264enc", nullptr},
      {"device=software software-factory=openh264enc", "openh264enc", nullptr},
      {"hardware-factories=fakehwenc", "fakehwenc", nullptr},
      {"device=va hardware-factories=fakehwenc", "fakehwenc", nullptr},
      {"device=vaapi hardware-factories=fakehwenc", "fakehwenc", nullptr},
      {"device=nvenc hardware-factories=fakehwenc", "fakehwenc", nullptr},
      {"device=software hardware-factories=fakehwenc", "x264enc", nullptr},
  };
  if (!have_va && !have_vaapi && !have_nv)
    cases.push_back({"device=auto", "x264enc", nullptr});
  if (!have_va)
    cases.push_back({"device=va", nullptr, "device=va: no usable h264 encoder"});
  if (!have_vaapi)
    cases.push_back({"device=vaapi", nullptr, "vaapih264enc: not installed"});
  if (!have_nv)
    cases.push_back({"device=nvenc", nullptr, "nvh264enc: not installed"});
  for (const Case &c : cases) {
    if (std::string(c.props).find("openh264enc") != std::string::npos &&
        !steady_have_factory("openh264enc"))
      continue;
    GstElement *p = launch(h264_pipeline(3, c.props));
    Tap tap;
    attach_tap(p, &tap);
    std::string err = run(p);
    if (c.encoder) {
      fail_unless(err.empty(), "%s: %s", c.props, err.c_str());
      fail_unless(get_str(p, "enc", "encoder") == c.encoder, "%s: got %s", c.props,
                  get_str(p, "enc", "encoder").c_str());
      fail_unless(tap.decoded == 3, "%s: %d decoded", c.props, tap.decoded.load());
    } else {
      fail_unless(err.find(c.error) != std::string::npos, "%s: error '%s'", c.props,
                  err.c_str());
      fail_unless(err.find("device=auto") != std::string::npos, "%s: %s", c.props, err.c_str());
    }
    gst_object_unref(p);
  }
}
GST_END_TEST;

// device=auto falls back to software when the hardware cannot open; counted.
GST_START_TEST(test_fallback_on_open_failure) {
  require("x264enc");
  GstElement *hw = fake_hw();
  GstElement *p = launch(h264_pipeline(3, "hardware-factories=fakehwenc probe=entrypoints"));
  g_object_set(hw, "fail-open", TRUE, nullptr);
  Tap tap;
  attach_tap(p, &tap);
  fail_unless_equals_string(run(p).c_str(), "");
  fail_unless_equals_string(get_str(p, "enc", "encoder").c_str(), "x264enc");
  fail_unless_equals_int(tap.decoded, 3);
  fail_unless_equals_int(stat_u64(p, "fallbacks"), 1);
  gst_object_unref(p);

  // The same failure with a fixed device is an error naming the encoder's own text.
  p = launch(h264_pipeline(3, "device=va hardware-factories=fakehwenc probe=entrypoints"));
  std::string err = run(p);
  fail_unless(err.find("fakehwenc failed to open: fakehwenc: simulated failure to open the "
                       "device") != std::string::npos,
              "%s", err.c_str());
  gst_object_unref(p);
  gst_object_unref(hw);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// probing

GST_START_TEST(test_probe_caches_and_releases) {
  // A "render node" libva cannot initialise, to run the open/close path on this machine.
  g_setenv("VAPOOLENC_RENDER_NODES", "/dev/null", TRUE);
  // Warm up GStreamer's own lazily opened descriptors (registry, plugin loading).
  {
    GstElement *p = launch(h264_pipeline(1, "device=software"));
    fail_unless_equals_string(run(p).c_str(), "");
    gst_object_unref(p);
  }
  const int fds_before = fd_count();
  GstElement *hw = fake_hw();
  guint64 created_before = fake_created();
  ProbeCache &cache = ProbeCache::global();
  SystemAvailability sys(cache);
  SelectionRequest req;
  req.hardware_factories = "fakehwenc,vaapih264enc";
  for (int i = 0; i < 3; i++) {
    Selection s = select_candidates(req, sys);
    fail_unless(s.ok);
    fail_unless_equals_string(s.candidates.front().factory.c_str(), "fakehwenc");
    NodeInfo info = cache.node("/dev/null");
    fail_unless(!info.opened);
    fail_unless(cache.render_nodes() == std::vector<std::string>{"/dev/null"});
  }
  ProbeCache::Counts c = cache.counts();
  fail_unless_equals_int(c.encode_tests, 1);  // computed once, then cached
  fail_unless_equals_int(c.node_queries, 1);
  fail_unless_equals_int(c.enumerations, 1);
  // The test encode opened and closed one simulated hardware session.
  fail_unless_equals_int(fake_created() - created_before, 1);
  fail_unless_equals_int(fake_live(), 0);
  fail_unless_equals_int(DisplayRegistry::global().open_displays(), 0);
  fail_unless_equals_int(fd_count(), fds_before);
  gst_object_unref(hw);
  // Objects: the leaks tracer checks at exit that the probe pipeline is gone.
}
GST_END_TEST;

// Cached probing from several threads at once: one probe, one answer.
GST_START_TEST(test_probe_thread_safe) {
  ProbeCache cache(std::make_unique<SystemVaBackend>());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; i++)
    threads.emplace_back([&] {
      ok += cache.encode_test("fakehwenc", "", EncoderKind::kOther).ok ? 1 : 0;
    });
  for (auto &t : threads)
    t.join();
  fail_unless_equals_int(ok, 4);
  fail_unless_equals_int(cache.counts().encode_tests, 1);
}
GST_END_TEST;

GST_START_TEST(test_display_registry) {
  DisplayRegistry &reg = DisplayRegistry::global();
  {
    auto a = reg.lease("/dev/null");
    auto b = reg.lease("/dev/null");
    fail_unless(a.get() == b.get(), "one display per node");
    fail_unless(!a->has_va_display(), "/dev/null is no VA device");
    fail_unless_equals_int(reg.open_displays(), 1);
  }
  fail_unless_equals_int(reg.open_displays(), 0);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// settings

GST_START_TEST(test_settings_mapping) {
  Settings st;
  st.bitrate_kbps = 2000;
  st.key_int_max = 60;
  st.low_latency = true;
  struct Case {
    const char *factory, *bitrate_prop;
    guint64 bitrate;
    const char *keyint_prop;
  };
  const Case cases[] = {{"x264enc", "bitrate", 2000, "key-int-max"},
                        {"openh264enc", "bitrate", 2000000, "gop-size"},
                        {"vp8enc", "target-bitrate", 2000000, "keyframe-max-dist"},
                        {"x265enc", "bitrate", 2000, "key-int-max"},
                        {"fakehwenc", "target-bitrate", 2000000, "gop-size"}};
  for (const Case &c : cases) {
    if (!steady_have_factory(c.factory))
      continue;
    GstElement *e = GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make(c.factory, nullptr)));
    auto done = apply_settings(e, c.factory, st);
    for (const auto &a : done)
      fail_unless(a.applied, "%s.%s not applied", c.factory, a.property.c_str());
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_UINT64);
    GValue raw = G_VALUE_INIT;
    GParamSpec *ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), c.bitrate_prop);
    g_value_init(&raw, ps->value_type);
    g_object_get_property(G_OBJECT(e), c.bitrate_prop, &raw);
    fail_unless(g_value_transform(&raw, &v));
    fail_unless_equals_uint64(g_value_get_uint64(&v), c.bitrate);
    g_value_unset(&raw);
    g_value_reset(&v);
    ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), c.keyint_prop);
    g_value_init(&raw, ps->value_type);
    g_object_get_property(G_OBJECT(e), c.keyint_prop, &raw);
    fail_unless(g_value_transform(&raw, &v));
    fail_unless_equals_uint64(g_value_get_uint64(&v), 60);
    g_value_unset(&raw);
    g_value_unset(&v);
    gst_object_unref(e);
  }
  if (steady_have_factory("x264enc")) {
    GstElement *e = GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make("x264enc", nullptr)));
    apply_settings(e, "x264enc", st);
    guint bframes = 99;
    g_object_get(e, "bframes", &bframes, nullptr);
    fail_unless_equals_int(bframes, 0);
    GParamSpec *ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "tune");
    GValue v = G_VALUE_INIT;
    g_value_init(&v, ps->value_type);
    g_object_get_property(G_OBJECT(e), "tune", &v);
    GFlagsClass *fc = G_FLAGS_CLASS(g_type_class_ref(ps->value_type));
    guint zerolatency = g_flags_get_value_by_nick(fc, "zerolatency")->value;
    fail_unless_equals_int(g_value_get_flags(&v) & zerolatency, zerolatency);
    g_type_class_unref(fc);
    g_value_unset(&v);
    gst_object_unref(e);
  }
  const std::string key = st.key();
  fail_unless_equals_string(key.c_str(), "bitrate=2000,key-int-max=60,low-latency=1");
  fail_unless(find_mapping("vah264lpenc") != nullptr &&
              std::string(find_mapping("vah264lpenc")->keyint_prop) == "key-int-max");
  fail_unless(std::string(find_mapping("vaapih264enc")->keyint_prop) == "keyframe-period");
  fail_unless(std::string(find_mapping("nvh264enc")->keyint_prop) == "gop-size");
  fail_unless(find_mapping("unknownenc") == nullptr);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// the pool through the element

// 100 sequential user sessions with one key: one encoder session serves them all.
GST_START_TEST(test_reuse_100_sessions) {
  require("avdec_h264");
  const int kSessions = 100, kFrames = 5;
  GstElement *hw = fake_hw();
  const std::string props = "hardware-factories=fakehwenc bitrate=500 key-int-max=30";
  const guint64 created_before = fake_created();
  for (int i = 0; i < kSessions; i++) {
    GstElement *p = launch(h264_pipeline(kFrames, props));
    Tap tap;
    attach_tap(p, &tap);
    fail_unless_equals_string(run(p).c_str(), "");
    fail_unless_equals_string(get_str(p, "enc", "encoder").c_str(), "fakehwenc");
    fail_unless(get_prop<gboolean>(p, "enc", "reused") == (i > 0), "session %d", i);
    fail_unless_equals_int(tap.keyframes.size(), kFrames);
    fail_unless(tap.keyframes.front(), "session %d did not start with a keyframe", i);
    fail_unless_equals_int(tap.decoded, kFrames);
    fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-in"), kFrames);
    fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-out"), kFrames);
    fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-lost"), 0);
    if (i == kSessions - 1) {
      fail_unless_equals_uint64(stat_u64(p, "created"), 1);
      fail_unless_equals_uint64(stat_u64(p, "reused"), kSessions - 1);
      fail_unless_equals_uint64(stat_u64(p, "parked"), 1);
      fail_unless_equals_uint64(stat_u64(p, "active"), 0);
      GstElement *e = child(p, "enc");
      GstStructure *s = nullptr;
      g_object_get(e, "pool-stats", &s, nullptr);
      double rate = 0;
      fail_unless(gst_structure_get_double(s, "reuse-rate", &rate));
      fail_unless(rate == 0.99, "reuse-rate %f", rate);
      gst_structure_free(s);
      gst_object_unref(e);
    }
    gst_object_unref(p);
  }
  // Two simulated hardware sessions in all: the probe's one-frame test encode (closed at
  // once), and the one that served the 100 users.
  fail_unless_equals_uint64(fake_created() - created_before, 2);
  fail_unless_equals_int(fake_live(), 1);  // the parked one keeps its context
  gst_object_unref(hw);
}
GST_END_TEST;

GST_START_TEST(test_no_reuse_across_keys) {
  require("avdec_h264");
  const char *small = "video/x-raw,format=I420,width=160,height=120,framerate=30/1";
  const char *other_size = "video/x-raw,format=I420,width=176,height=144,framerate=30/1";
  const char *other_rate = "video/x-raw,format=I420,width=160,height=120,framerate=25/1";
  const char *other_format = "video/x-raw,format=NV12,width=160,height=120,framerate=30/1";
  struct Step {
    const char *caps;
    const char *props;
    bool reused;
  };
  const char *hw = "hardware-factories=fakehwenc max-idle=8";
  const std::string hw_b = std::string(hw) + " bitrate=700";
  const std::string hw_k = std::string(hw) + " key-int-max=10";
  const std::string hw_l = std::string(hw) + " low-latency=false";
  const Step steps[] = {
      {small, hw, false},          {other_size, hw, false},      {other_rate, hw, false},
      {other_format, hw, false},   {small, hw_b.c_str(), false}, {small, hw_k.c_str(), false},
      {small, hw_l.c_str(), false}, {small, "device=software max-idle=8", false},
      // Every key seen once is parked now: each comes back reused.
      {small, hw, true},           {other_size, hw, true},       {small, hw_b.c_str(), true},
      {small, "device=software max-idle=8", true},
  };
  int i = 0;
  for (const Step &s : steps) {
    GstElement *p = launch(h264_pipeline(3, s.props, s.caps));
    Tap tap;
    attach_tap(p, &tap);
    fail_unless_equals_string(run(p).c_str(), "");
    fail_unless(get_prop<gboolean>(p, "enc", "reused") == s.reused, "step %d (%s %s)", i,
                s.caps, s.props);
    fail_unless_equals_int(tap.decoded, 3);
    fail_unless(tap.keyframes.front());
    i++;
    gst_object_unref(p);
  }
}
GST_END_TEST;

// max-idle bounds what stays parked per (factory, node); the oldest goes first.
GST_START_TEST(test_max_idle) {
  const char *sizes[] = {"width=160,height=120", "width=176,height=144", "width=192,height=144"};
  GstElement *last = nullptr;
  for (const char *size : sizes) {
    std::string caps = std::string("video/x-raw,format=I420,framerate=30/1,") + size;
    GstElement *p = launch(h264_pipeline(2, "hardware-factories=fakehwenc max-idle=2", caps.c_str()));
    fail_unless_equals_string(run(p).c_str(), "");
    if (last)
      gst_object_unref(last);
    last = p;
  }
  fail_unless_equals_uint64(stat_u64(last, "created"), 3);
  fail_unless_equals_uint64(stat_u64(last, "parked"), 2);
  // The third park evicted the first session (destroyed on the pool thread: drain waits for it).
  GstElement *enc = child(last, "enc");
  guint drained = 0;
  g_signal_emit_by_name(enc, "drain-pool", &drained);
  fail_unless_equals_int(drained, 2);
  fail_unless_equals_uint64(stat_u64(last, "destroyed"), 3);
  fail_unless_equals_int(fake_live(), 0);
  gst_object_unref(enc);
  gst_object_unref(last);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// max-sessions and acquire-timeout

static GstElement *prerolled(const std::string &props, const char *caps = kRaw) {
  GstElement *p = launch("videotestsrc ! " + std::string(caps) + " ! vapoolenc name=enc " +
                         props + " ! fakesink name=out");
  gst_element_set_state(p, GST_STATE_PAUSED);
  return p;
}

static void wait_prerolled(GstElement *p) {
  GstState state;
  fail_unless_equals_int(gst_element_get_state(p, &state, nullptr, 30 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);
}

static GstMessage *pop(GstElement *p, GstMessageType types, GstClockTime timeout = 30 * GST_SECOND) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, timeout, types);
  gst_object_unref(bus);
  return m;
}

GST_START_TEST(test_max_sessions_fallback_after_timeout) {
  const std::string props = "hardware-factories=fakehwenc max-sessions=2 acquire-timeout=150";
  GstElement *a = prerolled(props);
  wait_prerolled(a);
  GstElement *b = prerolled(props);
  wait_prerolled(b);
  fail_unless_equals_string(get_str(a, "enc", "encoder").c_str(), "fakehwenc");
  fail_unless_equals_string(get_str(b, "enc", "encoder").c_str(), "fakehwenc");
  // The third concurrent session waits 150 ms, then device=auto falls back to software.
  GstElement *c = prerolled(props);
  GstMessage *waiting = pop(c, GST_MESSAGE_ELEMENT);
  fail_unless(waiting && gst_message_has_name(waiting, "vapoolenc-waiting"));
  gst_message_unref(waiting);
  wait_prerolled(c);
  fail_unless_equals_string(get_str(c, "enc", "encoder").c_str(), "x264enc");
  fail_unless_equals_uint64(stat_u64(c, "limit-waits"), 1);
  fail_unless_equals_uint64(stat_u64(c, "fallbacks"), 1);
  fail_unless_equals_uint64(stat_u64(c, "active"), 3);
  fail_unless_equals_int(fake_live(), 2);
  for (GstElement *p : {a, b, c}) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

GST_START_TEST(test_max_sessions_fixed_device_error) {
  const std::string props =
      "device=va hardware-factories=fakehwenc max-sessions=1 acquire-timeout=100";
  GstElement *a = prerolled(props);
  wait_prerolled(a);
  GstElement *b = prerolled(props);
  GstMessage *err = pop(b, GST_MESSAGE_ERROR);
  fail_unless(err != nullptr);
  GError *e = nullptr;
  gst_message_parse_error(err, &e, nullptr);
  fail_unless(g_error_matches(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_BUSY));
  fail_unless(strstr(e->message, "max-sessions=1 reached for fakehwenc@-") != nullptr, "%s",
              e->message);
  fail_unless(strstr(e->message, "acquire-timeout=100 ms") != nullptr, "%s", e->message);
  g_error_free(e);
  gst_message_unref(err);
  fail_unless_equals_int(fake_live(), 1);
  for (GstElement *p : {a, b}) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// A session released while another waits: the waiter takes it within acquire-timeout.
GST_START_TEST(test_max_sessions_released_within_timeout) {
  const std::string props = "hardware-factories=fakehwenc max-sessions=1 acquire-timeout=20000";
  GstElement *a = prerolled(props);
  wait_prerolled(a);
  GstElement *b = prerolled(props);
  GstMessage *waiting = pop(b, GST_MESSAGE_ELEMENT);
  fail_unless(waiting && gst_message_has_name(waiting, "vapoolenc-waiting"));
  gst_message_unref(waiting);
  // a's user leaves: its session is parked and handed to b, which has the same key.
  gst_element_set_state(a, GST_STATE_NULL);
  wait_prerolled(b);
  fail_unless_equals_string(get_str(b, "enc", "encoder").c_str(), "fakehwenc");
  fail_unless(get_prop<gboolean>(b, "enc", "reused"));
  fail_unless_equals_uint64(stat_u64(b, "limit-waits"), 1);
  fail_unless_equals_uint64(stat_u64(b, "fallbacks"), 0);
  fail_unless_equals_int(fake_live(), 1);

  // With another key, the waiter evicts the parked session instead of failing.
  gst_element_set_state(b, GST_STATE_NULL);  // parks b's session
  GstElement *c =
      prerolled(props, "video/x-raw,format=I420,width=176,height=144,framerate=30/1");
  wait_prerolled(c);
  fail_unless_equals_string(get_str(c, "enc", "encoder").c_str(), "fakehwenc");
  fail_unless(!get_prop<gboolean>(c, "enc", "reused"));
  fail_unless_equals_uint64(stat_u64(c, "destroyed"), 1);
  fail_unless_equals_int(fake_live(), 1);
  for (GstElement *p : {a, b, c}) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// idle expiry on a test clock

static Created make_x264(const SessionKey &) {
  Created c;
  c.element = GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make("x264enc", nullptr)));
  gst_element_set_state(c.element, GST_STATE_PAUSED);
  return c;
}

GST_START_TEST(test_idle_expiry_core) {
  SessionPool pool;
  GstClock *clock = gst_test_clock_new_with_start_time(0);
  pool.set_clock(clock);
  SessionKey k1{"x264enc", "", "I420 160x120 30/1 progressive", "s"};
  SessionKey k2{"x264enc", "", "I420 176x144 30/1 progressive", "s"};
  auto a = pool.acquire(k1, AcquireLimits{}, make_x264);
  auto b = pool.acquire(k2, AcquireLimits{}, make_x264);
  fail_unless(a.outcome == SessionPool::Outcome::kNew && b.outcome == SessionPool::Outcome::kNew);
  pool.release(std::move(a.session), ParkLimits{2, 30 * GST_SECOND});
  gst_test_clock_set_time(GST_TEST_CLOCK(clock), 5 * GST_SECOND);
  pool.release(std::move(b.session), ParkLimits{2, 30 * GST_SECOND});
  fail_unless_equals_int(pool.stats().parked, 2);

  // The pool thread waits for the first expiry: k1 at 30 s.
  GstClockID id = nullptr;
  gst_test_clock_wait_for_next_pending_id(GST_TEST_CLOCK(clock), &id);
  fail_unless_equals_uint64(gst_clock_id_get_time(id), 30 * GST_SECOND);
  gst_clock_id_unref(id);
  fail_unless_equals_int(pool.stats().destroyed, 0);
  fail_unless(gst_test_clock_crank(GST_TEST_CLOCK(clock)));
  // Once k1 is destroyed the thread waits for k2 (35 s): it registers that wait only after.
  gst_test_clock_wait_for_next_pending_id(GST_TEST_CLOCK(clock), &id);
  fail_unless_equals_uint64(gst_clock_id_get_time(id), 35 * GST_SECOND);
  gst_clock_id_unref(id);
  PoolStats s = pool.stats();
  fail_unless_equals_int(s.destroyed, 1);
  fail_unless_equals_int(s.parked, 1);
  // Taking k2 before it expires cancels its expiry.
  auto again = pool.acquire(k2, AcquireLimits{}, make_x264);
  fail_unless(again.outcome == SessionPool::Outcome::kReused);
  fail_unless_equals_int(pool.stats().parked, 0);
  pool.release(std::move(again.session), ParkLimits{2, 10 * GST_SECOND});
  fail_unless(gst_test_clock_crank(GST_TEST_CLOCK(clock)));
  fail_unless(pool.wait_for([](const PoolStats &st) { return st.destroyed == 2; },
                            std::chrono::seconds(10)));
  fail_unless_equals_uint64(gst_clock_get_time(clock), 40 * GST_SECOND);  // parked at 30 s
  fail_unless_equals_int(pool.stats().cleanup_failures, 0);
  pool.shutdown();
  gst_object_unref(clock);
}
GST_END_TEST;

// The same through the element, with the test clock installed as the pool clock.
GST_START_TEST(test_idle_expiry_element) {
  GstClock *clock = gst_test_clock_new_with_start_time(0);
  GstElement *p0 = nullptr, *enc = nullptr;
  const char *sizes[] = {"width=160,height=120", "width=176,height=144", "width=192,height=144"};
  for (int i = 0; i < 3; i++) {
    std::string caps = std::string("video/x-raw,format=I420,framerate=30/1,") + sizes[i];
    std::string props = "hardware-factories=fakehwenc max-idle=4 idle-timeout=" +
                        std::to_string((i + 1) * 1000);
    GstElement *p = launch(h264_pipeline(2, props, caps.c_str()));
    if (!p0) {
      p0 = p;
      enc = child(p, "enc");
      g_object_set(enc, "pool-clock", clock, nullptr);  // process-wide
    }
    fail_unless_equals_string(run(p).c_str(), "");
    if (p != p0)
      gst_object_unref(p);
  }
  fail_unless_equals_uint64(stat_u64(p0, "parked"), 3);
  fail_unless_equals_int(fake_live(), 3);

  // Each crank expires one session; the pool thread registers its next wait only after
  // destroying the expired one, so waiting for that wait is the synchronisation point.
  for (int i = 1; i <= 2; i++) {
    GstClockID id = nullptr;
    gst_test_clock_wait_for_next_pending_id(GST_TEST_CLOCK(clock), &id);
    fail_unless_equals_uint64(gst_clock_id_get_time(id), i * GST_SECOND);
    gst_clock_id_unref(id);
    fail_unless_equals_uint64(stat_u64(p0, "destroyed"), i - 1);
    fail_unless(gst_test_clock_crank(GST_TEST_CLOCK(clock)));
  }
  GstClockID id = nullptr;
  gst_test_clock_wait_for_next_pending_id(GST_TEST_CLOCK(clock), &id);
  fail_unless_equals_uint64(gst_clock_id_get_time(id), 3 * GST_SECOND);
  gst_clock_id_unref(id);
  fail_unless_equals_uint64(stat_u64(p0, "destroyed"), 2);
  fail_unless_equals_uint64(stat_u64(p0, "parked"), 1);
  fail_unless_equals_uint64(stat_u64(p0, "cleanup-failures"), 0);
  fail_unless_equals_int(fake_live(), 1);
  guint drained = 0;
  g_signal_emit_by_name(enc, "drain-pool", &drained);
  fail_unless_equals_int(drained, 1);
  fail_unless_equals_uint64(stat_u64(p0, "destroyed"), 3);
  fail_unless_equals_int(fake_live(), 0);
  g_object_set(enc, "pool-clock", nullptr, nullptr);
  gst_object_unref(enc);
  gst_object_unref(p0);
  gst_object_unref(clock);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// failover

GST_START_TEST(test_failover_mid_stream) {
  require("avdec_h264");
  GstElement *hw = fake_hw();
  g_object_set(hw, "fail-after", 10, nullptr);  // each hardware session fails on frame 11
  const int kFrames = 30;
  GstElement *p = launch(h264_pipeline(kFrames, "hardware-factories=fakehwenc"));
  Tap tap;
  attach_tap(p, &tap);
  std::vector<GstStructure *> elements;
  std::vector<std::string> warnings;
  fail_unless_equals_string(run(p, &elements, &warnings).c_str(), "");

  GstStructure *failover = nullptr;
  for (GstStructure *s : elements)
    if (gst_structure_has_name(s, "vapoolenc-failover"))
      failover = s;
  fail_unless(failover != nullptr, "no vapoolenc-failover message");
  fail_unless_equals_string(gst_structure_get_string(failover, "from"), "fakehwenc");
  fail_unless_equals_string(gst_structure_get_string(failover, "to"), "x264enc");
  fail_unless_equals_string(gst_structure_get_string(failover, "reason"),
                            "fakehwenc: simulated hardware failure after 10 frames");
  guint64 lost = 99;
  fail_unless(gst_structure_get_uint64(failover, "frames-lost", &lost));
  fail_unless_equals_uint64(lost, 1);  // the frame the hardware failed on
  fail_unless_equals_int(warnings.size(), 1);
  fail_unless(warnings[0].find("switched to x264enc") != std::string::npos);
  for (GstStructure *s : elements)
    gst_structure_free(s);

  // Exact accounting: in == out + lost, and what went out decodes.
  fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-in"), kFrames);
  fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-out"), kFrames - 1);
  fail_unless_equals_uint64(get_prop<guint64>(p, "enc", "frames-lost"), 1);
  fail_unless_equals_int(get_prop<guint>(p, "enc", "failovers"), 1);
  fail_unless_equals_string(get_str(p, "enc", "encoder").c_str(), "x264enc");
  fail_unless_equals_int(tap.keyframes.size(), kFrames - 1);
  fail_unless(tap.keyframes[0], "hardware output starts with a keyframe");
  fail_unless(tap.keyframes[10], "software output after the swap starts with a keyframe");
  fail_unless_equals_int(tap.decoded, kFrames - 1);
  gst_object_unref(p);
  // The failed hardware session was destroyed, not parked.
  p = launch(h264_pipeline(1, "hardware-factories=fakehwenc"));
  fail_unless_equals_string(run(p).c_str(), "");
  GstElement *enc = child(p, "enc");
  guint drained = 0;
  g_signal_emit_by_name(enc, "drain-pool", &drained);
  gst_object_unref(enc);
  fail_unless_equals_int(fake_live(), 0);
  gst_object_unref(p);

  // A fixed device has no failover: the hardware error stops the pipeline.
  p = launch(h264_pipeline(kFrames, "device=va hardware-factories=fakehwenc"));
  std::string err = run(p);
  fail_unless(err.find("simulated hardware failure after 10 frames") != std::string::npos, "%s",
              err.c_str());
  gst_object_unref(p);
  gst_object_unref(hw);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// errors

GST_START_TEST(test_error_unknown_codec) {
  GstElement *p = launch(h264_pipeline(1, "codec=h266"));
  std::string err = run(p);
  fail_unless(err.find("unknown codec 'h266': set codec to one of h264, h265, vp8, vp9, av1") ==
                  0,
              "%s", err.c_str());
  gst_object_unref(p);
}
GST_END_TEST;

GST_START_TEST(test_error_missing_encoder) {
  GstElement *p = launch(h264_pipeline(1, "device=software software-factory=nosuchenc"));
  std::string err = run(p);
  fail_unless(err.find("device=software: no software h264 encoder (nosuchenc: not installed). "
                       "Install one or set software-factory to an installed encoder") == 0,
              "%s", err.c_str());
  gst_object_unref(p);
  p = launch(h264_pipeline(1, "device=nvenc hardware-factories=nosuchhwenc"));
  err = run(p);
  fail_unless(err.find("device=nvenc: no usable h264 encoder (nosuchhwenc: not installed). Use "
                       "device=auto to fall back to software, or device=software") == 0,
              "%s", err.c_str());
  gst_object_unref(p);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// other codecs on the real software path

GST_START_TEST(test_software_codecs) {
  struct Case {
    const char *codec, *encoder, *decoder;
  };
  const Case cases[] = {{"vp8", "vp8enc", "vp8dec"}, {"vp9", "vp9enc", "vp9dec"}};
  for (const Case &c : cases) {
    if (!steady_have_factory(c.encoder) || !steady_have_factory(c.decoder))
      continue;
    for (int i = 0; i < 2; i++) {
      GstElement *p = launch(std::string("videotestsrc num-buffers=4 ! ") + kRaw +
                             " ! vapoolenc name=enc codec=" + c.codec + " ! " + c.decoder +
                             " ! fakesink name=out sync=false");
      Tap tap;
      attach_tap(p, &tap);
      std::string err = run(p);
      fail_unless(err.empty(), "%s: %s", c.codec, err.c_str());
      fail_unless_equals_string(get_str(p, "enc", "encoder").c_str(), c.encoder);
      fail_unless(get_prop<gboolean>(p, "enc", "reused") == (i == 1));
      fail_unless(tap.keyframes.front());
      fail_unless_equals_int(tap.decoded, 4);
      gst_object_unref(p);
    }
  }
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// shutdown

// Leaves parked sessions of several encoders behind: gst_deinit() (at exit of this forked
// test) must drain them before the leaks tracer reports, or this test fails.
GST_START_TEST(test_clean_shutdown_with_parked_sessions) {
  GstElement *hw = fake_hw();
  for (const char *props : {"hardware-factories=fakehwenc", "device=software"}) {
    GstElement *p = launch(h264_pipeline(2, props));
    fail_unless_equals_string(run(p).c_str(), "");
    gst_object_unref(p);
  }
  fail_unless_equals_int(fake_live(), 1);
  gst_object_unref(hw);
}
GST_END_TEST;

static Suite *vapoolenc_suite() {
  Suite *s = suite_create("vapoolenc");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_selection_every_device);
  tcase_add_test(tc, test_selection_nodes_and_probe);
  tcase_add_test(tc, test_selection_element);
  tcase_add_test(tc, test_fallback_on_open_failure);
  tcase_add_test(tc, test_probe_caches_and_releases);
  tcase_add_test(tc, test_probe_thread_safe);
  tcase_add_test(tc, test_display_registry);
  tcase_add_test(tc, test_settings_mapping);
  tcase_add_test(tc, test_reuse_100_sessions);
  tcase_add_test(tc, test_no_reuse_across_keys);
  tcase_add_test(tc, test_max_idle);
  tcase_add_test(tc, test_max_sessions_fallback_after_timeout);
  tcase_add_test(tc, test_max_sessions_fixed_device_error);
  tcase_add_test(tc, test_max_sessions_released_within_timeout);
  tcase_add_test(tc, test_idle_expiry_core);
  tcase_add_test(tc, test_idle_expiry_element);
  tcase_add_test(tc, test_failover_mid_stream);
  tcase_add_test(tc, test_error_unknown_codec);
  tcase_add_test(tc, test_error_missing_encoder);
  tcase_add_test(tc, test_software_codecs);
  tcase_add_test(tc, test_clean_shutdown_with_parked_sessions);
  return s;
}

GST_CHECK_MAIN(vapoolenc);
