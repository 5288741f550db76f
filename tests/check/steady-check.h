// Shared helpers for gst-steady's gst-check tests.
#pragma once

#include <gst/check/gstcheck.h>

#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

// Check has no notion of a skipped test: a test that needs something absent (hardware, an
// optional plugin) prints this marker and returns. scripts/summarize.py counts the markers
// as skipped, not passed.
#define STEADY_SKIP(...)                                                 \
  do {                                                                   \
    g_autofree gchar *steady_skip_reason = g_strdup_printf(__VA_ARGS__); \
    std::printf("STEADY-SKIP: %s: %s\n", __func__, steady_skip_reason);  \
    std::fflush(stdout);                                                 \
    return;                                                              \
  } while (0)

// True when an element factory is available (plugin installed and loadable).
static inline bool steady_have_factory(const char *name) {
  GstElementFactory *factory = gst_element_factory_find(name);
  if (!factory)
    return false;
  gst_object_unref(factory);
  return true;
}

// A file under the build tree (helper executables), from GST_STEADY_BUILD_ROOT (check_env).
static inline std::string steady_build_path(const char *rel) {
  const char *root = g_getenv("GST_STEADY_BUILD_ROOT");
  fail_unless(root != nullptr, "GST_STEADY_BUILD_ROOT is not set");
  return std::string(root) + "/" + rel;
}

// What a child process left behind: tests that need their own GST_TRACERS, or that watch
// gst_deinit() and the exit status, run the scenario in a child.
struct SteadyChild {
  int exit_status = -1;  // -1 when it did not exit normally
  std::string out, err;
};

// Runs @argv with @env (both NULL-terminated; @env is freed here) and waits for it.
static inline SteadyChild steady_run_child(const gchar *const *argv, gchar **env) {
  gchar *out = nullptr, *err = nullptr;
  gint status = 0;
  GError *error = nullptr;
  gboolean ok = g_spawn_sync(nullptr, const_cast<gchar **>(argv), env, G_SPAWN_DEFAULT, nullptr,
                             nullptr, &out, &err, &status, &error);
  g_strfreev(env);
  fail_unless(ok, "cannot spawn %s: %s", argv[0], error ? error->message : "?");
  SteadyChild child;
  if (WIFEXITED(status))
    child.exit_status = WEXITSTATUS(status);
  child.out = out ? out : "";
  child.err = err ? err : "";
  g_free(out);
  g_free(err);
  return child;
}

// Drops the caller's reference to @object and waits (up to 10 s) until the object is fully
// finalized. A bin's last reference can be held for a moment by GStreamer's own threads (the
// thread that completes an ASYNC state change), so what the pipeline owned (its bus's poll
// descriptors, its lifecycle "DESTROYED" line) may go away only after gst_object_unref returns.
static inline void steady_unref_and_wait_finalized(gpointer object) {
  struct Gone {
    std::mutex lock;
    std::condition_variable cond;
    bool done = false;
  } gone;
  // Data set on the object is freed at the very end of GObject's finalize, after GstObject's
  // own finalize (and the tracers' object-destroyed hook); a weak ref fires before both.
  static GQuark quark = g_quark_from_static_string("steady-wait-finalized");
  g_object_set_qdata_full(G_OBJECT(object), quark, &gone, [](gpointer data) {
    Gone *g = static_cast<Gone *>(data);
    std::lock_guard<std::mutex> hold(g->lock);
    g->done = true;
    g->cond.notify_all();
  });
  gst_object_unref(object);
  std::unique_lock<std::mutex> hold(gone.lock);
  bool done = gone.cond.wait_for(hold, std::chrono::seconds(10), [&] { return gone.done; });
  fail_unless(done, "object not finalized within 10 s of its last unref");
}
