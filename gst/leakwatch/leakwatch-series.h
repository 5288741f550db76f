// Column store of every sampled metric over time, bounded in memory.
//
// Columns are created on first sight (earlier rows read 0). When the number of rows passes
// `max_rows`, every other row is dropped (the newest is always kept), so a service running
// for weeks keeps a series of bounded size whose resolution halves as it ages.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace leakwatch {

class SeriesStore {
 public:
  explicit SeriesStore(size_t max_rows = 3600) : max_rows_(max_rows < 16 ? 16 : max_rows) {}

  void append(double t_s, const std::vector<std::pair<std::string, double>> &values);
  const std::vector<double> &times() const { return times_; }
  const std::map<std::string, std::vector<double>> &columns() const { return columns_; }
  size_t rows() const { return times_.size(); }
  size_t decimations() const { return decimations_; }

 private:
  void decimate();
  size_t max_rows_;
  size_t decimations_ = 0;
  std::vector<double> times_;
  std::map<std::string, std::vector<double>> columns_;
};

}  // namespace leakwatch
