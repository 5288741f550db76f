// Robust trend detection over sliding windows.
//
// For every metric a Theil-Sen slope (median of all pairwise slopes) is computed over the last
// `window` points at three time scales: every sample, every 10th and every 100th, so a leak of
// one thread per ten minutes becomes visible as well as one of megabytes per second. A window
// raises an alert when all of these hold:
//   - the slope is above the metric's limit (per minute),
//   - the median of the last quarter exceeds the median of the first by more than the
//     metric's minimum growth,
//   - the median rises from each quarter to the next by more than 15% of that growth, i.e.
//     the growth is spread over the window. One step (a session that opens a descriptor once) or
//     two steps are not a trend; noise around a flat line is not either.
// Only full windows alert (no verdict from a start-up ramp). Alerts are edge-triggered per
// metric: raised once, re-armed when no scale holds any more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace leakwatch {

struct Limit {
  double slope_per_minute = 0;  // slope must be strictly above
  double growth = 0;            // growth must be strictly above
};

struct WindowResult {
  bool alert = false;
  double slope_per_minute = 0;
  double growth = 0;
  size_t points = 0;
  double span_s = 0;
};

// Median of all pairwise slopes dv/dt (t in seconds); 0 with fewer than two points.
double theil_sen_slope(const std::vector<std::pair<double, double>> &points);
// Evaluates one window of (t seconds, value) points against @limit.
WindowResult evaluate_window(const std::vector<std::pair<double, double>> &points,
                             const Limit &limit);

struct Alert {
  std::string metric;
  double t_s = 0;  // when raised, seconds since leakwatch started
  double slope_per_minute = 0;
  double growth = 0;
  size_t window = 0;  // points in the window
  double window_s = 0;
  int scale = 1;  // 1, 10 or 100 samples per point
};

struct TrendState {
  std::string metric;
  double slope_per_minute = 0;  // at the finest scale with enough points
  double growth = 0;
  bool alerting = false;
  // (samples per point, slope per minute) of every scale with at least two points.
  std::vector<std::pair<int, double>> scale_slopes;
};

class TrendBank {
 public:
  using LimitFor = std::function<Limit(const std::string &metric)>;
  static constexpr int kScales[3] = {1, 10, 100};

  TrendBank(size_t window, LimitFor limit_for);
  // Adds one sample of every metric; returns the alerts raised by it.
  std::vector<Alert> add(double t_s, const std::vector<std::pair<std::string, double>> &values);
  std::vector<TrendState> states() const;
  const std::vector<Alert> &history() const { return history_; }

 private:
  struct Scale {
    uint64_t seen = 0;
    std::deque<std::pair<double, double>> points;
    WindowResult last;
  };
  struct Metric {
    Scale scales[3];
    bool alerting = false;
    Limit limit;
  };
  size_t window_;
  LimitFor limit_for_;
  std::map<std::string, Metric> metrics_;
  std::vector<Alert> history_;
};

}  // namespace leakwatch
