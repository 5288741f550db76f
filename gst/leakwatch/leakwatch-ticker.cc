#include "leakwatch-ticker.h"

#include <pthread.h>

#include <chrono>
#include <string>

namespace leakwatch {

void Ticker::start(double interval_s, const char *name, std::function<void()> tick) {
  stop();
  tick_ = std::move(tick);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread(&Ticker::run, this, interval_s, std::string(name));
}

void Ticker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cond_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void Ticker::run(double interval_s, std::string name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_s));
  auto next = std::chrono::steady_clock::now() + period;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (cond_.wait_until(lock, next, [this] { return stopping_; }))
      break;
    lock.unlock();
    tick_();
    lock.lock();
    next += period;
    auto now = std::chrono::steady_clock::now();
    if (next < now)
      next = now + period;  // fell behind (suspended process): do not burst
  }
}

}  // namespace leakwatch
