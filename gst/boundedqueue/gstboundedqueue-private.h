// Shared between the boundedqueue glue files (element and properties); not installed.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <mutex>

#include "boundedqueue-core.h"
#include "gstboundedqueue-timer.h"
#include "gstboundedqueue.h"

namespace boundedqueue {

// Property defaults and limits.
inline constexpr guint kDefaultMaxBuffers = 2;
inline constexpr guint kDefaultMaxBytes = 0;
inline constexpr guint64 kDefaultMaxTime = 0;
inline constexpr Leaky kDefaultLeaky = Leaky::kDownstream;
inline constexpr guint kMaxStallTimeoutMs = 24 * 3600 * 1000;

}  // namespace boundedqueue

// Everything C++ the element owns, constructed in init and destroyed in finalize.
struct GstBoundedQueuePrivate {
  boundedqueue::Core core;
  boundedqueue::ClockTimer stall_timer;
  std::mutex settings_mu;  // serializes read-modify-write of the bounds
  std::atomic<bool> silent{true};
};

struct _GstBoundedQueue {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstBoundedQueuePrivate *priv;
};

// Defined in gstboundedqueue.cc: acts on what a sink-side or settings call asked for
// (keyframe request upstream, stall timer).
void gst_bounded_queue_handle_sink_result(GstBoundedQueue *self, const boundedqueue::SinkResult &r);

// Defined in gstboundedqueue-properties.cc.
void gst_bounded_queue_install_properties(GObjectClass *klass);
