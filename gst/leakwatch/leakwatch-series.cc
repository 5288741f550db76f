#include "leakwatch-series.h"

namespace leakwatch {

void SeriesStore::append(double t_s, const std::vector<std::pair<std::string, double>> &values) {
  times_.push_back(t_s);
  const size_t n = times_.size();
  for (const auto &kv : values) {
    std::vector<double> &col = columns_[kv.first];
    col.resize(n - 1, 0.0);
    col.push_back(kv.second);
  }
  for (auto &kv : columns_)
    kv.second.resize(n, 0.0);  // metrics absent from this sample read 0
  if (n > max_rows_)
    decimate();
}

void SeriesStore::decimate() {
  const size_t n = times_.size();
  auto thin = [n](std::vector<double> &v) {
    std::vector<double> out;
    out.reserve(n / 2 + 1);
    for (size_t i = 0; i < n; i += 2)
      out.push_back(v[i]);
    if ((n - 1) % 2 != 0)
      out.push_back(v[n - 1]);
    v.swap(out);
  };
  thin(times_);
  for (auto &kv : columns_)
    thin(kv.second);
  decimations_++;
}

}  // namespace leakwatch
