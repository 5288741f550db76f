// The /live mount's shared source: one pipeline for the whole process that captures and encodes
// once, and fans the encoded stream out to one branch per connected client.
//
//   steady:   SOURCE ! convert/scale/rate ! vapoolenc ! h264parse ! sharedframetee name=fan
//             fan.src_N ! boundedqueue gop-aware=true ! appsink   (one branch per client)
//   baseline: SOURCE ! convert/scale/rate ! x264enc ! h264parse ! tee name=fan
//             fan.src_N ! queue ! appsink                          (one branch per client)
//
// Each branch's appsink feeds one client's RTSP media through a ClientBridge. A client whose
// branch stalls is reported through `on_evict`; the branch itself is removed by detach(), which
// is safe to call from any thread and more than once.
#pragma once

#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <steady-ptr.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "client-bridge.h"
#include "options.h"

namespace steady_rtsp {

class LiveSource {
 public:
  using EvictFn = std::function<void(GstRTSPMedia *media, const std::string &why)>;
  using FatalFn = std::function<void(const std::string &error)>;

  LiveSource(const Options &options, EvictFn on_evict, FatalFn on_fatal);
  ~LiveSource();
  LiveSource(const LiveSource &) = delete;
  LiveSource &operator=(const LiveSource &) = delete;

  // Builds the pipeline, sets it PLAYING and waits (bounded) until the encoded caps are known.
  bool start(std::string &error);
  // Sets the pipeline to NULL and drops every branch.
  void stop();

  // The caps of the encoded stream (for the clients' appsrc), or null before start().
  GstCaps *caps() const { return caps_.get(); }

  // Adds a branch feeding `appsrc` (the head of `media`'s pipeline). Main thread.
  bool attach(GstRTSPMedia *media, GstElement *appsrc);
  // Removes the branch of `media`, if it still has one. Any thread; idempotent.
  void detach(GstRTSPMedia *media);

  unsigned branches() const;
  std::uint64_t evictions() const { return evictions_.load(); }
  // vapoolenc's process-wide pool-stats of the /live encoder, or null (baseline, or no such
  // property).
  GstStructure *pool_stats() const;
  // Per-branch counters for the status line: one " name=k:v,k:v" token per branch.
  std::string describe() const;

 private:
  struct Branch;
  static gboolean on_bus_message(GstBus *bus, GstMessage *message, gpointer user_data);
  void handle_element_message(GstMessage *message);
  steady::ObjectRef<GstElement> make_branch_queue() const;
  GstRTSPMedia *media_of_pad_locked(GstPad *pad) const;
  GstRTSPMedia *media_of_queue_locked(GstObject *queue) const;
  void remove_branch(std::unique_ptr<Branch> branch);
  void remove_baseline_branch(std::unique_ptr<Branch> branch);

  const Options &options_;
  EvictFn on_evict_;
  FatalFn on_fatal_;
  steady::ObjectRef<GstElement> pipeline_;
  steady::ObjectRef<GstElement> fan_;
  steady::ObjectRef<GstElement> encoder_;
  steady::MiniRef<GstCaps> caps_;
  guint bus_watch_ = 0;

  mutable std::mutex lock_;
  std::map<GstRTSPMedia *, std::unique_ptr<Branch>> branches_;  // keyed by the client's media
  unsigned next_branch_id_ = 0;
  std::atomic<std::uint64_t> evictions_{0};
  std::atomic<int> pending_removals_{0};  // baseline branches waiting for their tee pad to idle
};

}  // namespace steady_rtsp
