#include "vapoolenc-display.h"

#include <va/va.h>

#ifdef VAPOOLENC_HAVE_GST_VA
#include <gst/va/gstva.h>
#include <gst/va/gstvadisplay_drm.h>
#include <gst/va/gstvautils.h>
#endif

namespace vapoolenc {

GST_DEBUG_CATEGORY_STATIC(display_debug);
#define GST_CAT_DEFAULT display_debug

static void ensure_debug() {
  static std::once_flag once;
  std::call_once(once, [] {
    GST_DEBUG_CATEGORY_INIT(display_debug, "vapoolenc-display", 0, "vapoolenc shared VA displays");
  });
}

static const char *kVaapiDisplayContext = "gst.vaapi.Display";

// libva error callback left on a shared display when its handle goes (the display may outlive
// the handle in a pipeline's context list): logs, touches no handle.
static void log_driver_error(void *, const char *message) {
  GST_WARNING("VA driver: %s", message);
}

// The VADisplay (libva handle) behind a GstVaDisplay or a GstVaapiDisplay: both have a
// "va-display" pointer property.
static VADisplay va_dpy_of(GObject *display) {
  gpointer dpy = nullptr;
  if (display && g_object_class_find_property(G_OBJECT_GET_CLASS(display), "va-display"))
    g_object_get(display, "va-display", &dpy, nullptr);
  return dpy;
}

// The GstVaapiDisplay held by a gst.vaapi.Display context (new reference) or nullptr.
static GObject *vaapi_display_of(GstContext *context) {
  GstObject *display = nullptr;
  const GstStructure *s = gst_context_get_structure(context);
  if (!gst_structure_get(s, "gst.vaapi.Display.GObject", GST_TYPE_OBJECT, &display, nullptr))
    return nullptr;
  return G_OBJECT(display);
}

DisplayHandle::DisplayHandle(std::string node) : node_(std::move(node)) {
  ensure_debug();
}

void DisplayHandle::open_va_locked() {
  va_tried_ = true;
#ifdef VAPOOLENC_HAVE_GST_VA
  if (GstVaDisplay *display = gst_va_display_drm_new_from_path(node_.c_str())) {
    va_display_ = GST_OBJECT(display);
    va_context_ = gst_context_new(GST_VA_DISPLAY_HANDLE_CONTEXT_TYPE_STR, TRUE);
    gst_context_set_va_display(va_context_, display);
    watch_driver_errors_locked(va_dpy_of(G_OBJECT(display)));
    GST_INFO("opened shared VA display on %s", node_.c_str());
  } else {
    GST_INFO("no VA display on %s: va encoders there open their own", node_.c_str());
  }
#endif
}

void DisplayHandle::watch_driver_errors_locked(void *va_display) {
  if (va_display)
    vaSetErrorCallback(static_cast<VADisplay>(va_display), on_driver_error, this);
}

void DisplayHandle::on_driver_error(void *self, const char *message) {
  auto *handle = static_cast<DisplayHandle *>(self);
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  GST_WARNING("VA driver on %s: %s", handle->node_.c_str(), text.c_str());
  std::lock_guard<std::mutex> guard(handle->error_lock_);
  handle->driver_error_ = text;
}

std::string DisplayHandle::take_driver_error() {
  std::lock_guard<std::mutex> guard(error_lock_);
  std::string text;
  text.swap(driver_error_);
  return text;
}

DisplayHandle::~DisplayHandle() {
  // The displays may outlive this handle: leave them a callback that does not reach it.
  if (va_display_) {
    if (VADisplay dpy = va_dpy_of(G_OBJECT(va_display_)))
      vaSetErrorCallback(dpy, log_driver_error, nullptr);
  }
  if (vaapi_context_) {
    if (GObject *display = vaapi_display_of(vaapi_context_)) {
      if (VADisplay dpy = va_dpy_of(display))
        vaSetErrorCallback(dpy, log_driver_error, nullptr);
      g_object_unref(display);
    }
  }
  if (va_context_)
    gst_context_unref(va_context_);
  if (vaapi_context_)
    gst_context_unref(vaapi_context_);
  if (va_display_) {
    gst_object_unref(va_display_);
    GST_INFO("closed shared VA display on %s", node_.c_str());
  }
}

void DisplayHandle::prepare(GstElement *element, EncoderKind kind) {
  std::lock_guard<std::mutex> guard(lock_);
  if (kind == EncoderKind::kVa && !va_tried_)
    open_va_locked();
  if (kind == EncoderKind::kVa && va_context_)
    gst_element_set_context(element, va_context_);
  else if (kind == EncoderKind::kVaapi && vaapi_context_)
    gst_element_set_context(element, vaapi_context_);
}

void DisplayHandle::capture(GstElement *element, EncoderKind kind) {
  if (kind != EncoderKind::kVaapi)
    return;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (vaapi_context_)
      return;
  }
  GstPad *pad = gst_element_get_static_pad(element, "src");
  if (!pad)
    return;
  GstQuery *query = gst_query_new_context(kVaapiDisplayContext);
  if (gst_pad_query(pad, query)) {
    GstContext *context = nullptr;
    gst_query_parse_context(query, &context);
    std::lock_guard<std::mutex> guard(lock_);
    if (context && !vaapi_context_) {
      vaapi_context_ = gst_context_ref(context);
      if (GObject *display = vaapi_display_of(vaapi_context_)) {
        watch_driver_errors_locked(va_dpy_of(display));
        g_object_unref(display);
      }
      GST_INFO("sharing the vaapi display of %s on %s", GST_ELEMENT_NAME(element), node_.c_str());
    }
  }
  gst_query_unref(query);
  gst_object_unref(pad);
}

DisplayRegistry &DisplayRegistry::global() {
  static DisplayRegistry *registry = new DisplayRegistry();  // never destroyed: no exit races
  return *registry;
}

std::shared_ptr<DisplayHandle> DisplayRegistry::lease(const std::string &node) {
  std::lock_guard<std::mutex> guard(lock_);
  auto &weak = handles_[node];
  if (auto live = weak.lock())
    return live;
  auto handle = std::make_shared<DisplayHandle>(node);
  weak = handle;
  return handle;
}

size_t DisplayRegistry::open_displays() {
  std::lock_guard<std::mutex> guard(lock_);
  size_t n = 0;
  for (auto &[node, weak] : handles_)
    n += weak.expired() ? 0 : 1;
  return n;
}

}  // namespace vapoolenc
