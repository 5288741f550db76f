// Tests for vapoolenc: selection, probing, the session pool (reuse, keys, limits, idle
// expiry), failover and shutdown. Hardware is stood in for by the test-only `fakehwenc`
// (tests/plugins/fakehwenc); the software path uses the real x264enc/openh264enc/vp8enc and
// every encoded stream is decoded with a real decoder.
#include "steady-check.h"

#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "vapoolenc-display.h"
#include "vapoolenc-fixture.h"
#include "vapoolenc-pool.h"
#include "vapoolenc-probe.h"
#include "vapoolenc-selection.h"
#include "vapoolenc-settings.h"

// ---------------------------------------------------------------------------------------------
// selection (core, with a stand-in system)

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
  all.factories = {"vah264lpenc", "vah264enc", "vaapih264enc",
                   "nvh264enc",   "x264enc",   "openh264enc"};
  all.add_node(n, true, true);
  all.va_paths = {{"vah264lpenc", n}, {"vah264enc", n}};
  FakeSystem none;  // nothing but software
  none.factories = {"x264enc"};
  FakeSystem nothing;  // not even software

  using V = std::vector<std::string>;
  // auto
  Selection s = pick(all, Device::kAuto);
  fail_unless(s.ok);
  fail_unless(names(s) == V({"vah264lpenc@" + n, "vah264enc@" + n, "vaapih264enc@" + n, "nvh264enc",
                             "x264enc"}));
  s = pick(none, Device::kAuto);
  fail_unless(s.ok && names(s) == V({"x264enc"}));
  s = pick(nothing, Device::kAuto);
  fail_unless(!s.ok);
  fail_unless(s.error.find("device=auto: no usable h264 encoder") != std::string::npos, "%s",
              s.error.c_str());
  // va
  s = pick(all, Device::kVa);
  fail_unless(s.ok && names(s) == V({"vah264lpenc@" + n, "vah264enc@" + n}));
  s = pick(none, Device::kVa);
  fail_unless(!s.ok);
  fail_unless(
      s.error.find("vah264lpenc: not installed; vah264enc: not installed") != std::string::npos,
      "%s", s.error.c_str());
  fail_unless(s.error.find("device=auto") != std::string::npos);
  // vaapi
  s = pick(all, Device::kVaapi);
  fail_unless(s.ok && names(s) == V({"vaapih264enc@" + n}));
  s = pick(none, Device::kVaapi);
  fail_unless(!s.ok);
  fail_unless(s.error ==
                  "device=vaapi: the gstreamer-vaapi elements are not installed (no "
                  "vaapih264enc; gstreamer-vaapi registers them only where it opens a VA device): "
                  "install gstreamer-vaapi (Debian: gstreamer1.0-vaapi), or use "
                  "device=va for the va plugin's encoders or device=auto to fall back to software",
              "%s", s.error.c_str());
  // Installed but unusable (no render node): the generic message naming why.
  FakeSystem vaapi_no_node;
  vaapi_no_node.factories = {"vaapih264enc", "x264enc"};
  s = pick(vaapi_no_node, Device::kVaapi);
  fail_unless(!s.ok);
  fail_unless(
      s.error.find("device=vaapi: no usable h264 encoder (vaapih264enc: no render node)") == 0,
      "%s", s.error.c_str());
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
  // Built-in order: the per-device twins are found, and va candidates go node by node (the
  // first node lacks EncSliceLP, so its lpenc is rejected).
  sys.factories.insert("varenderD129h264lpenc");
  sys.va_paths["varenderD129h264lpenc"] = b;
  s = pick(sys, Device::kVa);
  fail_unless(s.ok);
  fail_unless(
      names(s) == V({"vah264enc@" + a, "varenderD129h264lpenc@" + b, "varenderD129h264enc@" + b}),
      "%s", join(names(s)).c_str());
  // With the first node unable to encode, the default node is the second.
  sys.infos[a].encode.clear();
  s = pick(sys, Device::kAuto);
  fail_unless(names(s) == V({"varenderD129h264lpenc@" + b, "varenderD129h264enc@" + b, "x264enc"}),
              "%s", join(names(s)).c_str());
  sys.add_node(a, true, false);  // restore (replaces the info; nodes list gains a duplicate)
  sys.nodes.pop_back();
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
    cases.push_back({"device=vaapi", nullptr, "the gstreamer-vaapi elements are not installed"});
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
      fail_unless(err.find(c.error) != std::string::npos, "%s: error '%s'", c.props, err.c_str());
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
  EXPECT_STR(run(p), "");
  EXPECT_STR(get_str(p, "enc", "encoder"), "x264enc");
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
    EXPECT_STR(run(p), "");
    gst_object_unref(p);
  }
  {
    // The system clock opens its wakeup socket pair on its first wait, once per process.
    GstClock *clock = gst_system_clock_obtain();
    GstClockID id = gst_clock_new_single_shot_id(clock, gst_clock_get_time(clock));
    gst_clock_id_wait(id, nullptr);
    gst_clock_id_unref(id);
    gst_object_unref(clock);
  }
  const int fds_before = fd_count();
  const std::string fds_before_list = fd_list();
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
  fail_unless(fd_count() == fds_before, "descriptors before: %s after: %s", fds_before_list.c_str(),
              fd_list().c_str());
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
    threads.emplace_back(
        [&] { ok += cache.encode_test("fakehwenc", "", EncoderKind::kOther).ok ? 1 : 0; });
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
    EXPECT_STR(run(p), "");
    EXPECT_STR(get_str(p, "enc", "encoder"), "fakehwenc");
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
      {small, hw, false},
      {other_size, hw, false},
      {other_rate, hw, false},
      {other_format, hw, false},
      {small, hw_b.c_str(), false},
      {small, hw_k.c_str(), false},
      {small, hw_l.c_str(), false},
      {small, "device=software max-idle=8", false},
      // Every key seen once is parked now: each comes back reused.
      {small, hw, true},
      {other_size, hw, true},
      {small, hw_b.c_str(), true},
      {small, "device=software max-idle=8", true},
  };
  int i = 0;
  for (const Step &s : steps) {
    GstElement *p = launch(h264_pipeline(3, s.props, s.caps));
    Tap tap;
    attach_tap(p, &tap);
    EXPECT_STR(run(p), "");
    fail_unless(get_prop<gboolean>(p, "enc", "reused") == s.reused, "step %d (%s %s)", i, s.caps,
                s.props);
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
    GstElement *p =
        launch(h264_pipeline(2, "hardware-factories=fakehwenc max-idle=2", caps.c_str()));
    EXPECT_STR(run(p), "");
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

// Pushes `n` I420 frames of w x h with consecutive timestamps.
static void push_frames(GstHarness *h, int w, int hgt, int n, GstClockTime *pts) {
  for (int i = 0; i < n; i++) {
    GstBuffer *b = gst_harness_create_buffer(h, static_cast<gsize>(w * hgt * 3 / 2));
    gst_buffer_memset(b, 0, static_cast<guint8>(16 * i), static_cast<gsize>(w * hgt * 3 / 2));
    GST_BUFFER_PTS(b) = *pts;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    *pts += GST_SECOND / 30;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
}

// Input caps change mid-stream: the session key changes, so the old session is parked and
// another taken; every frame is accounted for and each segment starts with a keyframe. A
// flush in between changes nothing in the accounting.
GST_START_TEST(test_caps_change_and_flush_mid_stream) {
  GstElement *element =
      GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make("vapoolenc", nullptr)));
  g_object_set(element, "hardware-factories", "fakehwenc", nullptr);
  GstHarness *h = gst_harness_new_empty();
  static GstStaticPadTemplate raw =
      GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));
  static GstStaticPadTemplate any =
      GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
  gst_harness_add_element_full(h, element, &raw, "sink", &any, "src");
  gst_object_unref(element);  // the harness holds its own
  gst_harness_play(h);
  GstClockTime pts = 0;
  gst_harness_set_src_caps_str(h, "video/x-raw,format=I420,width=160,height=120,framerate=30/1");
  push_frames(h, 160, 120, 3, &pts);
  gst_harness_push_event(h, gst_event_new_flush_start());
  gst_harness_push_event(h, gst_event_new_flush_stop(FALSE));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = pts;
  segment.time = pts;
  gst_harness_push_event(h, gst_event_new_segment(&segment));  // as an upstream after a flush
  push_frames(h, 160, 120, 2, &pts);
  gst_harness_set_src_caps_str(h, "video/x-raw,format=I420,width=176,height=144,framerate=30/1");
  push_frames(h, 176, 144, 3, &pts);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));

  std::vector<bool> keys;
  while (GstBuffer *b = gst_harness_try_pull(h)) {
    keys.push_back(!GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT));
    gst_buffer_unref(b);
  }
  fail_unless_equals_int(keys.size(), 8);
  fail_unless(keys[0] && keys[5], "each session starts with a keyframe");
  guint64 in = 0, out = 0, lost = 0;
  g_object_get(h->element, "frames-in", &in, "frames-out", &out, "frames-lost", &lost, nullptr);
  fail_unless_equals_uint64(in, 8);
  fail_unless_equals_uint64(out, 8);
  fail_unless_equals_uint64(lost, 0);
  GstStructure *st = nullptr;
  g_object_get(h->element, "pool-stats", &st, nullptr);
  guint64 created = 0;
  guint parked = 0, active = 0;
  gst_structure_get(st, "created", G_TYPE_UINT64, &created, "parked", G_TYPE_UINT, &parked,
                    "active", G_TYPE_UINT, &active, nullptr);
  gst_structure_free(st);
  fail_unless_equals_uint64(created, 2);
  fail_unless_equals_int(parked, 1);  // the 160x120 session, parked at the caps change
  fail_unless_equals_int(active, 1);
  gst_harness_teardown(h);
}
GST_END_TEST;

