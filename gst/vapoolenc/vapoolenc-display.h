// One VA display per render node, shared by every encoder session on that node.
//
// va encoders (plugins-bad `va`) receive our GstVaDisplay through a `gst.va.display.handle`
// context set on them before they open (NULL->READY), so N sessions on a node hold one
// descriptor, not N. vaapi encoders (gstreamer-vaapi) only accept their own display type: the
// first vaapi encoder on a node opens one, we capture it with a context query and hand it to
// every later vaapi encoder on that node. The display lives as long as any session (live or
// parked) or probe holds a lease on it. The GstVaDisplay is opened on the first va encoder of
// the node, so a node used only by vaapi encoders holds one descriptor (theirs), not two.
//
// The driver's error messages on a shared display (libva's error callback) are logged and the
// last one is kept, so that an encoder that refuses its caps because the driver is out of
// contexts can be reported with the driver's own words.
#pragma once

#include "vapoolenc-codec.h"

#include <gst/gst.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace vapoolenc {

class DisplayHandle {
 public:
  explicit DisplayHandle(std::string node);
  ~DisplayHandle();
  DisplayHandle(const DisplayHandle &) = delete;
  DisplayHandle &operator=(const DisplayHandle &) = delete;

  const std::string &node() const { return node_; }
  // True when a GstVaDisplay is open for the node (gstreamer-va-1.0 available, a va encoder
  // was prepared on the node and the node initialised).
  bool has_va_display() const { return va_context_ != nullptr; }

  // Gives `element` the shared display before it opens one. Call before NULL->READY.
  void prepare(GstElement *element, EncoderKind kind);
  // After `element` reached READY: remember a vaapi display for later vaapi elements.
  void capture(GstElement *element, EncoderKind kind);
  // The last error message the driver reported through libva on a shared display since the
  // previous call ("" when none), and forgets it.
  std::string take_driver_error();

 private:
  void open_va_locked();
  void watch_driver_errors_locked(void *va_display);
  static void on_driver_error(void *self, const char *message);

  std::string node_;
  std::mutex lock_;
  bool va_tried_ = false;
  std::mutex error_lock_;
  std::string driver_error_;
  GstObject *va_display_ = nullptr;      // GstVaDisplay, owned
  GstContext *va_context_ = nullptr;     // gst.va.display.handle, owned
  GstContext *vaapi_context_ = nullptr;  // gst.vaapi.Display, owned
};

class DisplayRegistry {
 public:
  static DisplayRegistry &global();
  // The shared display of `node`, opened on first use, closed when the last lease goes.
  std::shared_ptr<DisplayHandle> lease(const std::string &node);
  // Displays currently open (for tests and logs).
  size_t open_displays();

 private:
  std::mutex lock_;
  std::map<std::string, std::weak_ptr<DisplayHandle>> handles_;
};

}  // namespace vapoolenc
