// Tests of the leakwatch tracer.
//
// The test process itself runs with GST_TRACERS="leaks;leakwatch(...)" (set in main before
// gst_check_init) so checkpoints, sample-now, alerts and lifecycle logs are exercised in the
// process under the core leaks tracer. Everything that happens at gst_deinit() (summary,
// reports, fail-on-leak) and every deliberate leak runs in leakwatch-helper child processes.
#include "steady-tracing.h"
#include "steady-check.h"

#include "leakwatch-lifecycle.h"
#include "leakwatch-monitor.h"
#include "leakwatch-process.h"
#include "leakwatch-report.h"
#include "leakwatch-series.h"
#include "leakwatch-trend.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace leakwatch;

namespace {

const char *kInProcessTracers =
    "leaks;leakwatch(interval=0,summary=false,grace=0,window=8,fd-other-growth=2)";

// ---------- child processes ----------

using ChildResult = SteadyChild;

ChildResult run_helper(const std::string &scenario, const std::string &tracers,
                       const char *gst_debug = nullptr, const std::string &arg = "") {
  std::string helper = steady_build_path("tests/check/elements/leakwatch-helper");
  gchar **env = g_get_environ();
  env = g_environ_setenv(env, "GST_TRACERS", tracers.c_str(), TRUE);
  env = g_environ_unsetenv(env, "G_DEBUG");  // the drop-playing scenario triggers a critical
  if (gst_debug)
    env = g_environ_setenv(env, "GST_DEBUG", gst_debug, TRUE);
  else
    env = g_environ_unsetenv(env, "GST_DEBUG");
  const gchar *argv[] = {helper.c_str(), scenario.c_str(), arg.c_str(), nullptr};
  return steady_run_child(argv, env);
}

bool contains(const std::string &hay, const std::string &needle) {
  return hay.find(needle) != std::string::npos;
}

size_t count_of(const std::string &hay, const std::string &needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1))
    n++;
  return n;
}

#define assert_contains(hay, needle)                                                           \
  fail_unless(contains((hay), (needle)), "expected '%s' in:\n%s", std::string(needle).c_str(), \
              std::string(hay).c_str())
#define assert_not_contains(hay, needle)                                                         \
  fail_if(contains((hay), (needle)), "did not expect '%s' in:\n%s", std::string(needle).c_str(), \
          std::string(hay).c_str())

std::string temp_path(const char *name) {
  gchar *dir = g_dir_make_tmp("leakwatch-XXXXXX", nullptr);
  fail_unless(dir != nullptr);
  std::string p = std::string(dir) + "/" + name;
  g_free(dir);
  return p;
}

std::string slurp(const std::string &path) {
  gchar *text = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &text, &len, nullptr))
    return std::string();
  std::string s(text, len);
  g_free(text);
  return s;
}

// ---------- the in-process tracer ----------

GstObject *get_tracer() {
  GstObject *found = steady::find_active_tracer("GstLeakwatchTracer");
  fail_unless(found != nullptr, "leakwatch is not among the active tracers");
  return found;
}

GstStructure *checkpoint(GstObject *tracer) {
  GstStructure *s = nullptr;
  g_signal_emit_by_name(tracer, "checkpoint", &s);
  fail_unless(s != nullptr);
  return s;
}

int fd_delta(const GstStructure *cp, const char *cls) {
  const GstStructure *fds = gst_value_get_structure(gst_structure_get_value(cp, "fds-by-class"));
  int v = 0;
  fail_unless(gst_structure_get_int(fds, cls, &v), "no class %s", cls);
  return v;
}

