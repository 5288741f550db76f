#include "live-source.h"

#include <gst/app/gstappsink.h>

#include <chrono>
#include <sstream>
#include <utility>

#include "common/launch-pipeline.h"
#include "pipelines.h"

GST_DEBUG_CATEGORY_EXTERN(steady_rtsp_debug);
#define GST_CAT_DEFAULT steady_rtsp_debug

namespace steady_rtsp {

using steady::MiniRef;
using steady::ObjectRef;

struct LiveSource::Branch {
  GstRTSPMedia *media = nullptr;  // identity only: never dereferenced
  ObjectRef<GstPad> fan_pad;
  ObjectRef<GstElement> queue;
  ObjectRef<GstElement> sink;
  std::shared_ptr<ClientBridge> bridge;
};

namespace {

// Reads any property as text for the status line ("?" when the object has no such property).
std::string property_text(gpointer object, const char *name) {
  GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), name);
  if (!spec)
    return "?";
  GValue value = G_VALUE_INIT;
  g_value_init(&value, spec->value_type);
  g_object_get_property(G_OBJECT(object), name, &value);
  gchar *text = g_strdup_value_contents(&value);
  std::string result(text);
  g_free(text);
  g_value_unset(&value);
  return result;
}

void drop_element(GstElement *bin, GstElement *element) {
  gst_element_set_locked_state(element, TRUE);
  gst_element_set_state(element, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(bin), element);
}

}  // namespace

LiveSource::LiveSource(const Options &options, EvictFn on_evict, FatalFn on_fatal)
    : options_(options), on_evict_(std::move(on_evict)), on_fatal_(std::move(on_fatal)) {}

LiveSource::~LiveSource() {
  stop();
}

bool LiveSource::start(std::string &error) {
  const std::string description = live_source_description(options_);
  GST_INFO("live source: %s", description.c_str());
  pipeline_ = steady_examples::launch_pipeline(description, "/live source", "live-source", error);
  if (!pipeline_)
    return false;
  GstElement *parsed = pipeline_.get();
  // Client media pipelines use the system clock too (see Server), so a buffer's clock time
  // means the same thing on both sides of a ClientBridge.
  GstClock *clock = gst_system_clock_obtain();
  gst_pipeline_use_clock(GST_PIPELINE(parsed), clock);
  gst_object_unref(clock);

  fan_ = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "fan"));
  encoder_ = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed), "enc"));

  if (gst_element_set_state(parsed, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the /live source pipeline failed to start";
  }
  // Wait, bounded, for the first encoded caps: clients' SDP needs them. Errors end the wait.
  auto bus = ObjectRef<GstBus>::adopt(gst_element_get_bus(parsed));
  auto fan_sink = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(fan_.get(), "sink"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (error.empty()) {
    if (GstCaps *current = gst_pad_get_current_caps(fan_sink.get())) {
      caps_ = MiniRef<GstCaps>::adopt(current);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      error = "the /live source produced no encoded stream within 20 s: check --source";
      break;
    }
    auto message = MiniRef<GstMessage>::adopt(
        gst_bus_timed_pop_filtered(bus.get(), 100 * GST_MSECOND, GST_MESSAGE_ERROR));
    if (message) {
      GError *gerror = nullptr;
      gst_message_parse_error(message.get(), &gerror, nullptr);
      error = std::string("/live source: ") + gerror->message;
      g_error_free(gerror);
    }
  }
  if (!error.empty()) {
    gst_element_set_state(parsed, GST_STATE_NULL);
    fan_.reset();
    encoder_.reset();
    pipeline_.reset();
    return false;
  }
  bus_watch_ = gst_bus_add_watch(bus.get(), on_bus_message, this);
  return true;
}

void LiveSource::stop() {
  if (!pipeline_)
    return;
  if (bus_watch_) {
    g_source_remove(bus_watch_);
    bus_watch_ = 0;
  }
  std::map<GstRTSPMedia *, std::unique_ptr<Branch>> branches;
  {
    std::lock_guard<std::mutex> guard(lock_);
    branches.swap(branches_);
  }
  for (auto &entry : branches)
    entry.second->bridge->shutdown();  // no appsink may stay blocked on a client
  // Baseline branch removals finish on the main loop (bounded: a blocked tee never idles).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (pending_removals_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(10 * 1000);
  }
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  for (auto &entry : branches) {
    Branch &branch = *entry.second;
    gst_element_release_request_pad(fan_.get(), branch.fan_pad.get());
    gst_bin_remove(GST_BIN(pipeline_.get()), branch.queue.get());
    gst_bin_remove(GST_BIN(pipeline_.get()), branch.sink.get());
  }
  branches.clear();
  caps_.reset();
  fan_.reset();
  encoder_.reset();
  pipeline_.reset();
}

