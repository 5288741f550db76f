// Test fixture for sharedframetee: an upstream test pad pushing a synthetic keyframe/delta
// stream, and bare sink pads as branches that record what they receive and can block.
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sftest {

constexpr auto kWait = std::chrono::seconds(20);

// One branch's downstream: a sink pad that logs what it gets. With `block` set, its chain
// function waits until `block` is cleared or, when `honour_flush`, until a flush-start.
struct Sink {
  GstPad *pad = nullptr;
  GstPad *tee_pad = nullptr;  // the sharedframetee src pad linked to it (owned ref)
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> log;
  std::vector<guint64> offsets;
  bool block = false;
  bool honour_flush = true;
  GstFlowReturn result = GST_FLOW_OK;  // what the chain function returns when not flushing
  bool flushing = false;
  bool blocked = false;
  int flush_starts = 0;
  int flush_stops = 0;
  int eos = 0;
  std::function<void(Sink &)> on_buffer;  // called on the streaming thread, unlocked

  Sink();
  ~Sink();

  // Waits (bounded) until pred() holds under the lock.
  bool wait(const std::function<bool()> &pred);
  void set_block(bool b);
  std::vector<guint64> received();
  std::size_t count();
};

// Counters of a sharedframetee src pad, read atomically through its "stats" property.
struct Stats {
  guint64 offered = 0, out = 0, dropped = 0, lag = 0, resyncs = 0, events_skipped = 0;
  bool evicted = false;
};
Stats stats_of(GstPad *tee_pad);
// Fails the test unless the pad's counters balance: offered == out + dropped + lag.
void assert_accounting(GstPad *tee_pad);
// The offsets from..to-1, for comparing with what a Sink received.
std::vector<guint64> range(guint64 from, guint64 to);

struct Tee {
  GstElement *element = nullptr;
  GstPad *src = nullptr;  // upstream test pad linked to the tee's sink pad
  GstBus *bus = nullptr;
  std::vector<std::unique_ptr<Sink>> sinks;
  std::mutex m;
  std::condition_variable cv;
  int force_key_units = 0;  // upstream force-key-unit events seen by `src`
  int markers = 0;

  Tee();
  ~Tee();
  Sink *add_branch();
  void release(Sink *sink);                  // releases the tee pad and forgets the sink
  void play();                               // PLAYING + stream-start, caps, segment
  void push(guint64 offset, bool keyframe);  // asserts GST_FLOW_OK
  GstFlowReturn try_push(guint64 offset, bool keyframe);
  void push_caps(const char *caps);
  int key_units();
  bool wait_key_units(int n);
  // Pushes a custom serialized event and waits until every given sink received it: the
  // branch then has finished every push before it, so its counters are final.
  void sync(const std::vector<Sink *> &sinks);
};

// A buffer of 64 bytes with OFFSET = offset, PTS = offset * 40 ms, DELTA_UNIT unless keyframe.
GstBuffer *make_buffer(guint64 offset, bool keyframe);

}  // namespace sftest
