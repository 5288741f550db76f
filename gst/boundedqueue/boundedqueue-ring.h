// A growable circular buffer that keeps its storage once grown, so a queue in steady state
// moves items in and out without touching the allocator.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace boundedqueue {

template <typename T>
class Ring {
 public:
  Ring() { slots_.resize(16); }

  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }

  // Logical index 0 is the oldest item.
  T &at(std::size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T &at(std::size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  T &front() { return at(0); }
  T &back() { return at(count_ - 1); }

  void push_back(T &&item) {
    if (count_ == slots_.size())
      grow();
    at(count_) = std::move(item);
    ++count_;
  }

  T pop_front() {
    T out = std::move(at(0));
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
    return out;
  }

  T pop_back() {
    T out = std::move(at(count_ - 1));
    --count_;
    return out;
  }

  // Removes the item at logical index i and keeps the order of the others: items in front
  // of it move back one slot (cheap when i is near the front, the common case here).
  T erase(std::size_t i) {
    T out = std::move(at(i));
    if (i < count_ / 2) {
      for (std::size_t j = i; j > 0; --j)
        at(j) = std::move(at(j - 1));
      head_ = (head_ + 1) & (slots_.size() - 1);
    } else {
      for (std::size_t j = i; j + 1 < count_; ++j)
        at(j) = std::move(at(j + 1));
    }
    --count_;
    return out;
  }

 private:
  void grow() {
    std::vector<T> bigger(slots_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i)
      bigger[i] = std::move(at(i));
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // size is always a power of two
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace boundedqueue
