#include "vapoolenc-probe.h"

#include "vapoolenc-display.h"
#include "vapoolenc-settings.h"

#include <steady-ptr.h>

#include <chrono>
#include <condition_variable>

namespace vapoolenc {

GST_DEBUG_CATEGORY_STATIC(probe_debug);
#define GST_CAT_DEFAULT probe_debug

static void ensure_debug() {
  static std::once_flag once;
  std::call_once(once, [] {
    GST_DEBUG_CATEGORY_INIT(probe_debug, "vapoolenc-probe", 0, "vapoolenc probing");
  });
}

namespace {

struct FirstBuffer {
  bool seen = false;
  bool keyframe = false;
};

GstPadProbeReturn on_encoded(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *first = static_cast<FirstBuffer *>(data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!first->seen && buf && carries_picture(buf)) {
    first->seen = true;
    first->keyframe = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

EncodeTestResult run_encode_test(const std::string &factory, const std::string &node,
                                 EncoderKind kind) {
  ensure_debug();
  EncodeTestResult result;
  auto pipeline = steady::ObjectRef<GstElement>::adopt(
      GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(nullptr))));
  GstElement *src = gst_element_factory_make("videotestsrc", nullptr);
  GstElement *conv = gst_element_factory_make("videoconvert", nullptr);
  GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
  GstElement *enc = gst_element_factory_make(factory.c_str(), nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  if (!src || !conv || !filter || !enc || !sink) {
    for (GstElement *e : {src, conv, filter, enc, sink})
      if (e)
        gst_object_unref(gst_object_ref_sink(e));
    result.error = enc ? "videotestsrc/videoconvert missing" : "cannot create " + factory;
    return result;
  }
  g_object_set(src, "num-buffers", 1, nullptr);
  g_object_set(sink, "sync", FALSE, nullptr);
  auto caps = steady::MiniRef<GstCaps>::adopt(gst_caps_from_string(
      "video/x-raw,width=320,height=240,framerate=30/1,pixel-aspect-ratio=1/1"));
  g_object_set(filter, "caps", caps.get(), nullptr);
  Settings defaults;
  apply_settings(enc, factory, defaults);
  gst_bin_add_many(GST_BIN(pipeline.get()), src, conv, filter, enc, sink, nullptr);
  if (!gst_element_link_many(src, conv, filter, enc, sink, nullptr)) {
    result.error = factory + " does not link between raw video and a sink";
    return result;
  }
  std::shared_ptr<DisplayHandle> display;
  if (!node.empty() && (kind == EncoderKind::kVa || kind == EncoderKind::kVaapi)) {
    display = DisplayRegistry::global().lease(node);
    display->prepare(enc, kind);
  }
  FirstBuffer first;
  {
    auto pad = steady::ObjectRef<GstPad>::adopt(gst_element_get_static_pad(enc, "src"));
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_encoded, &first, nullptr);
  }
  auto bus = steady::ObjectRef<GstBus>::adopt(gst_element_get_bus(pipeline.get()));
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    result.error = factory + " failed to start";
  } else {
    auto msg = steady::MiniRef<GstMessage>::adopt(gst_bus_timed_pop_filtered(
        bus.get(), 10 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    if (!msg) {
      result.error = factory + " did not finish a one-frame test encode within 10 s";
    } else if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      GError *err = nullptr;
      gst_message_parse_error(msg.get(), &err, nullptr);
      result.error = factory + " failed the test encode: " + (err ? err->message : "error");
      g_clear_error(&err);
    } else if (!first.seen) {
      result.error = factory + " produced no output for the test frame";
    } else if (!first.keyframe) {
      result.error = factory + " did not start with a keyframe";
    } else {
      result.ok = true;
    }
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  // GstBin's state-change thread pool may still hold the pipeline for a moment: wait until it
  // is really finalized, so the probe has released everything (bus descriptors included) when
  // it returns.
  struct Gone {
    std::mutex lock;
    std::condition_variable cv;
    bool gone = false;
  };
  auto gone = std::make_shared<Gone>();
  g_object_weak_ref(
      G_OBJECT(pipeline.get()),
      [](gpointer data, GObject *) {
        auto *g = static_cast<std::shared_ptr<Gone> *>(data);
        {
          std::lock_guard<std::mutex> guard((*g)->lock);
          (*g)->gone = true;
          (*g)->cv.notify_all();
        }
        delete g;
      },
      new std::shared_ptr<Gone>(gone));
  bus.reset();
  pipeline.reset();
  {
    std::unique_lock<std::mutex> lk(gone->lock);
    if (!gone->cv.wait_for(lk, std::chrono::seconds(5), [&] { return gone->gone; }))
      GST_WARNING("probe pipeline for %s still referenced 5 s after NULL", factory.c_str());
  }
  GST_INFO("encode test of %s%s%s: %s", factory.c_str(), node.empty() ? "" : " on ", node.c_str(),
           result.ok ? "ok" : result.error.c_str());
  return result;
}

ProbeCache::ProbeCache(std::unique_ptr<VaBackend> backend, EncodeTestFn encode_test)
    : backend_(std::move(backend)),
      encode_test_fn_(encode_test ? std::move(encode_test) : EncodeTestFn(run_encode_test)) {
  ensure_debug();
}

ProbeCache &ProbeCache::global() {
  static ProbeCache *cache = new ProbeCache(std::make_unique<SystemVaBackend>());
  return *cache;
}

std::vector<std::string> ProbeCache::render_nodes() {
  return nodes_.get(0, [this] {
    std::vector<std::string> nodes = backend_->render_nodes();
    {
      std::lock_guard<std::mutex> guard(counts_lock_);
      counts_.enumerations++;
    }
    GST_INFO("%zu render node(s) found", nodes.size());
    return nodes;
  });
}

NodeInfo ProbeCache::node(const std::string &path) {
  return node_info_.get(path, [&] {
    NodeInfo info = backend_->query_node(path);
    {
      std::lock_guard<std::mutex> guard(counts_lock_);
      counts_.node_queries++;
    }
    GST_INFO("render node %s: %s%s", path.c_str(), info.opened ? "driver " : info.error.c_str(),
             info.driver.c_str());
    return info;
  });
}

EncodeTestResult ProbeCache::encode_test(const std::string &factory, const std::string &node,
                                         EncoderKind kind) {
  return encode_.get(std::make_pair(factory, node), [&] {
    EncodeTestResult r = encode_test_fn_(factory, node, kind);
    std::lock_guard<std::mutex> guard(counts_lock_);
    counts_.encode_tests++;
    return r;
  });
}

std::string ProbeCache::va_device_path(const std::string &factory) {
  return device_paths_.get(factory, [&] {
    std::string path;
    if (GstElement *e = gst_element_factory_make(factory.c_str(), nullptr)) {
      gst_object_ref_sink(e);
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), "device-path")) {
        gchar *p = nullptr;
        g_object_get(e, "device-path", &p, nullptr);
        if (p)
          path = p;
        g_free(p);
      }
      gst_object_unref(e);
    }
    std::lock_guard<std::mutex> guard(counts_lock_);
    counts_.device_paths++;
    return path;
  });
}

ProbeCache::Counts ProbeCache::counts() {
  std::lock_guard<std::mutex> guard(counts_lock_);
  return counts_;
}

}  // namespace vapoolenc
