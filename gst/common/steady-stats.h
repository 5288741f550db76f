// The robust statistics every part of gst-steady uses, written once: leakwatch's trend
// estimator, the benchmarks (medians of repeated runs) and the tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace steady {

// The median; the mean of the two middle values for an even count; 0 for no values.
inline double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1)
    return upper;
  return (*std::max_element(values.begin(), values.begin() + mid) + upper) / 2;
}

// Theil-Sen: the median of the slopes dv/dt between every pair of (t, v) points with t apart.
// Robust to outliers (a GC pause, a warm-up step); 0 with fewer than two points.
inline double theil_sen_slope(const std::vector<std::pair<double, double>> &points) {
  std::vector<double> slopes;
  if (points.size() > 1)
    slopes.reserve(points.size() * (points.size() - 1) / 2);
  for (std::size_t i = 0; i < points.size(); ++i)
    for (std::size_t j = i + 1; j < points.size(); ++j) {
      const double dt = points[j].first - points[i].first;
      if (dt > 0)
        slopes.push_back((points[j].second - points[i].second) / dt);
    }
  return median(std::move(slopes));
}

}  // namespace steady
