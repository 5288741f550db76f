// The main loop both example servers run: until SIGINT or SIGTERM, or until a fatal error ends
// it, with a status line every few seconds; then the closing lines and the exit code.
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>
#include <string>

namespace steady_examples {

class ServiceLoop {
 public:
  explicit ServiceLoop(const char *program);
  ~ServiceLoop();
  ServiceLoop(const ServiceLoop &) = delete;
  ServiceLoop &operator=(const ServiceLoop &) = delete;

  // Runs the default main context until SIGINT, SIGTERM or fail(). With status_interval_s > 0,
  // prints "<program>: <status(uptime)>" every status_interval_s seconds. Prints
  // "<program>: shutting down" when it returns.
  void run(int status_interval_s, std::function<std::string(double uptime_s)> status);
  // From the main context: prints "<program>: <error>" on stderr and ends run() with exit code 1.
  void fail(const std::string &error);
  // Seconds since the loop was made.
  double uptime() const;
  // Once the service has shut down: prints its last status line and its final summary, and
  // returns the exit code: 1 after fail(); 3, with "<program>: <still_alive>" on stderr, when
  // the shutdown was not clean; else 0.
  int finish(bool clean, const std::string &status_line, const std::string &final_summary,
             const char *still_alive);

 private:
  static gboolean on_status(gpointer data);

  const char *program_;
  GMainLoop *loop_;
  int exit_code_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::function<std::string(double)> status_;
};

}  // namespace steady_examples
