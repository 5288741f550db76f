// Carries one /live client's branch out of the shared source pipeline into that client's own
// RTSP media pipeline.
//
// The branch ends in an appsink; each sample it receives is handed to the appsrc at the head of
// the client's media (`appsrc ! rtph264pay`), which rtsp-server owns and tears down. While that
// appsrc holds its maximum (two buffers) the bridge waits, so back-pressure from a slow or
// stalled client reaches its own branch (and only that branch) in the source pipeline, where
// the elements deal with it. The wait ends at once when the branch is flushed (sharedframetee
// evicting it) or shut down: a plain blocking push into the appsrc would hold the appsink's
// preroll lock and deadlock that flush.
//
// Buffers cross by reference: only their metadata is copied. Their timestamps are turned into
// the source's running time here (encoders offset PTS/DTS and their segment by 1000 hours), and
// into the client pipeline's running time as they leave its appsrc.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <steady-ptr.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace steady_rtsp {

class ClientBridge : public std::enable_shared_from_this<ClientBridge> {
 public:
  // source_base_time: base time of the source pipeline; both pipelines run on the system clock.
  ClientBridge(GstElement *appsrc, GstClockTime source_base_time);
  ~ClientBridge();
  ClientBridge(const ClientBridge &) = delete;
  ClientBridge &operator=(const ClientBridge &) = delete;

  // Wires appsink -> appsrc. The appsink's callbacks keep the bridge alive until the appsink
  // is finalized; the appsrc's callbacks and the flush probe only hold weak references.
  void connect(GstAppSink *appsink);
  // Ends any wait for good; later samples are dropped. Call before shutting the branch down.
  void shutdown();

  std::uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }

 private:
  static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer user_data);
  static GstPadProbeReturn on_flush(GstPad *pad, GstPadProbeInfo *info, gpointer user_data);
  static GstPadProbeReturn rebase_timestamps(GstPad *pad, GstPadProbeInfo *info,
                                             gpointer user_data);
  // Waits until the appsrc has room; false when flushing or shut down instead.
  bool wait_for_room(GstAppSrc *appsrc);
  void wake();

  // Weak: the client's pipeline owns its appsrc, and must be free to go before the branch
  // feeding it is taken down (which leakwatch would rightly report as an object outliving
  // its pipeline).
  GWeakRef appsrc_;
  guint max_buffers_ = 2;
  steady::MiniRef<GstCaps> caps_;  // what the appsrc was last told; streaming thread only

  std::mutex lock_;
  std::condition_variable room_;
  bool flushing_ = false;
  bool shut_down_ = false;
  std::atomic<std::uint64_t> delivered_{0};
};

}  // namespace steady_rtsp
