// The SDP offers and answers of the example's two ends (the server offers, steady-webrtc-peer
// answers): taken from webrtcbin's promise, and put into a signalling message.
#pragma once

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API  // gstreamer-webrtc-1.0 is unstable API in 1.22
#endif
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>

namespace steady_webrtc {

// The description a create-offer or create-answer promise replied with (its field "offer" or
// "answer"), owned by the caller; null when webrtcbin made none. Takes the promise.
GstWebRTCSessionDescription *take_promised_description(GstPromise *promise, const char *field);

// The signalling message {"type": type, "sdp": "<the description's SDP text>"}, left open like
// json_message()'s.
JsonBuilder *description_message(const char *type, const GstWebRTCSessionDescription *description);

}  // namespace steady_webrtc