// A session that will not reach NULL is logged and counted, kept (never freed in a non-NULL
// state), and destroyed by a later drain once it can be.
GST_START_TEST(test_cleanup_failure_counted) {
  GstElement *hw = fake_hw();
  GstElement *p = launch(h264_pipeline(2, "hardware-factories=fakehwenc"));
  EXPECT_STR(run(p), "");
  GstElement *enc = child(p, "enc");
  g_object_set(hw, "fail-close", TRUE, nullptr);
  guint drained = 0;
  g_signal_emit_by_name(enc, "drain-pool", &drained);
  fail_unless_equals_int(drained, 1);
  fail_unless_equals_uint64(stat_u64(p, "cleanup-failures"), 1);
  fail_unless_equals_uint64(stat_u64(p, "destroyed"), 0);
  g_object_set(hw, "fail-close", FALSE, nullptr);
  g_signal_emit_by_name(enc, "drain-pool", &drained);  // retries the kept session
  fail_unless_equals_int(drained, 0);
  fail_unless_equals_uint64(stat_u64(p, "cleanup-failures"), 1);
  fail_unless_equals_uint64(stat_u64(p, "destroyed"), 1);
  fail_unless_equals_int(fake_live(), 0);
  gst_object_unref(enc);
  gst_object_unref(p);
  gst_object_unref(hw);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// max-sessions and acquire-timeout

static GstElement *prerolled(const std::string &props, const char *caps = kRaw) {
  GstElement *p = launch("videotestsrc ! " + std::string(caps) + " ! vapoolenc name=enc " + props +
                         " ! fakesink name=out");
  gst_element_set_state(p, GST_STATE_PAUSED);
  return p;
}

static void wait_prerolled(GstElement *p) {
  GstState state;
  fail_unless_equals_int(gst_element_get_state(p, &state, nullptr, 30 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);
}

static GstMessage *pop(GstElement *p, GstMessageType types,
                       GstClockTime timeout = 30 * GST_SECOND) {
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
  EXPECT_STR(get_str(a, "enc", "encoder"), "fakehwenc");
  EXPECT_STR(get_str(b, "enc", "encoder"), "fakehwenc");
  // The third concurrent session waits 150 ms, then device=auto falls back to software.
  GstElement *c = prerolled(props);
  GstMessage *waiting = pop(c, GST_MESSAGE_ELEMENT);
  fail_unless(waiting && gst_message_has_name(waiting, "vapoolenc-waiting"));
  gst_message_unref(waiting);
  wait_prerolled(c);
  EXPECT_STR(get_str(c, "enc", "encoder"), "x264enc");
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

// The hardware itself refuses a session (its budget is exhausted, as a driver out of contexts
// refuses vaCreateContext): device=auto falls back to software without an error on the bus; a
// fixed device fails with the encoder's own error.
GST_START_TEST(test_hardware_refuses_session) {
  GstElement *hw = fake_hw();
  g_object_set(hw, "session-budget", 1, nullptr);
  GstElement *a = prerolled("hardware-factories=fakehwenc probe=entrypoints");
  wait_prerolled(a);
  GstElement *b = prerolled("hardware-factories=fakehwenc probe=entrypoints");
  wait_prerolled(b);
  EXPECT_STR(get_str(a, "enc", "encoder"), "fakehwenc");
  EXPECT_STR(get_str(b, "enc", "encoder"), "x264enc");
  fail_unless_equals_uint64(stat_u64(b, "fallbacks"), 1);
  GstMessage *err = pop(b, GST_MESSAGE_ERROR, 0);
  fail_unless(err == nullptr, "the refused hardware session's error must not reach the bus");
  guint64 refused = 0;
  g_object_get(hw, "sessions-refused", &refused, nullptr);
  fail_unless_equals_uint64(refused, 1);

  GstElement *c = prerolled("device=va hardware-factories=fakehwenc probe=entrypoints");
  err = pop(c, GST_MESSAGE_ERROR);
  fail_unless(err != nullptr);
  GError *e = nullptr;
  gst_message_parse_error(err, &e, nullptr);
  fail_unless(strstr(e->message, "session budget of 1 exhausted") != nullptr, "%s", e->message);
  g_error_free(e);
  gst_message_unref(err);
  for (GstElement *p : {a, b, c}) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
  gst_object_unref(hw);
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
  EXPECT_STR(get_str(b, "enc", "encoder"), "fakehwenc");
  fail_unless(get_prop<gboolean>(b, "enc", "reused"));
  fail_unless_equals_uint64(stat_u64(b, "limit-waits"), 1);
  fail_unless_equals_uint64(stat_u64(b, "fallbacks"), 0);
  fail_unless_equals_int(fake_live(), 1);

  // With another key, the waiter evicts the parked session instead of failing.
  gst_element_set_state(b, GST_STATE_NULL);  // parks b's session
  GstElement *c = prerolled(props, "video/x-raw,format=I420,width=176,height=144,framerate=30/1");
  wait_prerolled(c);
  EXPECT_STR(get_str(c, "enc", "encoder"), "fakehwenc");
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

// Several threads acquiring and releasing sessions of three keys under max-sessions=2: the
// limit holds at every moment, nothing is lost, everything is destroyed at shutdown.
GST_START_TEST(test_pool_concurrent_stress) {
  SessionPool pool;
  const unsigned kMax = 2;
  const int kThreads = 4, kRounds = 60;
  std::atomic<int> holding{0}, peak{0}, limit_failures{0}, over_limit{0};
  auto make_identity = [](const SessionKey &) {
    Created c;
    c.element = GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make("identity", nullptr)));
    gst_element_set_state(c.element, GST_STATE_PAUSED);
    return c;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; r++) {
        SessionKey key{"identity", "", "caps" + std::to_string((t + r) % 3), "s"};
        auto a = pool.acquire(key, AcquireLimits{kMax, std::chrono::seconds(20)}, make_identity);
        if (!a.session) {
          limit_failures++;
          continue;
        }
        // live + parked of the (one) group never exceeds the limit.
        PoolStats snap = pool.stats();
        if (snap.active + snap.parked > kMax)
          over_limit++;
        int now = ++holding;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        --holding;
        pool.release(std::move(a.session), ParkLimits{1, GST_CLOCK_TIME_NONE});
      }
    });
  }
  for (auto &th : threads)
    th.join();
  fail_unless_equals_int(limit_failures, 0);
  fail_unless_equals_int(over_limit, 0);
  fail_unless(peak <= static_cast<int>(kMax), "peak %d sessions held", peak.load());
  PoolStats st = pool.stats();
  fail_unless_equals_uint64(st.created + st.reused, kThreads * kRounds);
  fail_unless_equals_int(st.active, 0);
  fail_unless(st.parked <= kMax);
  pool.shutdown();
  st = pool.stats();
  fail_unless_equals_uint64(st.destroyed, st.created);
  fail_unless_equals_int(st.parked, 0);
  fail_unless_equals_uint64(st.cleanup_failures, 0);
}
GST_END_TEST;

