#include "session-description.h"

#include <gst/sdp/sdp.h>

#include "signalling.h"

namespace steady_webrtc {

GstWebRTCSessionDescription *take_promised_description(GstPromise *promise, const char *field) {
  GstWebRTCSessionDescription *description = nullptr;
  if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED) {
    const GstStructure *reply = gst_promise_get_reply(promise);
    if (reply)
      gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &description, nullptr);
  }
  gst_promise_unref(promise);
  return description;
}

JsonBuilder *description_message(const char *type, const GstWebRTCSessionDescription *description) {
  g_autofree gchar *text = gst_sdp_message_as_text(description->sdp);
  JsonBuilder *message = json_message(type);
  json_builder_set_member_name(message, "sdp");
  json_builder_add_string_value(message, text);
  return message;
}

}  // namespace steady_webrtc