// The queue heading a new branch: a boundedqueue configured from the options, or for the
// baseline the --baseline-queue fragment (a plain `queue` by default).
ObjectRef<GstElement> LiveSource::make_branch_queue() const {
  if (options_.baseline) {
    GError *parse_error = nullptr;
    GstElement *queue = gst_parse_launch_full(options_.baseline_queue.c_str(), nullptr,
                                              GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
    if (!queue) {
      g_printerr("steady-rtsp: --baseline-queue: %s\n", parse_error->message);
      g_error_free(parse_error);
      return {};
    }
    return ObjectRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(queue)));
  }
  auto queue = ObjectRef<GstElement>::adopt(
      GST_ELEMENT(gst_object_ref_sink(gst_element_factory_make("boundedqueue", nullptr))));
  gst_util_set_object_arg(G_OBJECT(queue.get()), "leaky", options_.client_queue_leaky.c_str());
  g_object_set(queue.get(), "gop-aware", TRUE, "max-size-buffers", 0u, "max-size-bytes", 0u,
               "max-size-time", static_cast<guint64>(options_.client_queue_ms) * GST_MSECOND,
               nullptr);
  // A leaky queue always accepts, so the ring never sees this client stall: the queue reports
  // the stall itself instead.
  if (options_.client_queue_leaky != "no")
    g_object_set(queue.get(), "stall-timeout", static_cast<guint>(options_.stall_timeout_ms),
                 nullptr);
  return queue;
}

bool LiveSource::attach(GstRTSPMedia *media, GstElement *appsrc) {
  if (!pipeline_)
    return false;
  auto branch = std::make_unique<Branch>();
  branch->media = media;
  branch->queue = make_branch_queue();
  if (!branch->queue)
    return false;
  std::string suffix;
  {
    std::lock_guard<std::mutex> guard(lock_);
    suffix = std::to_string(next_branch_id_++);
  }
  gst_object_set_name(GST_OBJECT(branch->queue.get()), ("client-queue-" + suffix).c_str());
  branch->sink = ObjectRef<GstElement>::adopt(GST_ELEMENT(
      gst_object_ref_sink(gst_element_factory_make("appsink", ("client-out-" + suffix).c_str()))));
  g_object_set(branch->sink.get(), "sync", FALSE, "async", FALSE, "max-buffers", 1u, "drop", FALSE,
               "enable-last-sample", FALSE, nullptr);

  GstBin *bin = GST_BIN(pipeline_.get());
  // Not floating any more (sunk above), so the bin takes a reference of its own.
  gst_bin_add_many(bin, branch->queue.get(), branch->sink.get(), nullptr);
  branch->bridge =
      std::make_shared<ClientBridge>(appsrc, gst_element_get_base_time(pipeline_.get()));
  branch->bridge->connect(GST_APP_SINK(branch->sink.get()));
  // Running before linking, so the fan's first push finds the branch ready.
  const bool linked = gst_element_link(branch->queue.get(), branch->sink.get());
  gst_element_sync_state_with_parent(branch->sink.get());
  gst_element_sync_state_with_parent(branch->queue.get());
  branch->fan_pad = ObjectRef<GstPad>::adopt(gst_element_request_pad_simple(fan_.get(), "src_%u"));
  auto queue_sink =
      ObjectRef<GstPad>::adopt(gst_element_get_static_pad(branch->queue.get(), "sink"));
  if (!linked || !branch->fan_pad ||
      gst_pad_link(branch->fan_pad.get(), queue_sink.get()) != GST_PAD_LINK_OK) {
    g_printerr("steady-rtsp: cannot add a branch to the /live fan-out\n");
    branch->bridge->shutdown();
    if (branch->fan_pad)
      gst_element_release_request_pad(fan_.get(), branch->fan_pad.get());
    drop_element(pipeline_.get(), branch->queue.get());
    drop_element(pipeline_.get(), branch->sink.get());
    return false;
  }
  GST_INFO("live branch %s attached for media %p", suffix.c_str(), media);
  std::unique_ptr<Branch> replaced;
  {
    std::lock_guard<std::mutex> guard(lock_);
    replaced = std::exchange(branches_[media], std::move(branch));
  }
  if (replaced)
    remove_branch(std::move(replaced));
  return true;
}