// The same through the element, with the test clock installed as the pool clock.
GST_START_TEST(test_idle_expiry_element) {
  GstClock *clock = gst_test_clock_new_with_start_time(0);
  GstElement *p0 = nullptr, *enc = nullptr;
  const char *sizes[] = {"width=160,height=120", "width=176,height=144", "width=192,height=144"};
  for (int i = 0; i < 3; i++) {
    std::string caps = std::string("video/x-raw,format=I420,framerate=30/1,") + sizes[i];
    std::string props =
        "hardware-factories=fakehwenc max-idle=4 idle-timeout=" + std::to_string((i + 1) * 1000);
    GstElement *p = launch(h264_pipeline(2, props, caps.c_str()));
    if (!p0) {
      p0 = p;
      enc = child(p, "enc");
      g_object_set(enc, "pool-clock", clock, nullptr);  // process-wide
    }
    EXPECT_STR(run(p), "");
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
  EXPECT_STR(run(p, &elements, &warnings), "");

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
  EXPECT_STR(get_str(p, "enc", "encoder"), "x264enc");
  fail_unless_equals_int(tap.keyframes.size(), kFrames - 1);
  fail_unless(tap.keyframes[0], "hardware output starts with a keyframe");
  fail_unless(tap.keyframes[10], "software output after the swap starts with a keyframe");
  fail_unless_equals_int(tap.decoded, kFrames - 1);
  gst_object_unref(p);
  // The failed hardware session was destroyed, not parked.
  p = launch(h264_pipeline(1, "hardware-factories=fakehwenc"));
  EXPECT_STR(run(p), "");
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
  fail_unless(err.find("unknown codec 'h266': set codec to one of h264, h265, vp8, vp9, av1") == 0,
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
      EXPECT_STR(get_str(p, "enc", "encoder"), c.encoder);
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
    EXPECT_STR(run(p), "");
    gst_object_unref(p);
  }
  fail_unless_equals_int(fake_live(), 1);
  gst_object_unref(hw);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------------
// leakwatch over sequential sessions (child processes: tracers are chosen at gst_init)

namespace churn {

using Result = SteadyChild;

std::string temp_report() {
  gchar *dir = g_dir_make_tmp("vapoolenc-leakwatch-XXXXXX", nullptr);
  fail_unless(dir != nullptr);
  std::string p = std::string(dir) + "/report.json";
  g_free(dir);
  return p;
}

// Removes the report and its temporary directory.
void remove_report(const std::string &path) {
  g_remove(path.c_str());
  gchar *dir = g_path_get_dirname(path.c_str());
  g_rmdir(dir);
  g_free(dir);
}

// Runs vapoolenc-churn-helper (ROUNDS rounds of one fakehwenc and one x264enc session after
// WARMUP rounds) under leakwatch with fail-on-leak, writing its JSON report to `report`.
Result run(int rounds, int warmup, int leak_round, const std::string &report) {
  const std::string helper = steady_build_path("tests/check/elements/vapoolenc-churn-helper");
  // RSS trends are not judged here (limits out of reach): over 110 short sessions RSS is
  // dominated by the allocator warming up in steps of 1-2 MiB (seen to raise an RSS alert with
  // window=20 when the machine is loaded, in runs that left nothing alive), and under the
  // sanitizers their quarantine grows it with every session. RSS is judged over 500 sessions
  // by the benchmark; descriptors, threads and objects are judged here with the defaults.
  const std::string rss_limits = "rss-slope=1e15,rss-growth=1e15,";
  const std::string tracers = "leakwatch(interval=0,window=20,fail-on-leak=true,summary=true," +
                              rss_limits + "report=" + report + ")";
  gchar **env = g_get_environ();
  env = g_environ_setenv(env, "GST_TRACERS", tracers.c_str(), TRUE);
  env = g_environ_unsetenv(env, "GST_DEBUG");
  const std::string r = std::to_string(rounds), w = std::to_string(warmup),
                    l = std::to_string(leak_round);
  const gchar *argv[] = {helper.c_str(), r.c_str(), w.c_str(), l.c_str(), nullptr};
  return steady_run_child(argv, env);
}

// The structure the helper printed after "label: ".
GstStructure *line(const Result &r, const char *label) {
  const std::string key = std::string(label) + ": ";
  size_t at = r.out.find(key);
  fail_unless(at != std::string::npos, "no '%s' in:\n%s", label, r.out.c_str());
  size_t end = r.out.find('\n', at);
  std::string text = r.out.substr(at + key.size(), end - at - key.size());
  GstStructure *s = gst_structure_from_string(text.c_str(), nullptr);
  fail_unless(s != nullptr, "cannot parse %s", text.c_str());
  return s;
}

guint64 u64(const GstStructure *s, const char *field) {
  guint64 v = 0;
  if (!gst_structure_get_uint64(s, field, &v)) {
    guint u = 0;
    fail_unless(gst_structure_get_uint(s, field, &u), "no field %s", field);
    v = u;
  }
  return v;
}

std::string str(const GstStructure *s, const char *field) {
  const char *v = gst_structure_get_string(s, field);
  return v ? v : "";
}

gint i32(const GstStructure *s, const char *field) {
  gint v = 0;
  fail_unless(gst_structure_get_int(s, field, &v), "no field %s", field);
  return v;
}

// Every class in fds-by-class, as "class=delta" for the nonzero ones ("" when none grew).
std::string grown_fd_classes(const GstStructure *cp) {
  const GstStructure *by_class =
      gst_value_get_structure(gst_structure_get_value(cp, "fds-by-class"));
  std::string grown;
  for (int i = 0; i < gst_structure_n_fields(by_class); i++) {
    const char *name = gst_structure_nth_field_name(by_class, i);
    gint d = 0;
    fail_unless(gst_structure_get_int(by_class, name, &d), "fds-by-class.%s", name);
    if (d != 0)
      grown += std::string(name) + "=" + std::to_string(d) + " ";
  }
  return grown;
}

// What the JSON report says, in a few canonical lines (python3, as the leakwatch tests do).
const char *kReportSummary = R"PY(
import json, sys
d = json.load(open(sys.argv[1]))
assert d["leakwatch"] == 1 and d["final"] is True
print("verdict:", d["verdict"])
inst = [i for o in d["objects"] for i in o["instances"] if not i["mini"]]
print("leaked objects:", len(inst))  # GstObjects; mini objects (caps) left out
print("leaked from pipelines:", " ".join(sorted(set(i["pipeline"] or "-" for i in inst))))
print("pipeline problems:", " ".join(sorted(p["name"] + "=" + p["verdict"]
                                             for p in d["pipelines"] if p["verdict"] != "ok")))
print("session pipelines:", len([p for p in d["pipelines"] if "session-" in p["name"]]))
print("alerts:", len(d["alerts"]))
print("fd or thread classes grown:", " ".join(sorted(t["metric"] for t in d["trends"]
      if t["metric"].startswith(("fds/", "threads/")) and t["alerting"])))
)PY";

std::string report_summary(const std::string &json) {
  const gchar *argv[] = {"python3", "-c", kReportSummary, json.c_str(), nullptr};
  gchar *out = nullptr, *err = nullptr;
  gint status = 0;
  fail_unless(g_spawn_sync(nullptr, const_cast<gchar **>(argv), nullptr, G_SPAWN_SEARCH_PATH,
                           nullptr, nullptr, &out, &err, &status, nullptr));
  fail_unless(g_spawn_check_wait_status(status, nullptr), "report check failed: %s", err);
  std::string text = out ? out : "";
  g_free(out);
  g_free(err);
  return text;
}

}  // namespace churn

// 50 rounds (after 5 warm-up rounds) of one fakehwenc and one x264enc session through
// vapoolenc, under leakwatch(fail-on-leak=true) with a sample per round: a clean exit, nothing
// left alive, no pipeline problem, no descriptor growth from the checkpoint after warm-up to the
// end, no thread growth but GStreamer's task pool (bounded by GLib), no trend alert, and every
// session after the first of each encoder reused from the pool.
GST_START_TEST(test_churn_leakwatch_clean) {
  require("x264enc");
  const int rounds = 50, warmup = 5;
  const std::string json = churn::temp_report();
  churn::Result r = churn::run(rounds, warmup, -1, json);
  fail_unless_equals_int(r.exit_status, 0);
  for (const char *line : {"leakwatch: objects: nothing left alive\n",
                           "leakwatch: pipelines: " /* count checked in the report below */,
                           " 0 with problems\n", "(no class grew)\n", "leakwatch: threads: ",
                           "leakwatch: trends: no alert\n", "leakwatch: verdict: clean\n"})
    fail_unless(r.err.find(line) != std::string::npos, "no '%s' in:\n%s", line, r.err.c_str());

  // Warm-up -> mid -> end: nothing recorded left alive, no descriptor of any class.
  GstStructure *mid = churn::line(r, "checkpoint-mid");
  GstStructure *end = churn::line(r, "checkpoint-end");
  for (GstStructure *cp : {mid, end}) {
    fail_unless_equals_int(churn::u64(cp, "objects"), 0);
    fail_unless_equals_int(churn::i32(cp, "fds-delta"), 0);
    EXPECT_STR(churn::grown_fd_classes(cp), "");
    fail_unless_equals_int(churn::u64(cp, "pipelines-alive"), 0);
  }
  // Threads: only GLib's shared thread pool, which runs GStreamer's streaming tasks, may
  // change after warm-up. GLib keeps up to two idle pool threads alive (named after their last
  // task, "src:src", or "pool-vapoolenc-" before their first one), whether a session found one
  // idle or started one is a race, and idle ones are not joined by gst_deinit(): so those two
  // groups may differ by up to two threads at any checkpoint and at exit (seen when the
  // machine is loaded). Every other group stays as it was, vapoolenc's pool thread included,
  // and no thread trend alerted (checked in the report below).
  // (Before its first task a pool thread is "pool-<program>" with GLib 2.74, Debian 12, and
  // "pool-<N>", grouped as "pool-#", with GLib 2.84, Debian 13.)
  auto glib_pool = [](const std::string &name) {
    return name == "src:src" || name == "pool-vapoolenc-" || name == "pool-#";
  };
  GstStructure *warm = churn::line(r, "checkpoint-warmup");
  for (GstStructure *cp : {mid, end}) {
    const GValue *groups = gst_structure_get_value(cp, "threads-by-name");
    for (guint i = 0; i < gst_value_array_get_size(groups); i++) {
      const GstStructure *g = gst_value_get_structure(gst_value_array_get_value(groups, i));
      fail_unless(glib_pool(churn::str(g, "name")), "thread group %s changed",
                  churn::str(g, "name").c_str());
    }
  }
  fail_unless(churn::i32(end, "threads") <= churn::i32(warm, "threads") + 2, "threads %d -> %d",
              churn::i32(warm, "threads"), churn::i32(end, "threads"));
  // At exit: "threads: N (no name grew)" or "(grew: src:src 0 -> 2)", GLib's idle threads.
  const size_t at = r.err.find("leakwatch: threads: ");
  const std::string exit_line = r.err.substr(at, r.err.find('\n', at) - at);
  const size_t grew = exit_line.find("(grew: ");
  if (grew != std::string::npos) {
    std::string list = exit_line.substr(grew + 7, exit_line.size() - grew - 8);
    gchar **entries = g_strsplit(list.c_str(), ", ", -1);
    for (gchar **it = entries; *it; it++) {
      const std::string entry = *it;
      fail_unless(glib_pool(entry.substr(0, entry.find(' '))), "%s", exit_line.c_str());
    }
    g_strfreev(entries);
  }
  gst_structure_free(warm);
  gst_structure_free(mid);
  gst_structure_free(end);

  // One encoder session per encoder served every user session; both are parked at the end.
  const guint64 sessions = 2 * (rounds + warmup);
  GstStructure *stats = churn::line(r, "pool-stats");
  fail_unless_equals_int(churn::u64(stats, "created"), 2);
  fail_unless_equals_int(churn::u64(stats, "reused"), sessions - 2);
  fail_unless_equals_int(churn::u64(stats, "destroyed"), 0);
  fail_unless_equals_int(churn::u64(stats, "parked"), 2);
  fail_unless_equals_int(churn::u64(stats, "active"), 0);
  fail_unless_equals_int(churn::u64(stats, "cleanup-failures"), 0);
  fail_unless_equals_int(churn::u64(stats, "fallbacks"), 0);
  gdouble rate = 0;
  fail_unless(gst_structure_get_double(stats, "reuse-rate", &rate));
  fail_unless(rate == static_cast<double>(sessions - 2) / static_cast<double>(sessions));
  gst_structure_free(stats);
  EXPECT_STR(r.out.substr(r.out.find("alerts: ")), "alerts: 0\n");

  EXPECT_STR(churn::report_summary(json),
             "verdict: clean\n"
             "leaked objects: 0\n"
             "leaked from pipelines: \n"
             "pipeline problems: \n"
             "session pipelines: " +
                 std::to_string(sessions) +
                 "\n"
                 "alerts: 0\n"
                 "fd or thread classes grown: \n");
  churn::remove_report(json);
}
GST_END_TEST;

// The negative control: the same loop with one fakehwenc session pipeline kept alive after
// NULL (round 40, after the mid checkpoint) exits 65 and names that pipeline, and only it.
GST_START_TEST(test_churn_leakwatch_reports_leaked_session) {
  require("x264enc");
  const int rounds = 50, warmup = 5, leak = 40;
  const std::string json = churn::temp_report();
  churn::Result r = churn::run(rounds, warmup, leak, json);
  fail_unless_equals_int(r.exit_status, 65);
  for (const char *line :
       {"leakwatch: pipeline 'leaked-session-40': still alive at exit in NULL",
        "leakwatch: pipelines: ", " 1 with problems\n", "leakwatch: verdict: LEAKS FOUND\n",
        "leakwatch: fail-on-leak: exiting with status 65\n"})
    fail_unless(r.err.find(line) != std::string::npos, "no '%s' in:\n%s", line, r.err.c_str());

  // The end checkpoint lists the leaked session's objects: the pipeline and its elements and
  // pads, attributed to it; the buses and ghost-pad proxy pads leakwatch does not attribute.
  GstStructure *cp = churn::line(r, "checkpoint-end");
  const GValue *list = gst_structure_get_value(cp, "object-list");
  const guint n = gst_value_array_get_size(list);
  fail_unless_equals_int(churn::u64(cp, "objects"), n);
  int pipelines = 0, encoders = 0;
  for (guint i = 0; i < n; i++) {
    const GstStructure *o = gst_value_get_structure(gst_value_array_get_value(list, i));
    const std::string type = churn::str(o, "type"), pipeline = churn::str(o, "pipeline");
    if (pipeline.empty())
      fail_unless(type == "GstBus" || type == "GstProxyPad", "%s has no pipeline", type.c_str());
    else
      EXPECT_STR(pipeline, "leaked-session-40");
    if (type == "GstPipeline") {
      EXPECT_STR(churn::str(o, "name"), "leaked-session-40");
      pipelines++;
    }
    encoders += type == "GstVaPoolEnc" ? 1 : 0;
  }
  fail_unless_equals_int(pipelines, 1);
  fail_unless_equals_int(encoders, 1);
  fail_unless_equals_int(churn::u64(cp, "pipelines-alive"), 1);
  gst_structure_free(cp);

  // Pooling is unaffected: the leaked session still released its encoder.
  const guint64 sessions = 2 * (rounds + warmup);
  GstStructure *stats = churn::line(r, "pool-stats");
  fail_unless_equals_int(churn::u64(stats, "created"), 2);
  fail_unless_equals_int(churn::u64(stats, "reused"), sessions - 2);
  gst_structure_free(stats);

  EXPECT_STR(churn::report_summary(json),
             "verdict: leaks\n"
             "leaked objects: " +
                 std::to_string(n) +
                 "\n"
                 "leaked from pipelines: - leaked-session-40\n"
                 "pipeline problems: leaked-session-40=alive-after-null\n"
                 "session pipelines: " +
                 std::to_string(sessions) +
                 "\n"
                 "alerts: 0\n"
                 "fd or thread classes grown: \n");
  churn::remove_report(json);
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
  tcase_add_test(tc, test_cleanup_failure_counted);
  tcase_add_test(tc, test_caps_change_and_flush_mid_stream);
  tcase_add_test(tc, test_max_sessions_fallback_after_timeout);
  tcase_add_test(tc, test_max_sessions_fixed_device_error);
  tcase_add_test(tc, test_hardware_refuses_session);
  tcase_add_test(tc, test_max_sessions_released_within_timeout);
  tcase_add_test(tc, test_idle_expiry_core);
  tcase_add_test(tc, test_pool_concurrent_stress);
  tcase_add_test(tc, test_idle_expiry_element);
  tcase_add_test(tc, test_failover_mid_stream);
  tcase_add_test(tc, test_error_unknown_codec);
  tcase_add_test(tc, test_error_missing_encoder);
  tcase_add_test(tc, test_software_codecs);
  tcase_add_test(tc, test_clean_shutdown_with_parked_sessions);
  tcase_add_test(tc, test_churn_leakwatch_clean);
  tcase_add_test(tc, test_churn_leakwatch_reports_leaked_session);
  return s;
}

GST_CHECK_MAIN(vapoolenc);
