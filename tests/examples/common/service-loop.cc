#include "service-loop.h"

#include <glib-unix.h>

#include <csignal>
#include <cstdio>

namespace steady_examples {

ServiceLoop::ServiceLoop(const char *program)
    : program_(program), loop_(g_main_loop_new(nullptr, FALSE)) {}

ServiceLoop::~ServiceLoop() {
  g_main_loop_unref(loop_);
}

double ServiceLoop::uptime() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

gboolean ServiceLoop::on_status(gpointer data) {
  auto &self = *static_cast<ServiceLoop *>(data);
  std::printf("%s: %s\n", self.program_, self.status_(self.uptime()).c_str());
  std::fflush(stdout);
  return G_SOURCE_CONTINUE;
}

void ServiceLoop::run(int status_interval_s, std::function<std::string(double)> status) {
  status_ = std::move(status);
  auto quit = [](gpointer data) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop *>(data));
    return G_SOURCE_CONTINUE;  // removed below, with the others
  };
  const guint sigint = g_unix_signal_add(SIGINT, quit, loop_);
  const guint sigterm = g_unix_signal_add(SIGTERM, quit, loop_);
  const guint status_timer =
      status_interval_s > 0 ? g_timeout_add_seconds(status_interval_s, on_status, this) : 0;

  g_main_loop_run(loop_);

  std::printf("%s: shutting down\n", program_);
  if (status_timer)
    g_source_remove(status_timer);
  g_source_remove(sigint);
  g_source_remove(sigterm);
}

void ServiceLoop::fail(const std::string &error) {
  std::fprintf(stderr, "%s: %s\n", program_, error.c_str());
  exit_code_ = 1;
  g_main_loop_quit(loop_);
}

int ServiceLoop::finish(bool clean, const std::string &status_line,
                        const std::string &final_summary, const char *still_alive) {
  std::printf("%s: %s\n", program_, status_line.c_str());
  std::printf("%s: %s\n", program_, final_summary.c_str());
  int final_code = 0;
  if (!clean) {
    std::fprintf(stderr, "%s: %s\n", program_, still_alive);
    final_code = 3;
  }
  return exit_code_ ? exit_code_ : final_code;
}

}  // namespace steady_examples
