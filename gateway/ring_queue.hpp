// A first-in first-out queue over one array whose slots are reused, for a session's statements in flight:
// unlike std::deque, pushing and popping allocate nothing once the array has grown to the queue's usual
// depth. T::clear() must put an element back to its default state (a popped slot is cleared, not
// destroyed, and is what emplace_back hands out next).
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace phigate {

template <class T>
class ring_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  T& front() noexcept { return slots_[head_]; }

  /// A default element (never used, or cleared) at the back.
  T& emplace_back() {
    if (size_ == slots_.size()) grow();
    T& slot = slots_[(head_ + size_) & (slots_.size() - 1)];
    ++size_;
    return slot;
  }

  /// Removes the front element (its slot is cleared, releasing what it held).
  void pop_front() {
    slots_[head_].clear();
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }

 private:
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(8, slots_.size() * 2));  // a power of two
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace phigate
