// One VA display per render node, shared by every encoder session on that node.
//
// va encoders (plugins-bad `va`) receive our GstVaDisplay through a `gst.va.display.handle`
// context set on them before they open (NULL->READY), so N sessions on a node hold one
// descriptor, not N. vaapi encoders (gstreamer-vaapi) only accept their own display type: the
// first vaapi encoder on a node opens one, we capture it with a context query and hand it to
// every later vaapi encoder on that node. The display lives as long as any session (live or
// parked) or probe holds a lease on it.
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
  // True when a GstVaDisplay is open for the node (gstreamer-va-1.0 available and the node
  // initialised).
  bool has_va_display() const { return va_context_ != nullptr; }

  // Gives `element` the shared display before it opens one. Call before NULL->READY.
  void prepare(GstElement *element, EncoderKind kind);
  // After `element` reached READY: remember a vaapi display for later vaapi elements.
  void capture(GstElement *element, EncoderKind kind);

 private:
  std::string node_;
  std::mutex lock_;
  GstObject *va_display_ = nullptr;     // GstVaDisplay, owned
  GstContext *va_context_ = nullptr;    // gst.va.display.handle, owned
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
