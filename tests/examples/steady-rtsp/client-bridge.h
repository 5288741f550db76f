// Carries one /live client's branch out of the shared source pipeline into that client's own
// RTSP media pipeline.
//
// The branch ends in an appsink; each sample it receives is handed to the appsrc at the head of
// the client's media (`appsrc ! rtph264pay`), which rtsp-server owns and tears down. The appsrc
// blocks when it holds two buffers, so back-pressure from a slow or stalled client reaches its
// own branch (and only that branch) in the source pipeline, where the elements deal with it.
// Buffers cross by reference: only their metadata is copied. Their timestamps are turned into
// the source's running time here (encoders offset PTS/DTS and their segment by 1000 hours), and
// into the client pipeline's running time as they leave its appsrc.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <steady-ptr.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace steady_rtsp {

class ClientBridge {
 public:
  // source_base_time: base time of the source pipeline; both pipelines run on the system clock.
  ClientBridge(GstElement *appsrc, GstClockTime source_base_time);
  ClientBridge(const ClientBridge &) = delete;
  ClientBridge &operator=(const ClientBridge &) = delete;

  // Wires appsink -> appsrc. The appsink's callbacks keep the bridge alive until the appsink
  // is finalized or its callbacks are replaced.
  static void connect(const std::shared_ptr<ClientBridge> &bridge, GstAppSink *appsink);

  std::uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer user_data);
  static GstPadProbeReturn rebase_timestamps(GstPad *pad, GstPadProbeInfo *info,
                                             gpointer user_data);

  steady::ObjectRef<GstElement> appsrc_;
  steady::MiniRef<GstCaps> caps_;  // what the appsrc was last told; streaming thread only
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace steady_rtsp
