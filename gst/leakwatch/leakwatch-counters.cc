#include "leakwatch-counters.h"

namespace leakwatch {

TypeTable::TypeTable(Classifier classifier)
    : classifier_(std::move(classifier)), slots_(new std::atomic<TypeSlot *>[kCapacity]) {
  for (size_t i = 0; i < kCapacity; ++i)
    slots_[i].store(nullptr, std::memory_order_relaxed);
  overflow_.name = "(other types)";
}

TypeSlot *TypeTable::insert(GType type, bool is_mini) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t i = hash(type);
  for (size_t n = 0; n < kCapacity; ++n, i = (i + 1) & (kCapacity - 1)) {
    TypeSlot *s = slots_[i].load(std::memory_order_acquire);
    if (s != nullptr && s->type == type)
      return s;
    if (s == nullptr) {
      auto slot = std::make_unique<TypeSlot>();
      slot->type = type;
      const char *name = g_type_name(type);
      slot->name = name ? name : "(unnamed type)";
      slot->is_mini = is_mini;
      slot->mode = classifier_ ? classifier_(type, is_mini) : TypeMode::kCountOnly;
      TypeSlot *raw = slot.get();
      owned_.push_back(std::move(slot));
      slots_[i].store(raw, std::memory_order_release);
      return raw;
    }
  }
  return &overflow_;
}

std::vector<TypeSlot *> TypeTable::slots() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<TypeSlot *> out;
  out.reserve(owned_.size() + 1);
  for (const auto &s : owned_)
    out.push_back(s.get());
  if (overflow_.created.load(std::memory_order_relaxed) != 0)
    out.push_back(const_cast<TypeSlot *>(&overflow_));
  return out;
}

bool type_is_a_named(GType type, const char *name) {
  for (GType t = type; t != 0; t = g_type_parent(t)) {
    const char *n = g_type_name(t);
    if (n != nullptr && g_strcmp0(n, name) == 0)
      return true;
  }
  return false;
}

}  // namespace leakwatch
