// Owning wrappers for GStreamer references, so no code path has an unref to forget.
#pragma once

#include <gst/gst.h>

#include <utility>

namespace steady {

// Owns one reference to a GObject-derived instance (GstObject, GstElement, GstPad, ...).
template <typename T>
class ObjectRef {
 public:
  ObjectRef() = default;
  // Takes ownership of a reference the caller already holds.
  static ObjectRef adopt(T *obj) { return ObjectRef(obj); }
  // Adds a reference of its own.
  static ObjectRef share(T *obj) {
    return ObjectRef(obj ? static_cast<T *>(g_object_ref(obj)) : nullptr);
  }

  ObjectRef(const ObjectRef &other)
      : ptr_(other.ptr_ ? static_cast<T *>(g_object_ref(other.ptr_)) : nullptr) {}
  ObjectRef(ObjectRef &&other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  ObjectRef &operator=(ObjectRef other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  ~ObjectRef() { reset(); }

  void reset() {
    if (T *old = std::exchange(ptr_, nullptr))
      g_object_unref(old);
  }
  T *get() const { return ptr_; }
  T *release() { return std::exchange(ptr_, nullptr); }
  explicit operator bool() const { return ptr_ != nullptr; }
  T *operator->() const { return ptr_; }

 private:
  explicit ObjectRef(T *obj) : ptr_(obj) {}
  T *ptr_ = nullptr;
};

// Owns one reference to a GstMiniObject-derived instance (GstBuffer, GstEvent, GstCaps, ...).
template <typename T>
class MiniRef {
 public:
  MiniRef() = default;
  static MiniRef adopt(T *obj) { return MiniRef(obj); }
  static MiniRef share(T *obj) {
    return MiniRef(obj ? reinterpret_cast<T *>(gst_mini_object_ref(GST_MINI_OBJECT_CAST(obj)))
                       : nullptr);
  }

  MiniRef(const MiniRef &other) : MiniRef(share(other.ptr_).release()) {}
  MiniRef(MiniRef &&other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  MiniRef &operator=(MiniRef other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }
  ~MiniRef() { reset(); }

  void reset() {
    if (T *old = std::exchange(ptr_, nullptr))
      gst_mini_object_unref(GST_MINI_OBJECT_CAST(old));
  }
  T *get() const { return ptr_; }
  T *release() { return std::exchange(ptr_, nullptr); }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  explicit MiniRef(T *obj) : ptr_(obj) {}
  T *ptr_ = nullptr;
};

// Holds GST_OBJECT_LOCK for a scope.
class ObjectLock {
 public:
  explicit ObjectLock(gpointer obj) : obj_(GST_OBJECT_CAST(obj)) { GST_OBJECT_LOCK(obj_); }
  ~ObjectLock() { GST_OBJECT_UNLOCK(obj_); }
  ObjectLock(const ObjectLock &) = delete;
  ObjectLock &operator=(const ObjectLock &) = delete;

 private:
  GstObject *obj_;
};

}  // namespace steady
