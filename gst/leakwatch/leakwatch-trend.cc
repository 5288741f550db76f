#include "leakwatch-trend.h"

#include "steady-stats.h"

namespace leakwatch {

constexpr int TrendBank::kScales[3];

double theil_sen_slope(const std::vector<std::pair<double, double>> &points) {
  return steady::theil_sen_slope(points);
}

WindowResult evaluate_window(const std::vector<std::pair<double, double>> &points,
                             const Limit &limit) {
  WindowResult r;
  r.points = points.size();
  if (points.size() < 2)
    return r;
  r.span_s = points.back().first - points.front().first;
  r.slope_per_minute = theil_sen_slope(points) * 60.0;
  if (points.size() < 8)
    return r;  // too few points for quarters of at least two
  double q[4];
  const size_t n = points.size();
  for (int k = 0; k < 4; ++k) {
    std::vector<double> v;
    for (size_t i = n * k / 4; i < n * (k + 1) / 4; ++i)
      v.push_back(points[i].second);
    q[k] = steady::median(std::move(v));
  }
  r.growth = q[3] - q[0];
  // Every quarter must carry a fair share of the growth: a step lands in one quarter.
  const double share = 0.15 * r.growth;
  const bool spread =
      r.growth > 0 && q[1] - q[0] > share && q[2] - q[1] > share && q[3] - q[2] > share;
  r.alert = spread && r.slope_per_minute > limit.slope_per_minute && r.growth > limit.growth;
  return r;
}

TrendBank::TrendBank(size_t window, LimitFor limit_for)
    : window_(std::max<size_t>(window, 8)), limit_for_(std::move(limit_for)) {}

std::vector<Alert> TrendBank::add(double t_s,
                                  const std::vector<std::pair<std::string, double>> &values) {
  std::vector<Alert> raised;
  for (const auto &kv : values) {
    auto found = metrics_.find(kv.first);
    if (found == metrics_.end()) {
      Metric m;
      m.limit = limit_for_ ? limit_for_(kv.first) : Limit();
      found = metrics_.emplace(kv.first, std::move(m)).first;
    }
    Metric &m = found->second;
    bool any = false;
    const Alert *best = nullptr;
    Alert candidate;
    for (int s = 0; s < 3; ++s) {
      Scale &sc = m.scales[s];
      if (sc.seen++ % static_cast<uint64_t>(kScales[s]) == 0) {
        sc.points.emplace_back(t_s, kv.second);
        if (sc.points.size() > window_)
          sc.points.pop_front();
        std::vector<std::pair<double, double>> pts(sc.points.begin(), sc.points.end());
        sc.last = evaluate_window(pts, m.limit);
        // Only a full window may alert: start-up ramps (threads and pools being created in
        // the first seconds) are not leaks.
        if (sc.points.size() < window_)
          sc.last.alert = false;
      }
      if (sc.last.alert) {
        if (!any) {
          candidate.metric = kv.first;
          candidate.t_s = t_s;
          candidate.slope_per_minute = sc.last.slope_per_minute;
          candidate.growth = sc.last.growth;
          candidate.window = sc.last.points;
          candidate.window_s = sc.last.span_s;
          candidate.scale = kScales[s];
          best = &candidate;
        }
        any = true;
      }
    }
    if (any && !m.alerting && best != nullptr) {
      raised.push_back(*best);
      history_.push_back(*best);
    }
    m.alerting = any;
  }
  return raised;
}

std::vector<TrendState> TrendBank::states() const {
  std::vector<TrendState> out;
  for (const auto &kv : metrics_) {
    TrendState st;
    st.metric = kv.first;
    st.alerting = kv.second.alerting;
    for (int s = 0; s < 3; ++s) {
      const WindowResult &w = kv.second.scales[s].last;
      if (w.points >= 2) {
        st.scale_slopes.emplace_back(kScales[s], w.slope_per_minute);
        // Report the widest scale that has a full window, else the finest.
        if (s == 0 || w.points >= 8) {
          st.slope_per_minute = w.slope_per_minute;
          st.growth = w.growth;
        }
      }
    }
    out.push_back(st);
  }
  return out;
}

}  // namespace leakwatch
