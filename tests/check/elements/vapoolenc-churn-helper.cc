// Child process for the vapoolenc leakwatch tests: sequential vapoolenc sessions (one through
// fakehwenc, one through x264enc per round) under whatever GST_TRACERS the test gives it
// (leakwatch with fail-on-leak). Takes a leakwatch checkpoint after the warm-up rounds, one
// half-way through the measured rounds and one at the end, a sample per round, and prints
// them with the pool statistics on stdout:
//
//   checkpoint-warmup: <GstStructure>
//   checkpoint-mid: <GstStructure>     (deltas since checkpoint-warmup)
//   checkpoint-end: <GstStructure>     (deltas since checkpoint-mid)
//   pool-stats: <GstStructure>
//   alerts: N
//
// then calls gst_deinit(), where leakwatch writes its report and applies fail-on-leak.
//
//   vapoolenc-churn-helper ROUNDS WARMUP_ROUNDS [LEAK_ROUND]
// LEAK_ROUND >= 0 keeps that round's fakehwenc session pipeline (named leaked-session-N)
// alive after NULL: the deliberate leak of the negative control.
#include "steady-tracing.h"
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const char *kSource =
    "videotestsrc name=src num-buffers=5 ! "
    "video/x-raw,format=I420,width=160,height=120,framerate=30/1";

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "vapoolenc-churn-helper: %s\n", what.c_str());
  std::exit(2);
}

// The source is named "src" in every session so that its streaming thread is always "src:src"
// (leakwatch groups threads by name with digits folded, but the kernel truncates names to 15
// characters, so "videotestsrc9:src" and "videotestsrc10:src" would land in different groups).
// Runs one session to EOS and takes it back to NULL; returns the pipeline (still referenced).
GstElement *run_session(const std::string &enc, const std::string &name) {
  const std::string desc = std::string(kSource) + " ! " + enc + " ! fakesink sync=false";
  GError *error = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &error);
  if (p == nullptr || error != nullptr)
    die("cannot build " + desc + ": " + (error ? error->message : "?"));
  gst_object_ref_sink(p);
  gst_object_set_name(GST_OBJECT(p), name.c_str());
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (msg == nullptr || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS)
    die("session " + name + " did not reach EOS");
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  return p;
}

GstObject *leakwatch_tracer() {
  GstObject *found = steady::find_active_tracer("GstLeakwatchTracer");
  if (found == nullptr)
    die("no leakwatch tracer active (set GST_TRACERS)");
  return found;
}

void print_structure(const char *label, const GstStructure *s) {
  gchar *text = gst_structure_to_string(s);
  std::printf("%s: %s\n", label, text);
  g_free(text);
}

void print_checkpoint(GstObject *leakwatch, const char *label) {
  GstStructure *cp = nullptr;
  g_signal_emit_by_name(leakwatch, "checkpoint", &cp);
  print_structure(label, cp);
  gst_structure_free(cp);
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 3)
    die("usage: vapoolenc-churn-helper ROUNDS WARMUP_ROUNDS [LEAK_ROUND]");
  const int rounds = std::atoi(argv[1]);
  const int warmup = std::atoi(argv[2]);
  const int leak_round = argc > 3 ? std::atoi(argv[3]) : -1;
  GstObject *leakwatch = leakwatch_tracer();
  GstElement *leaked = nullptr;
  guint alerts = 0;

  for (int i = 0; i < warmup + rounds; i++) {
    if (i == warmup)
      print_checkpoint(leakwatch, "checkpoint-warmup");
    if (i == warmup + rounds / 2)
      print_checkpoint(leakwatch, "checkpoint-mid");
    const bool leak = i == leak_round;
    const std::string n = std::to_string(i);
    GstElement *hw = run_session("vapoolenc hardware-factories=fakehwenc",
                                 leak ? "leaked-session-" + n : "session-hw-" + n);
    if (leak)
      leaked = hw;  // never unreferenced: the deliberate leak
    else
      gst_object_unref(hw);
    gst_object_unref(run_session("vapoolenc device=software", "session-sw-" + n));
    guint raised = 0;
    g_signal_emit_by_name(leakwatch, "sample-now", &raised);
    alerts += raised;
  }
  print_checkpoint(leakwatch, "checkpoint-end");

  GstElement *probe = gst_element_factory_make("vapoolenc", nullptr);
  GstStructure *stats = nullptr;
  g_object_get(probe, "pool-stats", &stats, nullptr);
  print_structure("pool-stats", stats);
  gst_structure_free(stats);
  gst_object_unref(probe);
  std::printf("alerts: %u\n", alerts);
  std::fflush(stdout);

  gst_object_unref(leakwatch);
  (void)leaked;
  gst_deinit();  // leakwatch reports here; exits 65 with fail-on-leak when something leaked
  return 0;
}
