// leakwatch on a real NVIDIA GPU: NVML per-process memory against nvidia-smi, CUDA session
// churn (cudaupload/cudaconvert/cudadownload and nvh264dec) clean and with one GstCudaContext
// leaked per session. Every test skips (STEADY_SKIP) where there is no NVIDIA GPU, no NVML or
// no nvcodec elements, so CI shows them as skipped. docs/testing-hw.md says how to run them on
// a machine without GStreamer (tests/hw/bundle.sh, tests/hw/run.sh).
//
// The churn runs in leakwatch-nvidia-helper child processes under
// leakwatch(interval=0,...): the helper emits sample-now after every session, so sample i of
// the JSON report is taken after session i+1 (and one more at exit).
// Figures (values, Theil-Sen slopes per session after warm-up, alert positions) are printed
// on stdout as "hw: ..." lines; tests/hw/run.sh keeps them.
// <sstream> before gstcheck.h: check's fail() macro would rename std::basic_ios::fail().
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "leakwatch-nvml.h"
#include "leakwatch-trend.h"
#include "steady-check.h"

#include <unistd.h>

namespace {

constexpr int kSessions = 200;
constexpr int kWarmup = 20;        // sessions before "flat" is judged
constexpr int kLeakSessions = 40;  // one leaked CUDA context each (~0.5 GiB of GPU memory)
constexpr int kWindow = 16;        // leakwatch window: alerts can come from sample 16 on
constexpr int kAlertWithin = 24;   // the stated bound: alerts by session 24

// Why these tests cannot run here, or empty.
std::string nvidia_missing(const std::vector<const char *> &factories) {
  if (!g_file_test("/dev/nvidiactl", G_FILE_TEST_EXISTS))
    return "no NVIDIA GPU (/dev/nvidiactl absent)";
  leakwatch::NvmlProbe nvml;
  if (!nvml.available())
    return "NVML (libnvidia-ml.so.1) cannot be loaded";
  for (const char *f : factories)
    if (!steady_have_factory(f))
      return std::string("element ") + f + " missing (GStreamer's nvcodec plugin)";
  return std::string();
}

#define SKIP_WITHOUT_NVIDIA(...)                     \
  do {                                               \
    std::string why = nvidia_missing({__VA_ARGS__}); \
    if (!why.empty())                                \
      STEADY_SKIP("%s", why.c_str());                \
  } while (0)

struct Series {
  std::map<std::string, std::vector<double>> values;
  std::map<std::string, int> first_alert;  // metric -> session (1-based) that raised it
  int samples = 0;
};

std::string temp_path(const char *name) {
  gchar *dir = g_dir_make_tmp("leakwatch-hw-XXXXXX", nullptr);
  fail_unless(dir != nullptr);
  std::string p = std::string(dir) + "/" + name;
  g_free(dir);
  return p;
}

Series read_report(const std::string &json) {
  std::string script =
      std::string(g_getenv("GST_STEADY_SOURCE_ROOT")) + "/tests/hw/report-series.py";
  gchar *python = g_find_program_in_path("python3");
  fail_unless(python != nullptr, "python3 not in PATH (it reads leakwatch's JSON report)");
  const gchar *argv[] = {python, script.c_str(), json.c_str(), nullptr};
  // The host's Python with the host's libraries, not a bundle's (tests/hw/run.sh).
  SteadyChild c = steady_run_child(argv, g_environ_unsetenv(g_get_environ(), "LD_LIBRARY_PATH"));
  g_free(python);
  fail_unless_equals_int(c.exit_status, 0);
  Series s;
  std::istringstream in(c.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string kind, metric;
    l >> kind;
    if (kind == "samples") {
      l >> s.samples;
    } else if (kind == "series") {
      l >> metric;
      std::string v;
      while (l >> v)
        s.values[metric].push_back(v == "nan" ? NAN : std::stod(v));
    } else if (kind == "alert") {
      int index = -1;
      l >> metric >> index;
      if (!s.first_alert.count(metric))
        s.first_alert[metric] = index + 1;
    }
  }
  return s;
}

// Theil-Sen slope per session over samples [from, to) (sample i: after session i+1).
double slope_per_session(const std::vector<double> &v, size_t from, size_t to) {
  std::vector<std::pair<double, double>> points;
  for (size_t i = from; i < to && i < v.size(); ++i)
    if (!std::isnan(v[i]))
      points.emplace_back(static_cast<double>(i), v[i]);
  return leakwatch::theil_sen_slope(points);
}

SteadyChild run_helper(const std::vector<std::string> &args, const std::string &tracers) {
  std::string helper = steady_build_path("tests/hw/leakwatch-nvidia-helper");
  gchar **env = g_get_environ();
  env = g_environ_setenv(env, "GST_TRACERS", tracers.c_str(), TRUE);
  env = g_environ_unsetenv(env, "GST_DEBUG");
  std::vector<const gchar *> argv = {helper.c_str()};
  for (const std::string &a : args)
    argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return steady_run_child(argv.data(), env);
}

std::string tracers_for(const std::string &json, bool fail_on_leak) {
  return "leakwatch(interval=0,window=" + std::to_string(kWindow) + ",grace=0,report=" + json +
         (fail_on_leak ? ",fail-on-leak=true)" : ")");
}

// A short H.264 stream: LEAKWATCH_HW_H264 (made elsewhere, tests/hw/bundle.sh), or made here
// with x264enc; empty when neither is possible.
std::string h264_stream() {
  const char *given = g_getenv("LEAKWATCH_HW_H264");
  if (given != nullptr && g_file_test(given, G_FILE_TEST_EXISTS))
    return given;
  if (!steady_have_factory("x264enc"))
    return std::string();
  std::string path = temp_path("clip.h264");
  std::string desc =
      "videotestsrc num-buffers=30 ! video/x-raw,width=640,height=480,framerate=30/1 ! "
      "x264enc key-int-max=10 ! video/x-h264,profile=main,stream-format=byte-stream ! filesink "
      "location=" +
      path;
  GstElement *p = gst_parse_launch(desc.c_str(), nullptr);
  fail_unless(p != nullptr);
  GstBus *bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m != nullptr && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
  gst_message_unref(m);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(p);
  return path;
}

bool contains(const std::string &hay, const std::string &needle) {
  return hay.find(needle) != std::string::npos;
}

#define assert_contains(hay, needle)                                                           \
  fail_unless(contains((hay), (needle)), "expected '%s' in:\n%s", std::string(needle).c_str(), \
              std::string(hay).c_str())

// Prints the figures of a churn and returns the series.
Series report_churn(const char *what, const SteadyChild &c, const std::string &json) {
  std::printf("hw: %s: exit %d; %s", what, c.exit_status, c.out.c_str());
  if (c.exit_status != 0 && c.exit_status != 65)
    std::printf("hw: %s: helper's stderr:\n%s\n", what, c.err.c_str());
  std::fflush(stdout);
  Series s = read_report(json);
  const size_t end = s.samples > 1 ? static_cast<size_t>(s.samples - 1) : 0;  // [end]: at exit
  for (const auto &m : s.values) {
    const std::vector<double> &v = m.second;
    if (v.size() < 2)
      continue;
    const size_t warm = std::min<size_t>(kWarmup, end);
    std::printf(
        "hw: %s: %s session 1 %.0f, after warm-up %.0f, last session %.0f, "
        "slope %.4g/session\n",
        what, m.first.c_str(), v[0], v[warm], v[end > 0 ? end - 1 : 0],
        slope_per_session(v, warm, end));
  }
  for (const auto &a : s.first_alert)
    std::printf("hw: %s: alert %s at session %d\n", what, a.first.c_str(), a.second);
  std::fflush(stdout);
  return s;
}

// The figures that must be flat after warm-up in a clean churn.
void assert_flat(const Series &s) {
  fail_unless_equals_int(s.samples, kSessions + 1);
  const size_t end = static_cast<size_t>(s.samples - 1);
  fail_unless(s.values.count("nvml"), "no nvml series in the report");
  fail_unless(s.values.count("fds/nvidia"), "no fds/nvidia series in the report");
  // Descriptors and threads: exactly flat (the median of pairwise slopes of a flat series).
  fail_unless_equals_float(slope_per_session(s.values.at("fds/nvidia"), kWarmup, end), 0.0);
  fail_unless_equals_float(slope_per_session(s.values.at("threads/total"), kWarmup, end), 0.0);
  // GPU memory: less than leakwatch's gpu-growth (4 MiB) over the 180 sessions.
  const double gpu = slope_per_session(s.values.at("nvml"), kWarmup, end);
  fail_unless(std::fabs(gpu) * (end - kWarmup) < 4.0 * 1024 * 1024,
              "GPU memory slope %.0f B/session", gpu);
  fail_unless(s.first_alert.empty(), "trend alerts in a clean churn (first: %s)",
              s.first_alert.empty() ? "" : s.first_alert.begin()->first.c_str());
}

}  // namespace