void LiveSource::detach(GstRTSPMedia *media) {
  std::unique_ptr<Branch> branch;
  {
    std::lock_guard<std::mutex> guard(lock_);
    auto it = branches_.find(media);
    if (it == branches_.end())
      return;
    branch = std::move(it->second);
    branches_.erase(it);
  }
  GST_INFO("live branch of media %p detached (delivered %" G_GUINT64_FORMAT ")", media,
           branch->bridge->delivered());
  remove_branch(std::move(branch));
}

void LiveSource::remove_branch(std::unique_ptr<Branch> branch) {
  if (options_.baseline) {
    remove_baseline_branch(std::move(branch));
    return;
  }
  // sharedframetee releases a branch from any thread, even one blocked downstream: no probes.
  branch->bridge->shutdown();
  gst_element_release_request_pad(fan_.get(), branch->fan_pad.get());
  drop_element(pipeline_.get(), branch->queue.get());
  drop_element(pipeline_.get(), branch->sink.get());
}

// The usual tee idiom: once the tee pad is idle, unlink and release it from the probe, then shut
// the branch down from the main loop. It never completes while the branch is blocked
// downstream, which is the tee's problem this variant exists to show; nothing waits for it.
void LiveSource::remove_baseline_branch(std::unique_ptr<Branch> branch) {
  struct Removal {
    LiveSource *source;
    std::unique_ptr<Branch> branch;
  };
  branch->bridge->shutdown();  // a branch blocked on its client drains, so the tee can idle
  GstPad *tee_pad = branch->fan_pad.get();
  pending_removals_++;
  auto on_idle = [](GstPad *pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
    auto *removal = static_cast<Removal *>(data);
    if (!removal->branch)
      return GST_PAD_PROBE_REMOVE;  // already handled (an IDLE probe may fire once more)
    LiveSource &self = *removal->source;
    auto queue_sink =
        ObjectRef<GstPad>::adopt(gst_element_get_static_pad(removal->branch->queue.get(), "sink"));
    gst_pad_unlink(pad, queue_sink.get());
    gst_element_release_request_pad(self.fan_.get(), pad);
    // Setting elements to NULL from the tee's own streaming thread is not allowed: main loop.
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
          auto *done = static_cast<Removal *>(data);
          drop_element(done->source->pipeline_.get(), done->branch->queue.get());
          drop_element(done->source->pipeline_.get(), done->branch->sink.get());
          done->source->pending_removals_--;
          return G_SOURCE_REMOVE;
        },
        new Removal{removal->source, std::move(removal->branch)},
        [](gpointer data) { delete static_cast<Removal *>(data); });
    return GST_PAD_PROBE_REMOVE;
  };
  gst_pad_add_probe(tee_pad, GST_PAD_PROBE_TYPE_IDLE, on_idle, new Removal{this, std::move(branch)},
                    [](gpointer data) { delete static_cast<Removal *>(data); });
}

unsigned LiveSource::branches() const {
  std::lock_guard<std::mutex> guard(lock_);
  return static_cast<unsigned>(branches_.size());
}

