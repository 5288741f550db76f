// boundedqueue against core queue, in one process on the same input:
//  1. throughput: 2M small buffers and 100k 64 KiB buffers through each element with the
//     same bounds (median of several runs, and the ratio);
//  2. memory: a consumer stalled for 5 s behind boundedqueue; peak bytes held against
//     max-size-bytes.
// The producer and consumer are bare pads linked straight to the element, so what is timed
// is the element itself. Usage: boundedqueue-bench [runs] [stall-seconds] [sections]
// where sections is a comma-separated subset of small,pingpong,large,stall (default: all).
#include <gst/gst.h>

#include <steady-ptr.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>
#include "steady-stats.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Consumer {
  std::mutex mu;
  std::condition_variable cv;
  guint64 received = 0;
  guint64 expected = 0;
  bool stalled = false;  // the chain function blocks while set
};

GstFlowReturn consumer_chain(GstPad *pad, GstObject *, GstBuffer *buf) {
  auto *c = static_cast<Consumer *>(gst_pad_get_element_private(pad));
  gst_buffer_unref(buf);
  std::unique_lock<std::mutex> lk(c->mu);
  c->cv.wait(lk, [c] { return !c->stalled; });
  if (++c->received == c->expected)
    c->cv.notify_all();
  return GST_FLOW_OK;
}

// An element with a bare source pad feeding it and a bare sink pad after it.
class Harness {
 public:
  Harness(const char *factory, const std::string &props, Consumer *consumer) {
    std::string desc = std::string(factory) + " name=q " + props;
    GError *err = nullptr;
    element_ = steady::ObjectRef<GstElement>::adopt(
        GST_ELEMENT(gst_object_ref_sink(gst_parse_launch(desc.c_str(), &err))));
    if (!element_) {
      std::fprintf(stderr, "cannot create '%s': %s\n", desc.c_str(), err ? err->message : "?");
      std::exit(1);
    }
    g_clear_error(&err);
    src_ = steady::ObjectRef<GstPad>::adopt(
        GST_PAD(gst_object_ref_sink(gst_pad_new("bench-src", GST_PAD_SRC))));
    sink_ = steady::ObjectRef<GstPad>::adopt(
        GST_PAD(gst_object_ref_sink(gst_pad_new("bench-sink", GST_PAD_SINK))));
    gst_pad_set_element_private(sink_.get(), consumer);
    gst_pad_set_chain_function(sink_.get(), consumer_chain);
    auto qsink =
        steady::ObjectRef<GstPad>::adopt(gst_element_get_static_pad(element_.get(), "sink"));
    auto qsrc = steady::ObjectRef<GstPad>::adopt(gst_element_get_static_pad(element_.get(), "src"));
    gst_pad_link(src_.get(), qsink.get());
    gst_pad_link(qsrc.get(), sink_.get());
    gst_pad_set_active(sink_.get(), TRUE);
    gst_element_set_state(element_.get(), GST_STATE_PLAYING);
    gst_pad_set_active(src_.get(), TRUE);
    gst_pad_push_event(src_.get(), gst_event_new_stream_start("bench"));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_pad_push_event(src_.get(), gst_event_new_segment(&seg));
  }
  ~Harness() {
    gst_pad_set_active(src_.get(), FALSE);
    gst_element_set_state(element_.get(), GST_STATE_NULL);
    gst_pad_set_active(sink_.get(), FALSE);
  }
  GstPad *src() const { return src_.get(); }
  GstElement *element() const { return element_.get(); }

 private:
  steady::ObjectRef<GstElement> element_;
  steady::ObjectRef<GstPad> src_;
  steady::ObjectRef<GstPad> sink_;
};

std::vector<GstBuffer *> make_buffers(std::size_t count, gsize size) {
  std::vector<GstBuffer *> bufs;
  for (std::size_t i = 0; i < count; ++i) {
    GstBuffer *b = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_memset(b, 0, static_cast<guint8>(i), size);
    bufs.push_back(b);
  }
  return bufs;
}

// Seconds to move n buffers from the first push to the last arrival.
double run_once(const char *factory, const std::string &props, guint64 n,
                const std::vector<GstBuffer *> &bufs) {
  Consumer consumer;
  consumer.expected = n;
  Harness h(factory, props, &consumer);
  auto t0 = Clock::now();
  for (guint64 i = 0; i < n; ++i) {
    GstFlowReturn ret = gst_pad_push(h.src(), gst_buffer_ref(bufs[i % bufs.size()]));
    if (ret != GST_FLOW_OK) {
      std::fprintf(stderr, "%s: push returned %s\n", factory, gst_flow_get_name(ret));
      std::exit(1);
    }
  }
  {
    std::unique_lock<std::mutex> lk(consumer.mu);
    consumer.cv.wait(lk, [&] { return consumer.received == n; });
  }
  auto t1 = Clock::now();
  return std::chrono::duration<double>(t1 - t0).count();
}