void run_session(const char *name) {
  GstElement *p = gst_parse_launch("fakesrc num-buffers=20 ! queue ! fakesink", nullptr);
  fail_unless(p != nullptr);
  gst_object_set_name(GST_OBJECT(p), name);
  GstBus *bus = gst_element_get_bus(p);
  fail_unless_equals_int(gst_element_set_state(p, GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(msg != nullptr && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  steady_unref_and_wait_finalized(p);
}

}  // namespace

// ================= deliberate leaks, reported with type and name =================

// A context object (GstCudaContext, GstGLContext...) is in no bin: the pipeline whose element
// posted it in a have-context message is named, and the pipeline gets no verdict for it
// (applications share contexts between pipelines on purpose).
GST_START_TEST(test_context_object_names_posting_pipeline) {
  ChildResult r = run_helper("context-from-pipeline", "leakwatch(interval=0,grace=0)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstBufferPool x1: 'ctx-pool' in pipeline 'ctx-owner'");
  assert_contains(r.err, "leakwatch: pipelines: 1 seen, 0 with problems");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND");
}
GST_END_TEST;

GST_START_TEST(test_leaked_element_reported) {
  ChildResult r = run_helper("leak-element", "leakwatch(interval=0)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "leakwatch: objects: LEAKED");
  assert_contains(r.err, "  GstQueue x1: 'leaky-queue'");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND");
}
GST_END_TEST;

GST_START_TEST(test_leaked_pad_reported) {
  ChildResult r = run_helper("leak-pad", "leakwatch(interval=0)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstPad x1: 'leaky-pad'");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND");
}
GST_END_TEST;

GST_START_TEST(test_leaked_pool_reported) {
  ChildResult r = run_helper("leak-pool", "leakwatch(interval=0)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstBufferPool x1: 'leaky-pool'");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND");
}
GST_END_TEST;

GST_START_TEST(test_leaked_buffer_reported) {
  // Buffers are counted (no per-buffer record on the hot path): type and count.
  ChildResult r = run_helper("leak-buffer", "leakwatch(interval=0)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstBuffer x1 (counted: 1 created, 0 destroyed");
  assert_contains(r.err, "  GstMemory x1 (counted: 1 created, 0 destroyed");
  // With track=GstBuffer, buffers get records named by type and address.
  r = run_helper("leak-buffer", "leakwatch(interval=0,track=GstBuffer)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstBuffer x1: 'GstBuffer@0x");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND");
}
GST_END_TEST;

GST_START_TEST(test_leak_names_owning_pipeline) {
  // grace=30: the orphan verdict comes from the final report, which judges everything.
  ChildResult r = run_helper("leak-from-pipeline", "leakwatch(interval=0,grace=30)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstQueue x1: 'kept-queue' in pipeline 'owner'");
  // The queue's pads belong to the same pipeline.
  assert_contains(r.err, "  GstPad x2: 'sink' in pipeline 'owner'");
  assert_contains(r.err,
                  "leakwatch: pipeline 'owner': destroyed, but 3 of its objects outlived it");
}
GST_END_TEST;

GST_START_TEST(test_element_moved_out_of_pipeline_not_blamed_on_it) {
  // Taken out with gst_bin_remove() before the pipeline went away (as vapoolenc parks an
  // encoder): still a leak at exit, but no longer that pipeline's leftover.
  ChildResult r = run_helper("moved-out-of-pipeline", "leakwatch(interval=0,grace=30)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "  GstQueue x1: 'moved-queue', created at");
  assert_contains(r.err, "leakwatch: pipelines: 1 seen, 0 with problems\n");
  fail_unless(r.err.find("in pipeline 'former-owner'") == std::string::npos, "%s", r.err.c_str());
  fail_unless(r.err.find("outlived it") == std::string::npos, "%s", r.err.c_str());
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND\n");
}
GST_END_TEST;

GST_START_TEST(test_may_be_leaked_flag_respected) {
  ChildResult r = run_helper("leak-flagged", "leakwatch(interval=0,fail-on-leak=true)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "leakwatch: objects: nothing left alive\n");
  assert_contains(r.err, "leakwatch: verdict: clean\n");
  // The same caps without the flag are a leak.
  r = run_helper("leak-caps", "leakwatch(interval=0)");
  assert_contains(r.err, "  GstCaps x1: (unnamed)");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND\n");
}
GST_END_TEST;

// ================= no false positives =================

GST_START_TEST(test_clean_runs_report_nothing) {
  std::string json = temp_path("clean.json");
  ChildResult r =
      run_helper("clean", "leakwatch(interval=0,fail-on-leak=true,report=" + json + ")");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "leakwatch: objects: nothing left alive\n");
  assert_contains(r.err, "leakwatch: pipelines: 101 seen, 0 with problems\n");
  assert_contains(r.err, "leakwatch: trends: no alert\n");
  assert_contains(r.err, "leakwatch: verdict: clean\n");
  assert_not_contains(r.err, "LEAK");
  assert_contains(slurp(json), "\"verdict\": \"clean\"");
}
GST_END_TEST;

// ================= pipeline lifecycle verdicts =================

GST_START_TEST(test_pipeline_dropped_while_playing) {
  ChildResult r = run_helper("drop-playing", "leakwatch(interval=0)", "leakwatch:4");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err,
                  "leakwatch: pipeline 'dropped': finalized without reaching NULL (it was "
                  "PLAYING)");
  assert_contains(r.err, "Pipeline lifecycle: DESTROYED 'dropped' without reaching NULL");
  assert_contains(r.err, "leakwatch: verdict: LEAKS FOUND");
  // Dropped with unread messages on its bus: they keep it alive, which is reported too.
  r = run_helper("abandon-playing", "leakwatch(interval=0)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err,
                  "leakwatch: pipeline 'abandoned': still alive at exit in PLAYING, never "
                  "set back to NULL");
  assert_contains(r.err, "  GstPipeline x1: 'abandoned' in pipeline 'abandoned'");
}
GST_END_TEST;

GST_START_TEST(test_pipeline_alive_after_null) {
  ChildResult r = run_helper("keep-after-null", "leakwatch(interval=0,grace=0)", "leakwatch:4");
  fail_unless_equals_int(r.exit_status, 0);
  // Judged at the sample after the grace period, with its reference count.
  assert_contains(r.err, "ago and is still alive (refcount 1)");
  assert_contains(r.err, "leakwatch: pipeline 'kept': still alive at exit in NULL");
  assert_contains(r.err, "  GstPipeline x1: 'kept' in pipeline 'kept'");
}
GST_END_TEST;

GST_START_TEST(test_grace_period_with_synthetic_time) {
  std::vector<std::string> logs;
  Lifecycle lc([&](int, const std::string &m) { logs.push_back(m); });
  int dummy;
  const int64_t s = 1000000000;
  lc.created(&dummy, nullptr, 7, "p", 0);
  lc.state_changed(&dummy, GST_STATE_NULL, GST_STATE_READY, 1 * s);
  lc.state_changed(&dummy, GST_STATE_READY, GST_STATE_NULL, 2 * s);
  const int64_t grace = 5 * s;
  // Not before the grace period has passed...
  fail_unless_equals_int(lc.due_after_null(2 * s + grace, grace).size(), 0);
  // ...then exactly once.
  auto due = lc.due_after_null(2 * s + grace + 1, grace);
  fail_unless_equals_int(due.size(), 1);
  fail_unless_equals_int(due[0].first, 7);
  lc.judge_alive_after_null(7, 3, 2 * s + grace + 1);
  fail_unless_equals_int(lc.due_after_null(100 * s, grace).size(), 0);
  std::vector<PipelineInfo> snap = lc.snapshot();
  fail_unless_equals_int(snap.size(), 1);
  fail_unless(snap[0].verdict == PipelineVerdict::kAliveAfterNull);
  fail_unless_equals_int(snap[0].refcount_after_null, 3);
  fail_unless_equals_int(snap[0].transitions.size(), 2);
  fail_unless_equals_string(logs.back().c_str(),
                            "Pipeline lifecycle: 'p' reached NULL 5.000 s ago and is still alive "
                            "(refcount 3)");
  // Back to PLAYING clears it; destroyed while PLAYING is a verdict of its own.
  lc.state_changed(&dummy, GST_STATE_NULL, GST_STATE_PLAYING, 10 * s);
  lc.destroyed(&dummy, 11 * s);
  snap = lc.snapshot();
  fail_unless(snap[0].verdict == PipelineVerdict::kDroppedWithoutNull);
  fail_unless_equals_int(snap[0].state_at_drop, GST_STATE_PLAYING);
  // Orphan check only after the grace period following destruction.
  fail_unless_equals_int(lc.due_orphan_check(11 * s + grace, grace).size(), 0);
  fail_unless_equals_int(lc.due_orphan_check(11 * s + grace + 1, grace).size(), 1);
}
GST_END_TEST;

static std::mutex log_mutex;
static std::vector<std::string> lifecycle_logs;
static void capture_log(GstDebugCategory *category, GstDebugLevel, const gchar *, const gchar *,
                        gint, GObject *, GstDebugMessage *message, gpointer) {
  if (g_strcmp0(gst_debug_category_get_name(category), "leakwatch") != 0)
    return;
  const gchar *text = gst_debug_message_get(message);
  if (g_str_has_prefix(text, "Pipeline lifecycle:")) {
    std::lock_guard<std::mutex> lock(log_mutex);
    lifecycle_logs.push_back(text);
  }
}

GST_START_TEST(test_lifecycle_logged) {
  gst_debug_set_threshold_for_name("leakwatch", GST_LEVEL_INFO);
  gst_debug_add_log_function(capture_log, nullptr, nullptr);
  run_session("lc-test");
  gst_debug_remove_log_function(capture_log);
  std::vector<std::string> got;
  {
    std::lock_guard<std::mutex> lock(log_mutex);
    got = lifecycle_logs;
  }
  const char *expected[] = {
      "Pipeline lifecycle: CREATED 'pipeline",  // named by gst_parse_launch, renamed after
      "Pipeline lifecycle: 'lc-test' NULL -> READY at +",
      "Pipeline lifecycle: 'lc-test' READY -> PAUSED at +",
      "Pipeline lifecycle: 'lc-test' PAUSED -> PLAYING at +",
      "Pipeline lifecycle: 'lc-test' PLAYING -> PAUSED at +",
      "Pipeline lifecycle: 'lc-test' PAUSED -> READY at +",
      "Pipeline lifecycle: 'lc-test' reached NULL ",
      "Pipeline lifecycle: DESTROYED 'lc-test' after ",
  };
  std::string all;
  for (const std::string &line : got)
    all += "\n  " + line;
  fail_unless(got.size() == G_N_ELEMENTS(expected), "%zu lifecycle lines, expected %zu:%s",
              got.size(), G_N_ELEMENTS(expected), all.c_str());
  for (size_t i = 0; i < got.size(); ++i)
    fail_unless(g_str_has_prefix(got[i].c_str(), expected[i]), "line %zu: '%s' (expected '%s')", i,
                got[i].c_str(), expected[i]);
}
GST_END_TEST;

// ================= descriptors, threads, GPU memory =================

GST_START_TEST(test_fd_classification_real_descriptors) {
  ProcessProbe probe(false);
  ProcessSnapshot before = probe.sample();
  int p[2], s[2];
  fail_unless(pipe(p) == 0);
  fail_unless(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
  int efd = eventfd(0, 0);
  int mfd = memfd_create("leakwatch-test", 0);
  // A file named like a render node: classified by the last path component.
  std::string node = temp_path("renderD128");
  int rfd = open(node.c_str(), O_CREAT | O_RDWR, 0600);
  std::string card_dir = temp_path("dri");
  fail_unless(mkdir(card_dir.c_str(), 0700) == 0);
  std::string card = card_dir + "/card0";
  int cfd = open(card.c_str(), O_CREAT | O_RDWR, 0600);
  std::string plain = temp_path("card1");  // card<N> outside a dri directory: a plain file
  int ffd = open(plain.c_str(), O_CREAT | O_RDWR, 0600);
  fail_unless(efd >= 0 && mfd >= 0 && rfd >= 0 && cfd >= 0 && ffd >= 0);
  ProcessSnapshot after = probe.sample();
  auto delta = [&](FdClass c) {
    return after.fds[static_cast<int>(c)] - before.fds[static_cast<int>(c)];
  };
  fail_unless_equals_int(delta(FdClass::kPipe), 2);
  fail_unless_equals_int(delta(FdClass::kSocket), 2);
  fail_unless_equals_int(delta(FdClass::kEventfd), 1);
  fail_unless_equals_int(delta(FdClass::kDrmRender), 1);
  fail_unless_equals_int(delta(FdClass::kDrmPrimary), 1);
  fail_unless_equals_int(delta(FdClass::kFile), 2);  // memfd and card1
  fail_unless_equals_int(delta(FdClass::kDmabuf), 0);
  fail_unless_equals_int(delta(FdClass::kNvidia), 0);
  fail_unless_equals_int(after.fds_total - before.fds_total, 9);
  for (int fd : {p[0], p[1], s[0], s[1], efd, mfd, rfd, cfd, ffd})
    close(fd);
  ProcessSnapshot closed = probe.sample();
  fail_unless_equals_int(closed.fds_total, before.fds_total);

  // Device nodes by major/minor, and the link targets this machine cannot produce.
  fail_unless(classify_fd("/dev/dri/renderD128", true, S_IFCHR, makedev(226, 128)) ==
              FdClass::kDrmRender);
  fail_unless(classify_fd("/dev/whatever", true, S_IFCHR, makedev(226, 0)) == FdClass::kDrmPrimary);
  fail_unless(classify_fd("/dev/nvidia0", true, S_IFCHR, makedev(195, 0)) == FdClass::kNvidia);
  fail_unless(classify_fd("/dev/nvidiactl", false, 0, 0) == FdClass::kNvidia);
  fail_unless(classify_fd("anon_inode:dmabuf", false, 0, 0) == FdClass::kDmabuf);
  fail_unless(classify_fd("/dmabuf:", false, 0, 0) == FdClass::kDmabuf);
  fail_unless(classify_fd("/dev/null", true, S_IFCHR, makedev(1, 3)) == FdClass::kOther);
  fail_unless(classify_fd("anon_inode:[eventpoll]", false, 0, 0) == FdClass::kOther);
}
GST_END_TEST;

GST_START_TEST(test_real_render_node) {
  // The build machines have no GPU: this runs only where a render node exists.
  const char *node = "/dev/dri/renderD128";
  int fd = open(node, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    STEADY_SKIP("no %s to open (no GPU)", node);
  ProcessProbe probe(false);
  ProcessSnapshot s = probe.sample();
  close(fd);
  fail_unless(s.fds[static_cast<int>(FdClass::kDrmRender)] >= 1);
}
GST_END_TEST;

GST_START_TEST(test_nvml_when_present) {
  NvmlProbe nvml;
  if (!nvml.available())
    STEADY_SKIP("libnvidia-ml.so.1 cannot be loaded (no NVIDIA driver)");
  fail_unless(nvml.process_used_bytes(static_cast<unsigned>(getpid())) >= 0);
}
GST_END_TEST;

GST_START_TEST(test_thread_name_growth) {
  // (std::string temporaries compared as std::string: the check macros keep pointers.)
  fail_unless(thread_group("queue12:src") == "queue#:src");
  fail_unless(thread_group("gmain\n") == "gmain");
  fail_unless(thread_group("") == "(unnamed)");

  ProcessProbe probe(false);
  ProcessSnapshot before = probe.sample();
  fail_unless_equals_int(before.threads.count("lwtest-worker#"), 0);
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  int named = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([&, i] {
      std::string name = "lwtest-worker" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      std::unique_lock<std::mutex> lock(m);
      named++;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return named == 3; });
  }
  ProcessSnapshot during = probe.sample();
  fail_unless_equals_int(during.threads["lwtest-worker#"], 3);
  fail_unless_equals_int(during.threads_total - before.threads_total, 3);
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  for (auto &t : threads)
    t.join();
  ProcessSnapshot after = probe.sample();
  fail_unless_equals_int(after.threads.count("lwtest-worker#"), 0);
  fail_unless_equals_int(after.threads_total, before.threads_total);
}
GST_END_TEST;

// GLib's helper threads (pool-spawner: GLib 2.76+, so Debian 13's 2.84 but not Debian 12's
// 2.74) are not growth when one of each appears; a second one, or a thread leaked per session
// under any other name, is still reported.
GST_START_TEST(test_thread_growth_glib_helpers) {
  fail_unless(glib_helper_thread("pool-spawner") && glib_helper_thread("gmain") &&
              glib_helper_thread("gdbus"));
  fail_unless(!glib_helper_thread("src:src") && !glib_helper_thread("pool-vapoolenc-"));
  auto threads_line = [](const std::map<std::string, int64_t> &first,
                         const std::map<std::string, int64_t> &last) {
    ReportData d;
    d.first.threads = first;
    d.last.threads = last;
    for (const auto &t : last)
      d.last.threads_total += t.second;
    const std::string text = format_summary(d);
    const size_t at = text.find("leakwatch: threads: ");
    fail_unless(at != std::string::npos, "%s", text.c_str());
    return text.substr(at, text.find('\n', at) - at);
  };
  auto expect_line = [](const std::string &got, const std::string &want) {
    fail_unless(got == want, "got '%s', want '%s'", got.c_str(), want.c_str());
  };
  expect_line(threads_line({{"src:src", 2}}, {{"src:src", 2}, {"pool-spawner", 1}, {"gmain", 1}}),
              "leakwatch: threads: 4 (no name grew)");
  // One thread leaked per session (50 sessions), beside GLib's helpers: reported.
  expect_line(
      threads_line({{"src:src", 2}}, {{"src:src", 2}, {"pool-spawner", 1}, {"session#-leak", 50}}),
      "leakwatch: threads: 53 (grew: session#-leak 0 -> 50)");
  // A second instance of a helper is growth too.
  expect_line(threads_line({{"gdbus", 1}}, {{"gdbus", 2}, {"pool-spawner", 2}}),
              "leakwatch: threads: 4 (grew: gdbus 1 -> 2, pool-spawner 0 -> 2)");
}
GST_END_TEST;

GST_START_TEST(test_drm_fdinfo_parsing) {
  DrmClient c;
  fail_unless(
      parse_drm_fdinfo("pos:\t0\nflags:\t02100002\ndrm-driver:\ti915\n"
                       "drm-client-id:\t42\ndrm-total-system0:\t1024 KiB\n"
                       "drm-total-local0:\t2 MiB\ndrm-resident-system0:\t512 KiB\n",
                       c));
  fail_unless_equals_string(c.driver.c_str(), "i915");
  fail_unless_equals_string(c.client_id.c_str(), "42");
  fail_unless_equals_int64(c.total, 1024 * 1024 + 2 * 1024 * 1024);
  fail_unless_equals_int64(c.resident, 512 * 1024);
  fail_unless(c.has_memory);
  // Older kernels: drm-memory-* only.
  fail_unless(
      parse_drm_fdinfo("drm-driver:\tamdgpu\ndrm-memory-vram:\t2048 KiB\n"
                       "drm-memory-gtt:\t100 KiB\n",
                       c));
  fail_unless_equals_int64(c.total, 2148 * 1024);
  // Not a DRM client.
  fail_if(parse_drm_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t15\n", c));
}
GST_END_TEST;

// ================= trend estimator =================

namespace {
// Deterministic noise in [-1, 1].
double noise(int i) {
  return std::sin(i * 12.9898) * 0.5 + std::sin(i * 78.233) * 0.5;
}

std::vector<std::pair<double, double>> series(int n, double (*f)(int)) {
  std::vector<std::pair<double, double>> pts;
  for (int i = 0; i < n; ++i)
    pts.emplace_back(i * 1.0, f(i));
  return pts;
}
const Limit kRssLimit{1048576, 2097152};
}  // namespace

GST_START_TEST(test_trend_flat_with_noise_no_alert) {
  auto pts = series(60, [](int i) { return 100e6 + 400e3 * noise(i); });
  WindowResult w = evaluate_window(pts, kRssLimit);
  fail_if(w.alert);
  fail_unless(std::fabs(w.slope_per_minute) < 1048576, "slope %f", w.slope_per_minute);
  // A long run through the bank at every scale: no alert either.
  TrendBank bank(60, [](const std::string &) { return kRssLimit; });
  for (int i = 0; i < 3000; ++i)
    fail_unless_equals_int(bank.add(i, {{"rss", 100e6 + 400e3 * noise(i)}}).size(), 0);
}
GST_END_TEST;

GST_START_TEST(test_trend_slow_growth_alerts) {
  // 4 MiB per minute with 300 KiB of noise: above the 1 MiB/min limit, 4 MiB over a minute.
  auto pts = series(60, [](int i) { return 100e6 + i * (4194304.0 / 60) + 300e3 * noise(i); });
  WindowResult w = evaluate_window(pts, kRssLimit);
  fail_unless(w.alert);
  fail_unless(std::fabs(w.slope_per_minute - 4194304) < 4194304 * 0.1, "slope %f",
              w.slope_per_minute);
  // Through the bank: raised exactly once (edge-triggered), when the window first holds.
  TrendBank bank(60, [](const std::string &) { return kRssLimit; });
  size_t raised = 0;
  int first_alert = -1;
  for (int i = 0; i < 600; ++i) {
    auto alerts = bank.add(i, {{"rss", 100e6 + i * (4194304.0 / 60) + 300e3 * noise(i)}});
    if (!alerts.empty() && first_alert < 0)
      first_alert = i;
    raised += alerts.size();
  }
  fail_unless_equals_int(raised, 1);
  fail_unless_equals_int(first_alert, 59);  // as soon as the first window is full
  fail_unless_equals_string(bank.history()[0].metric.c_str(), "rss");
}
GST_END_TEST;

GST_START_TEST(test_trend_single_step_no_alert) {
  // One session that opened descriptors once: a step, not a trend.
  auto step = series(60, [](int i) { return i < 30 ? 10.0 : 40.0; });
  fail_if(evaluate_window(step, Limit{0, 2}).alert);
  // Two steps are not a trend either.
  auto two = series(60, [](int i) { return i < 20 ? 10.0 : i < 40 ? 20.0 : 30.0; });
  fail_if(evaluate_window(two, Limit{0, 2}).alert);
  // A big RSS step with noise.
  auto rss = series(60, [](int i) { return (i < 25 ? 100e6 : 150e6) + 300e3 * noise(i); });
  fail_if(evaluate_window(rss, kRssLimit).alert);
  // Growth that stays under the minimum absolute amount does not alert.
  auto small = series(60, [](int i) { return 10.0 + i / 30; });
  fail_if(evaluate_window(small, Limit{0, 2}).alert);
}
GST_END_TEST;

GST_START_TEST(test_trend_slow_thread_leak_found_at_coarse_scale) {
  // One thread every 5 minutes, sampled every second for 3 hours: invisible in a 60-second
  // window, found by the 100-sample scale.
  TrendBank bank(60, [](const std::string &) { return Limit{0.1, 2}; });
  std::vector<Alert> all;
  for (int i = 0; i < 3 * 3600; ++i) {
    auto a = bank.add(i, {{"threads/total", 10.0 + i / 300}});
    all.insert(all.end(), a.begin(), a.end());
  }
  fail_unless_equals_int(all.size(), 1);
  fail_unless_equals_int(all[0].scale, 100);
  fail_unless(std::fabs(all[0].slope_per_minute - 0.2) < 0.05, "slope %f", all[0].slope_per_minute);
}
GST_END_TEST;

GST_START_TEST(test_series_store_bounded) {
  SeriesStore s(16);
  for (int i = 0; i < 100; ++i)
    s.append(i, {{"a", static_cast<double>(i)}});
  fail_unless(s.rows() <= 16);
  fail_unless_equals_int(static_cast<int>(s.times().back()), 99);  // newest always kept
  fail_unless_equals_int(s.columns().at("a").size(), s.rows());
  // A column appearing later reads 0 before it existed.
  s.append(100, {{"a", 100}, {"b", 5}});
  fail_unless_equals_int(s.columns().at("b").front(), 0);
  fail_unless_equals_int(s.columns().at("b").back(), 5);
}
GST_END_TEST;

// ================= checkpoint and alerts in this process =================

GST_START_TEST(test_checkpoint_semantics) {
  GstObject *tracer = get_tracer();
  run_session("warm-up");  // one-time allocations (system clock poll, task pool) happen here
  GstStructure *c0 = checkpoint(tracer);
  guint index0 = 0;
  fail_unless(gst_structure_get_uint(c0, "index", &index0));
  gst_structure_free(c0);

  // A clean session leaves nothing.
  run_session("session");
  GstStructure *c1 = checkpoint(tracer);
  guint v = 0;
  fail_unless(gst_structure_get_uint(c1, "index", &v));
  fail_unless_equals_int(v, index0 + 1);
  fail_unless(gst_structure_get_uint(c1, "objects", &v));
  fail_unless_equals_int(v, 0);
  int d = 0;
  fail_unless(gst_structure_get_int(c1, "fds-delta", &d));
  fail_unless_equals_int(d, 0);
  fail_unless(gst_structure_get_uint(c1, "pipelines-alive", &v));
  fail_unless_equals_int(v, 0);
  gst_structure_free(c1);

  // An element kept alive and a pipe left open are both named.
  GstElement *kept = gst_element_factory_make("fakesink", "cp-kept");
  int fds[2];
  fail_unless(pipe(fds) == 0);
  GstStructure *c2 = checkpoint(tracer);
  fail_unless(gst_structure_get_uint(c2, "objects", &v));
  fail_unless_equals_int(v, 2);  // the element and its sink pad
  const GValue *list = gst_structure_get_value(c2, "object-list");
  fail_unless_equals_int(gst_value_array_get_size(list), 2);
  // In creation order: the pad is created by the element's instance init, before the
  // element itself is fully constructed.
  const GstStructure *o0 = gst_value_get_structure(gst_value_array_get_value(list, 0));
  const GstStructure *o1 = gst_value_get_structure(gst_value_array_get_value(list, 1));
  fail_unless_equals_string(gst_structure_get_string(o0, "type"), "GstPad");
  fail_unless_equals_string(gst_structure_get_string(o0, "name"), "sink");
  fail_unless_equals_string(gst_structure_get_string(o1, "type"), "GstFakeSink");
  fail_unless_equals_string(gst_structure_get_string(o1, "name"), "cp-kept");
  fail_unless_equals_int(fd_delta(c2, "pipe"), 2);
  fail_unless_equals_int(fd_delta(c2, "socket"), 0);
  fail_unless(gst_structure_get_int(c2, "fds-delta", &d));
  fail_unless_equals_int(d, 2);
  const GstStructure *live = gst_value_get_structure(gst_structure_get_value(c2, "live-delta"));
  gint64 l = 0;
  fail_unless(gst_structure_get_int64(live, "GstFakeSink", &l));
  fail_unless_equals_int64(l, 1);
  gst_structure_free(c2);

  // Released: the next checkpoint shows the descriptors and the object going away.
  gst_object_unref(kept);
  close(fds[0]);
  close(fds[1]);
  GstStructure *c3 = checkpoint(tracer);
  fail_unless(gst_structure_get_uint(c3, "objects", &v));
  fail_unless_equals_int(v, 0);
  fail_unless_equals_int(fd_delta(c3, "pipe"), -2);
  live = gst_value_get_structure(gst_structure_get_value(c3, "live-delta"));
  fail_unless(gst_structure_get_int64(live, "GstFakeSink", &l));
  fail_unless_equals_int64(l, -1);
  gst_structure_free(c3);
  gst_object_unref(tracer);
}
GST_END_TEST;

GST_START_TEST(test_checkpoint_threads) {
  GstObject *tracer = get_tracer();
  gst_structure_free(checkpoint(tracer));
  std::mutex m;
  std::condition_variable cv;
  bool release = false, named = false;
  std::thread t([&] {
    pthread_setname_np(pthread_self(), "lwcp-thread7");
    std::unique_lock<std::mutex> lock(m);
    named = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return named; });
  }
  GstStructure *c = checkpoint(tracer);
  int d = 0;
  fail_unless(gst_structure_get_int(c, "threads-delta", &d));
  fail_unless_equals_int(d, 1);
  const GValue *groups = gst_structure_get_value(c, "threads-by-name");
  fail_unless_equals_int(gst_value_array_get_size(groups), 1);
  const GstStructure *g = gst_value_get_structure(gst_value_array_get_value(groups, 0));
  fail_unless_equals_string(gst_structure_get_string(g, "name"), "lwcp-thread#");
  fail_unless(gst_structure_get_int(g, "delta", &d));
  fail_unless_equals_int(d, 1);
  gst_structure_free(c);
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  t.join();
  gst_object_unref(tracer);
}
GST_END_TEST;

GST_START_TEST(test_alert_posted_on_pipeline_bus) {
  // In-process parameters: window=8, fd-other-growth=2. Two pipes per sample is a steady leak.
  GstObject *tracer = get_tracer();
  GstElement *pipeline = gst_pipeline_new("alert-target");
  GstBus *bus = gst_element_get_bus(pipeline);
  std::vector<int> fds;
  std::vector<guint> raised;
  for (int i = 0; i < 10; ++i) {
    int p[2];
    fail_unless(pipe(p) == 0);
    fds.push_back(p[0]);
    fds.push_back(p[1]);
    guint n = 0;
    g_signal_emit_by_name(tracer, "sample-now", &n);
    raised.push_back(n);
  }
  // The first full window (8 samples) raises fds/pipe and fds/total, once each.
  for (int i = 0; i < 10; ++i)
    fail_unless_equals_int(raised[i], i == 7 ? 2 : 0);
  const char *metrics[] = {"fds/pipe", "fds/total"};
  for (const char *metric : metrics) {
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT);
    fail_unless(msg != nullptr);
    const GstStructure *s = gst_message_get_structure(msg);
    fail_unless(gst_structure_has_name(s, "leakwatch-alert"));
    fail_unless_equals_string(gst_structure_get_string(s, "metric"), metric);
    double growth = 0, slope = 0;
    guint window = 0;
    fail_unless(gst_structure_get_double(s, "growth", &growth));
    fail_unless(gst_structure_get_double(s, "slope-per-minute", &slope));
    fail_unless(gst_structure_get_uint(s, "window", &window));
    fail_unless_equals_int(window, 8);
    fail_unless(growth > 2 && slope > 0, "growth %f slope %f", growth, slope);
    fail_unless(GST_MESSAGE_SRC(msg) == GST_OBJECT(pipeline));
    gst_message_unref(msg);
  }
  fail_unless(gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT) == nullptr);
  for (int fd : fds)
    close(fd);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  gst_object_unref(tracer);
}
GST_END_TEST;

// ================= exit status, reports, parameters =================

GST_START_TEST(test_fail_on_leak_exit_status) {
  std::string json = temp_path("leak.json");
  ChildResult r =
      run_helper("leak-element", "leakwatch(interval=0,fail-on-leak=true,report=" + json + ")");
  fail_unless_equals_int(r.exit_status, kFailOnLeakExitStatus);
  assert_contains(r.err, "leakwatch: fail-on-leak: exiting with status 65");
  // The report is written before exiting.
  assert_contains(slurp(json), "\"verdict\": \"leaks\"");
  // Without fail-on-leak the same leak exits 0; a clean run with it exits 0.
  fail_unless_equals_int(run_helper("leak-element", "leakwatch(interval=0)").exit_status, 0);
  fail_unless_equals_int(run_helper("noop", "leakwatch(interval=0,fail-on-leak=true)").exit_status,
                         0);
}
GST_END_TEST;

// gst_deinit() run by an atexit handler (registered after gst_init, so it runs first), with
// the application's own handlers before and after it and a static destructor: each runs
// exactly once, the summary is written, and the status is 65. leakwatch no longer calls
// exit() from inside gst_deinit() (which, from an atexit handler, is undefined behaviour).
GST_START_TEST(test_fail_on_leak_deinit_from_atexit) {
  ChildResult r = run_helper("deinit-at-exit", "leakwatch(interval=0,fail-on-leak=true)");
  fail_unless_equals_int(r.exit_status, kFailOnLeakExitStatus);
  assert_contains(r.err, "  GstQueue x1: 'leaky-queue'");
  assert_contains(r.err, "leakwatch: fail-on-leak: exiting with status 65");
  const char *markers[] = {
      "helper: atexit handler registered after gst_deinit's ran\n",
      "helper: atexit handler registered before gst_init ran\n",
      "helper: static destructor ran\n",
  };
  size_t last = 0;
  for (const char *m : markers) {
    size_t at = r.out.find(m);
    fail_unless(at != std::string::npos, "missing '%s' in:\n%s", m, r.out.c_str());
    fail_unless(r.out.find(m, at + 1) == std::string::npos, "'%s' twice", m);
    fail_unless(at >= last, "'%s' out of order in:\n%s", m, r.out.c_str());
    last = at;
  }
  // Without a leak the application's own status stands.
  fail_unless_equals_int(run_helper("noop", "leakwatch(interval=0,fail-on-leak=true)").exit_status,
                         0);
}
GST_END_TEST;

static const char *kJsonSchemaCheck = R"PY(
import json, sys
d = json.load(open(sys.argv[1]))
def need(obj, key, typ):
    assert key in obj, "missing " + key
    assert isinstance(obj[key], typ), key + " has type " + type(obj[key]).__name__
for k, t in [("leakwatch", int), ("final", bool), ("pid", int), ("duration_s", (int, float)),
             ("samples_taken", int), ("verdict", str), ("params", dict), ("objects", list),
             ("types", list), ("pipelines", list), ("alerts", list), ("trends", list),
             ("samples", dict)]:
    need(d, k, t)
assert d["final"] is True and d["verdict"] == "leaks"
g = [o for o in d["objects"] if o["type"] == "GstQueue"]
assert len(g) == 1 and g[0]["count"] == 1, d["objects"]
inst = g[0]["instances"][0]
for k, t in [("name", str), ("pipeline", str), ("created_s", (int, float)), ("refcount", int), ("mini", bool)]:
    need(inst, k, t)
assert inst["name"] == "kept-queue" and inst["pipeline"] == "owner"
for t in d["types"]:
    for k, ty in [("type", str), ("kind", str), ("tracking", str), ("created", int),
                  ("destroyed", int), ("live", int), ("peak", int)]:
        need(t, k, ty)
    assert t["live"] == t["created"] - t["destroyed"] or t["tracking"] == "counted"
p = [p for p in d["pipelines"] if p["name"] == "owner"]
assert len(p) == 1
for k in ["id", "created_s", "null_s", "destroyed_s", "state", "verdict", "transitions"]:
    assert k in p[0], k
assert p[0]["verdict"] == "objects-outlived-pipeline", p[0]["verdict"]
assert [t["to"] for t in p[0]["transitions"]][-1] == "NULL"
s = d["samples"]
need(s, "t_s", list); need(s, "series", dict)
n = len(s["t_s"])
assert n >= 2, n
for name in ["rss", "fds/total", "fds/pipe", "fds/drm-render", "threads/total", "objects/GstQueue"]:
    assert name in s["series"], name
for name, col in s["series"].items():
    assert len(col) == n, name
assert s["series"]["rss"][-1] > 0
print("schema ok")
)PY";

GST_START_TEST(test_json_report_schema) {
  std::string json = temp_path("report.json");
  ChildResult r = run_helper("leak-from-pipeline",
                             "leakwatch(interval=0,grace=30,summary=false,report=" + json + ")");
  fail_unless_equals_int(r.exit_status, 0);
  assert_not_contains(r.err, "leakwatch: summary");  // summary=false
  const gchar *argv[] = {"python3", "-c", kJsonSchemaCheck, json.c_str(), nullptr};
  gchar *out = nullptr, *err = nullptr;
  gint status = 0;
  fail_unless(g_spawn_sync(nullptr, const_cast<gchar **>(argv), nullptr, G_SPAWN_SEARCH_PATH,
                           nullptr, nullptr, &out, &err, &status, nullptr));
  fail_unless(g_spawn_check_wait_status(status, nullptr), "schema check failed: %s", err);
  fail_unless_equals_string(out, "schema ok\n");
  g_free(out);
  g_free(err);
}
GST_END_TEST;

GST_START_TEST(test_html_report_has_every_plot) {
  std::string html_path = temp_path("report.html");
  ChildResult r = run_helper("clean", "leakwatch(interval=0,html=" + html_path + ")");
  fail_unless_equals_int(r.exit_status, 0);
  std::string html = slurp(html_path);
  fail_unless(html.rfind("<!DOCTYPE html>", 0) == 0);
  for (const char *metric : {"rss", "fds", "threads", "gpu", "objects", "timeline"}) {
    std::string section = std::string("data-metric=\"") + metric + "\"";
    std::string svg = std::string("<svg viewBox=\"0 0 920 ");
    size_t at = html.find(section);
    fail_unless(at != std::string::npos, "no section for %s", metric);
    size_t plot = html.find(std::string("data-chart=\"") + metric + "\"", at);
    fail_unless(plot != std::string::npos, "no plot for %s", metric);
  }
  // Data-bearing plots draw lines; the timeline has one row per pipeline (101 here).
  fail_unless(count_of(html, "<path class=\"line\"") >= 4);
  fail_unless(count_of(html, "<g class=\"pl\">") == 101);
  // Self-contained: nothing fetched from the network.
  assert_not_contains(html, "src=\"http");
  assert_not_contains(html, "href=\"http");
  assert_contains(html, "</html>");
}
GST_END_TEST;

GST_START_TEST(test_periodic_reports) {
  std::string json = temp_path("periodic.json");
  ChildResult r =
      run_helper("periodic-report",
                 "leakwatch(interval=0,summary=false,report-interval=0.000001,report=" + json + ")",
                 nullptr, json);
  fail_unless_equals_int(r.exit_status, 0);
  // Rewritten by the sampling round while running...
  fail_unless_equals_string(r.out.c_str(), "periodic: final=false\nperiodic: verdict=running\n");
  // ...and by the final report at exit.
  std::string final_report = slurp(json);
  assert_contains(final_report, "\"final\": true");
  assert_contains(final_report, "\"verdict\": \"clean\"");
}
GST_END_TEST;

GST_START_TEST(test_sampler_thread) {
  ChildResult r = run_helper("sampler-thread", "leakwatch(interval=0.01,summary=false)");
  fail_unless_equals_int(r.exit_status, 0);
  fail_unless_equals_string(r.out.c_str(), "sampler: 3-samples on-leakwatch-thread\n");
  // objects=false: no hooks, process sampling only, still summarized at exit.
  r = run_helper("noop", "leakwatch(interval=0,objects=false)");
  fail_unless_equals_int(r.exit_status, 0);
  assert_contains(r.err, "leakwatch: objects: not tracked (objects=false)\n");
  assert_contains(r.err, "leakwatch: verdict: clean\n");
}
GST_END_TEST;

GST_START_TEST(test_bad_params_one_warning) {
  ChildResult r = run_helper("noop", "leakwatch(interval=0,bogus=1,window=3,summary=false)");
  fail_unless_equals_int(r.exit_status, 0);
  fail_unless_equals_int(count_of(r.err, "leakwatch: "), 1);
  assert_contains(r.err, "unknown parameter 'bogus'");
  assert_contains(r.err, "'window=3' expects an integer in [8, 100000] (default kept)");
  assert_contains(r.err, "Accepted: interval=1");
  r = run_helper("noop", "leakwatch(interval=0,summary=false,=)");
  fail_unless_equals_int(count_of(r.err, "leakwatch: could not parse parameters"), 1);
  Params p;
  fail_unless(parse_params("track=\"GstFoo,GstBar\",grace=2.5,fail-on-leak=true", p).empty());
  fail_unless_equals_int(p.track.size(), 2);
  fail_unless_equals_string(p.track[1].c_str(), "GstBar");
  fail_unless(p.grace_s == 2.5 && p.fail_on_leak);
}
GST_END_TEST;

static Suite *leakwatch_suite() {
  Suite *s = suite_create("leakwatch");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_leaked_element_reported);
  tcase_add_test(tc, test_leaked_pad_reported);
  tcase_add_test(tc, test_leaked_pool_reported);
  tcase_add_test(tc, test_leaked_buffer_reported);
  tcase_add_test(tc, test_leak_names_owning_pipeline);
  tcase_add_test(tc, test_element_moved_out_of_pipeline_not_blamed_on_it);
  tcase_add_test(tc, test_may_be_leaked_flag_respected);
  tcase_add_test(tc, test_clean_runs_report_nothing);
  tcase_add_test(tc, test_pipeline_dropped_while_playing);
  tcase_add_test(tc, test_pipeline_alive_after_null);
  tcase_add_test(tc, test_grace_period_with_synthetic_time);
  tcase_add_test(tc, test_lifecycle_logged);
  tcase_add_test(tc, test_fd_classification_real_descriptors);
  tcase_add_test(tc, test_thread_name_growth);
  tcase_add_test(tc, test_thread_growth_glib_helpers);
  tcase_add_test(tc, test_real_render_node);
  tcase_add_test(tc, test_context_object_names_posting_pipeline);
  tcase_add_test(tc, test_nvml_when_present);
  tcase_add_test(tc, test_drm_fdinfo_parsing);
  tcase_add_test(tc, test_trend_flat_with_noise_no_alert);
  tcase_add_test(tc, test_trend_slow_growth_alerts);
  tcase_add_test(tc, test_trend_single_step_no_alert);
  tcase_add_test(tc, test_trend_slow_thread_leak_found_at_coarse_scale);
  tcase_add_test(tc, test_series_store_bounded);
  tcase_add_test(tc, test_checkpoint_semantics);
  tcase_add_test(tc, test_checkpoint_threads);
  tcase_add_test(tc, test_alert_posted_on_pipeline_bus);
  tcase_add_test(tc, test_fail_on_leak_exit_status);
  tcase_add_test(tc, test_fail_on_leak_deinit_from_atexit);
  tcase_add_test(tc, test_json_report_schema);
  tcase_add_test(tc, test_html_report_has_every_plot);
  tcase_add_test(tc, test_periodic_reports);
  tcase_add_test(tc, test_sampler_thread);
  tcase_add_test(tc, test_bad_params_one_warning);
  return s;
}

int main(int argc, char **argv) {
  // leakwatch runs in this process next to the core leaks tracer (set before gst_init).
  g_setenv("GST_TRACERS", kInProcessTracers, TRUE);
  gst_check_init(&argc, &argv);
  Suite *s = leakwatch_suite();
  return gst_check_run_suite(s, "leakwatch", __FILE__);
}