GstStructure *LiveSource::pool_stats() const {
  if (!encoder_ || !g_object_class_find_property(G_OBJECT_GET_CLASS(encoder_.get()), "pool-stats"))
    return nullptr;
  GstStructure *stats = nullptr;
  g_object_get(encoder_.get(), "pool-stats", &stats, nullptr);
  return stats;
}

std::string LiveSource::describe() const {
  std::ostringstream out;
  std::lock_guard<std::mutex> guard(lock_);
  for (const auto &entry : branches_) {
    const Branch &branch = *entry.second;
    // " client-queue-7=bridged:120" (+ ",fan-out:..,fan-dropped:..,resyncs:..,queue-dropped:..,
    // queue-peak:.." for the steady variant): one token per branch, key=value like the rest.
    out << ' ' << GST_OBJECT_NAME(branch.queue.get()) << "=bridged:" << branch.bridge->delivered();
    if (!options_.baseline) {
      out << ",fan-out:" << property_text(branch.fan_pad.get(), "buffers-out")
          << ",fan-dropped:" << property_text(branch.fan_pad.get(), "buffers-dropped")
          << ",resyncs:" << property_text(branch.fan_pad.get(), "resyncs")
          << ",queue-dropped:" << property_text(branch.queue.get(), "buffers-dropped")
          << ",queue-peak:" << property_text(branch.queue.get(), "peak-level-buffers");
    }
  }
  return out.str();
}

gboolean LiveSource::on_bus_message(GstBus *, GstMessage *message, gpointer user_data) {
  auto &self = *static_cast<LiveSource *>(user_data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError *error = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      const std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                               error->message + (debug ? std::string(" (") + debug + ")" : "");
      g_error_free(error);
      g_free(debug);
      self.on_fatal_("/live source failed: " + text);
      break;
    }
    case GST_MESSAGE_EOS:
      // A live service, not a player: without its source /live has nothing left to serve.
      self.on_fatal_("the /live source ended (EOS)");
      break;
    case GST_MESSAGE_WARNING: {
      GError *warning = nullptr;
      gst_message_parse_warning(message, &warning, nullptr);
      g_printerr("steady-rtsp: /live warning from %s: %s\n",
                 GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), warning->message);
      g_error_free(warning);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      self.handle_element_message(message);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

void LiveSource::handle_element_message(GstMessage *message) {
  const GstStructure *s = gst_message_get_structure(message);
  if (!s)
    return;
  GstRTSPMedia *media = nullptr;
  std::string why;
  if (gst_structure_has_name(s, "sharedframetee-branch-evicted")) {
    const GValue *pad_value = gst_structure_get_value(s, "pad");
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto &entry : branches_) {
      GstPad *pad = entry.second->fan_pad.get();
      const bool same =
          pad_value &&
          ((G_VALUE_HOLDS(pad_value, GST_TYPE_PAD) && g_value_get_object(pad_value) == pad) ||
           (G_VALUE_HOLDS_STRING(pad_value) &&
            g_strcmp0(g_value_get_string(pad_value), GST_PAD_NAME(pad)) == 0));
      if (same)
        media = entry.first;
    }
    why = "sharedframetee evicted its branch";
  } else if (gst_structure_has_name(s, "boundedqueue-stalled")) {
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto &entry : branches_) {
      if (GST_MESSAGE_SRC(message) == GST_OBJECT(entry.second->queue.get()))
        media = entry.first;
    }
    why = "its boundedqueue stalled";
  } else {
    return;
  }
  GstClockTime stalled_for = GST_CLOCK_TIME_NONE;
  gst_structure_get_clock_time(s, "stalled-for", &stalled_for);
  if (!media) {
    GST_INFO("%s for a branch already gone", gst_structure_get_name(s));
    return;
  }
  evictions_++;
  g_print("steady-rtsp: evicting a stalled /live client (%s, stalled for %" GST_TIME_FORMAT ")\n",
          why.c_str(), GST_TIME_ARGS(stalled_for));
  on_evict_(media, why);
  detach(media);
}

}  // namespace steady_rtsp