void throughput(const char *label, guint64 n, gsize size, const std::string &queue_props,
                const std::string &bq_props, int runs) {
  std::vector<GstBuffer *> bufs = make_buffers(size > 4096 ? 64 : 256, size);
  std::vector<double> tq, tb;
  for (int r = 0; r < runs; ++r) {  // interleaved, so drift hits both alike
    tq.push_back(run_once("queue", queue_props, n, bufs));
    tb.push_back(run_once("boundedqueue", bq_props, n, bufs));
  }
  for (GstBuffer *b : bufs)
    gst_buffer_unref(b);
  const double mq = steady::median(tq), mb = steady::median(tb);
  std::printf("%s\n", label);
  std::printf("  queue        %s\n", queue_props.c_str());
  std::printf("  boundedqueue %s\n", bq_props.c_str());
  std::printf("  queue        median %.3f s  (%.2f Mbuf/s)\n", mq, n / mq / 1e6);
  std::printf("  boundedqueue median %.3f s  (%.2f Mbuf/s)\n", mb, n / mb / 1e6);
  std::printf("  throughput ratio boundedqueue/queue = %.2fx  (runs: %d)\n\n", mq / mb, runs);
  std::fflush(stdout);
}

void stalled(double seconds) {
  const guint bound = 1024 * 1024;
  const std::string props = "max-size-buffers=0 max-size-bytes=" + std::to_string(bound) +
                            " max-size-time=0 leaky=downstream";
  // Sizes 1..64 KiB in a fixed pseudo-random order.
  std::vector<GstBuffer *> bufs;
  gsize largest = 0;
  guint32 x = 12345;
  for (int i = 0; i < 257; ++i) {
    x = x * 1103515245u + 12345u;
    gsize size = 1 + (x >> 8) % (64 * 1024);
    largest = std::max(largest, size);
    bufs.push_back(gst_buffer_new_allocate(nullptr, size, nullptr));
  }
  Consumer consumer;
  consumer.stalled = true;
  consumer.expected = G_MAXUINT64;
  guint64 pushed = 0;
  guint64 peak_bytes = 0, in = 0, out = 0, dropped = 0, level = 0;
  {
    Harness h("boundedqueue", props, &consumer);
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      for (int k = 0; k < 1000; ++k)
        gst_pad_push(h.src(), gst_buffer_ref(bufs[pushed++ % bufs.size()]));
    }
    g_object_get(h.element(), "peak-level-bytes", &peak_bytes, nullptr);
    GstStructure *s = nullptr;
    g_object_get(h.element(), "stats", &s, nullptr);
    gst_structure_get_uint64(s, "buffers-in", &in);
    gst_structure_get_uint64(s, "buffers-out", &out);
    gst_structure_get_uint64(s, "buffers-dropped", &dropped);
    gst_structure_get_uint64(s, "current-level-buffers", &level);
    gst_structure_free(s);
    {
      std::lock_guard<std::mutex> lk(consumer.mu);
      consumer.stalled = false;
    }
    consumer.cv.notify_all();
  }
  for (GstBuffer *b : bufs)
    gst_buffer_unref(b);
  std::printf("stalled consumer (%.0f s), boundedqueue %s, buffers of 1..65536 bytes\n", seconds,
              props.c_str());
  std::printf(
      "  pushed %" G_GUINT64_FORMAT " buffers: in %" G_GUINT64_FORMAT " = out %" G_GUINT64_FORMAT
      " + dropped %" G_GUINT64_FORMAT " + held %" G_GUINT64_FORMAT " -> %s\n",
      pushed, in, out, dropped, level, in == out + dropped + level ? "adds up" : "MISMATCH");
  std::printf("  peak held %" G_GUINT64_FORMAT
              " bytes; max-size-bytes %u; bound + largest "
              "buffer %" G_GSIZE_FORMAT " -> %s\n",
              peak_bytes, bound, bound + largest,
              peak_bytes <= bound + largest ? "within bound + one buffer" : "OVER");
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const double stall_s = argc > 2 ? std::atof(argv[2]) : 5.0;
  const std::string sections = argc > 3 ? argv[3] : "small,pingpong,large,stall";
  auto want = [&](const char *name) { return sections.find(name) != std::string::npos; };
  {
    auto f = steady::ObjectRef<GstElementFactory>::adopt(gst_element_factory_find("boundedqueue"));
    if (!f) {
      std::fprintf(stderr, "boundedqueue not found: set GST_PLUGIN_PATH to the build dir\n");
      return 1;
    }
  }
  if (want("small"))
    throughput("2M buffers of 64 bytes, max-size-buffers=200, leaky=no", 2000000, 64,
               "max-size-buffers=200 max-size-bytes=0 max-size-time=0 leaky=no",
               "max-size-buffers=200 max-size-bytes=0 max-size-time=0 leaky=no", runs);
  // The worst case for any queue: a bound of 2 makes both threads sleep and wake per buffer.
  if (want("pingpong"))
    throughput("500k buffers of 64 bytes, max-size-buffers=2, leaky=no (ping-pong)", 500000, 64,
               "max-size-buffers=2 max-size-bytes=0 max-size-time=0 leaky=no",
               "max-size-buffers=2 max-size-bytes=0 max-size-time=0 leaky=no", runs);
  if (want("large"))
    throughput("100k buffers of 64 KiB, max-size-bytes=4 MiB, leaky=no", 100000, 64 * 1024,
               "max-size-buffers=0 max-size-bytes=4194304 max-size-time=0 leaky=no",
               "max-size-buffers=0 max-size-bytes=4194304 max-size-time=0 leaky=no", runs);
  if (want("stall"))
    stalled(stall_s);
  gst_deinit();
  return 0;
}