// NVML's per-process figure, as leakwatch reads it, against nvidia-smi for this process, read
// between two NVML reads with a CUDA context and its buffers alive (a prerolled pipeline).
GST_START_TEST(test_nvml_matches_nvidia_smi) {
  SKIP_WITHOUT_NVIDIA("cudaupload");
  gchar *smi_path = g_find_program_in_path("nvidia-smi");
  if (smi_path == nullptr)
    STEADY_SKIP("nvidia-smi not in PATH");
  GstElement *p = gst_parse_launch(
      "videotestsrc ! video/x-raw,format=NV12,width=1920,height=1080 ! cudaupload ! fakesink",
      nullptr);
  fail_unless(p != nullptr);
  fail_unless(gst_element_set_state(p, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(gst_element_get_state(p, nullptr, nullptr, 30 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);

  leakwatch::NvmlProbe nvml;
  const unsigned pid = static_cast<unsigned>(getpid());
  const int64_t before = nvml.process_used_bytes(pid);
  const gchar *argv[] = {smi_path, "--query-compute-apps=pid,used_memory",
                         "--format=csv,noheader,nounits", nullptr};
  SteadyChild smi = steady_run_child(argv, g_get_environ());
  const int64_t after = nvml.process_used_bytes(pid);
  g_free(smi_path);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);

  fail_unless_equals_int(smi.exit_status, 0);
  long long smi_mib = -1;
  std::istringstream in(smi.out);
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long row_pid = 0, mib = 0;
    if (std::sscanf(line.c_str(), "%llu, %llu", &row_pid, &mib) == 2 && row_pid == pid)
      smi_mib = static_cast<long long>(mib);
  }
  std::printf("hw: nvml: pid %u: NVML %lld and %lld bytes (%.1f / %.1f MiB), nvidia-smi %lld MiB\n",
              pid, static_cast<long long>(before), static_cast<long long>(after),
              before / 1048576.0, after / 1048576.0, smi_mib);
  std::printf("hw: nvml: nvidia-smi rows:\n%s", smi.out.c_str());
  std::fflush(stdout);
  fail_unless(before > 0, "NVML reports no GPU memory for this process");
  fail_unless(smi_mib >= 0, "nvidia-smi lists no compute app with pid %u", pid);
  // nvidia-smi prints whole MiB: it must match one of the two NVML reads, rounded down.
  fail_unless(smi_mib == before / 1048576 || smi_mib == after / 1048576,
              "nvidia-smi %lld MiB, NVML %lld / %lld MiB", smi_mib,
              static_cast<long long>(before / 1048576), static_cast<long long>(after / 1048576));
}
GST_END_TEST;

GST_START_TEST(test_convert_churn_clean) {
  SKIP_WITHOUT_NVIDIA("cudaupload", "cudaconvert", "cudadownload");
  std::string json = temp_path("convert.json");
  SteadyChild c = run_helper({"convert", std::to_string(kSessions)}, tracers_for(json, true));
  Series s = report_churn("convert-clean", c, json);
  fail_unless_equals_int(c.exit_status, 0);
  assert_contains(c.err, "leakwatch: verdict: clean");
  assert_flat(s);
}
GST_END_TEST;

GST_START_TEST(test_decode_churn_clean) {
  SKIP_WITHOUT_NVIDIA("nvh264dec", "h264parse");
  std::string clip = h264_stream();
  if (clip.empty())
    STEADY_SKIP("no H.264 stream: set LEAKWATCH_HW_H264 or install x264enc");
  std::string json = temp_path("decode.json");
  SteadyChild c = run_helper({"decode", std::to_string(kSessions), clip}, tracers_for(json, true));
  Series s = report_churn("decode-clean", c, json);
  fail_unless_equals_int(c.exit_status, 0);
  assert_contains(c.err, "leakwatch: verdict: clean");
  assert_flat(s);
}
GST_END_TEST;

// One GstCudaContext kept per session: named in the summary, GPU-memory and thread trend
// alerts within kAlertWithin sessions, exit status 65 under fail-on-leak.
static void check_leaked_contexts(const char *what, const SteadyChild &c, const Series &s) {
  fail_unless_equals_int(c.exit_status, 65);
  assert_contains(c.out, "helper: kept " + std::to_string(kLeakSessions) + " GstCudaContext");
  // Named with the pipeline whose element made it (its have-context message).
  assert_contains(c.err, "GstCudaContext x" + std::to_string(kLeakSessions) +
                             ": 'cudacontext1' in pipeline 'session-1'");
  assert_contains(c.err, "leakwatch: verdict: LEAKS FOUND");
  assert_contains(c.err, "leakwatch: fail-on-leak: exiting with status 65");
  fail_unless(s.first_alert.count("nvml"), "%s: no GPU-memory (nvml) alert", what);
  fail_unless(s.first_alert.at("nvml") <= kAlertWithin, "nvml alert at session %d",
              s.first_alert.at("nvml"));
  int thread_alert = -1;
  for (const auto &a : s.first_alert)
    if (a.first.rfind("threads/", 0) == 0 && (thread_alert < 0 || a.second < thread_alert))
      thread_alert = a.second;
  fail_unless(thread_alert > 0, "%s: no thread alert", what);
  fail_unless(thread_alert <= kAlertWithin, "first thread alert at session %d", thread_alert);
}

GST_START_TEST(test_convert_churn_leaked_context) {
  SKIP_WITHOUT_NVIDIA("cudaupload", "cudaconvert", "cudadownload");
  std::string json = temp_path("convert-leak.json");
  SteadyChild c =
      run_helper({"convert", std::to_string(kLeakSessions), "leak"}, tracers_for(json, true));
  Series s = report_churn("convert-leak", c, json);
  std::printf("hw: convert-leak: summary:\n%s", c.err.c_str());
  check_leaked_contexts("convert", c, s);
}
GST_END_TEST;

GST_START_TEST(test_decode_churn_leaked_context) {
  SKIP_WITHOUT_NVIDIA("nvh264dec", "h264parse");
  std::string clip = h264_stream();
  if (clip.empty())
    STEADY_SKIP("no H.264 stream: set LEAKWATCH_HW_H264 or install x264enc");
  std::string json = temp_path("decode-leak.json");
  SteadyChild c =
      run_helper({"decode", std::to_string(kLeakSessions), clip, "leak"}, tracers_for(json, true));
  Series s = report_churn("decode-leak", c, json);
  check_leaked_contexts("decode", c, s);
}
GST_END_TEST;

static Suite *leakwatch_nvidia_suite() {
  Suite *s = suite_create("leakwatch-nvidia");
  TCase *tc = tcase_create("nvidia");
  tcase_set_timeout(tc, 1200);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_nvml_matches_nvidia_smi);
  tcase_add_test(tc, test_convert_churn_clean);
  tcase_add_test(tc, test_decode_churn_clean);
  tcase_add_test(tc, test_convert_churn_leaked_context);
  tcase_add_test(tc, test_decode_churn_leaked_context);
  return s;
}

GST_CHECK_MAIN(leakwatch_nvidia)
