// leakwatch's own sampling thread: calls a function every interval until stopped, never on
// the application's main loop. Stopping wakes it at once (condition variable, no polling).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace leakwatch {

class Ticker {
 public:
  Ticker() = default;
  ~Ticker() { stop(); }
  Ticker(const Ticker &) = delete;
  Ticker &operator=(const Ticker &) = delete;

  // Starts the thread (named @name) calling @tick every @interval_s seconds.
  void start(double interval_s, const char *name, std::function<void()> tick);
  // Stops and joins; safe to call twice and from a forked child where the thread is gone.
  void stop();
  bool running() const { return thread_.joinable(); }

 private:
  void run(double interval_s, std::string name);
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable cond_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace leakwatch
