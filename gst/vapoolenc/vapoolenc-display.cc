#include "vapoolenc-display.h"

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
    GST_DEBUG_CATEGORY_INIT(display_debug, "vapoolenc-display", 0,
                            "vapoolenc shared VA displays");
  });
}

static const char *kVaapiDisplayContext = "gst.vaapi.Display";

DisplayHandle::DisplayHandle(std::string node) : node_(std::move(node)) {
  ensure_debug();
#ifdef VAPOOLENC_HAVE_GST_VA
  if (GstVaDisplay *display = gst_va_display_drm_new_from_path(node_.c_str())) {
    va_display_ = GST_OBJECT(display);
    va_context_ = gst_context_new(GST_VA_DISPLAY_HANDLE_CONTEXT_TYPE_STR, TRUE);
    gst_context_set_va_display(va_context_, display);
    GST_INFO("opened shared VA display on %s", node_.c_str());
  } else {
    GST_INFO("no VA display on %s: va encoders there open their own", node_.c_str());
  }
#endif
}

DisplayHandle::~DisplayHandle() {
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
