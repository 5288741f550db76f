#include "sharedframetee-fixture.h"

#include <algorithm>

namespace sftest {

static GstFlowReturn sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  Sink *s = static_cast<Sink *>(gst_pad_get_element_private(pad));
  const guint64 offset = GST_BUFFER_OFFSET(buffer);
  gst_buffer_unref(buffer);
  std::function<void(Sink &)> hook;
  {
    std::lock_guard<std::mutex> lk(s->m);
    s->log.push_back("buf:" + std::to_string(offset));
    s->offsets.push_back(offset);
    hook = s->on_buffer;
    s->cv.notify_all();
  }
  if (hook)
    hook(*s);
  std::unique_lock<std::mutex> lk(s->m);
  while (s->block && !(s->honour_flush && s->flushing)) {
    s->blocked = true;
    s->cv.notify_all();
    s->cv.wait(lk);
  }
  s->blocked = false;
  s->cv.notify_all();
  return s->flushing ? GST_FLOW_FLUSHING : s->result;
}

static gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  Sink *s = static_cast<Sink *>(gst_pad_get_element_private(pad));
  std::lock_guard<std::mutex> lk(s->m);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      s->flushing = true;
      ++s->flush_starts;
      break;
    case GST_EVENT_FLUSH_STOP:
      s->flushing = false;
      ++s->flush_stops;
      break;
    case GST_EVENT_EOS:
      ++s->eos;
      break;
    default:
      break;
  }
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    GstCaps *caps = nullptr;
    gst_event_parse_caps(event, &caps);
    g_autofree gchar *str = gst_caps_to_string(caps);
    s->log.push_back(std::string("caps:") + str);
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM) {
    s->log.push_back(std::string("ev:custom:") +
                     gst_structure_get_name(gst_event_get_structure(event)));
  } else {
    s->log.push_back(std::string("ev:") + GST_EVENT_TYPE_NAME(event));
  }
  s->cv.notify_all();
  gst_event_unref(event);
  return TRUE;
}

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

Sink::Sink() {
  // With a template, the pad accepts any caps (a bare pad accepts only its current ones).
  pad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_element_private(pad, this);
  gst_pad_set_chain_function(pad, sink_chain);
  gst_pad_set_event_function(pad, sink_event);
  gst_pad_set_active(pad, TRUE);
}

Sink::~Sink() {
  gst_pad_set_active(pad, FALSE);
  gst_object_unref(pad);
  if (tee_pad)
    gst_object_unref(tee_pad);
}

bool Sink::wait(const std::function<bool()> &pred) {
  std::unique_lock<std::mutex> lk(m);
  return cv.wait_for(lk, kWait, pred);
}

void Sink::set_block(bool b) {
  std::lock_guard<std::mutex> lk(m);
  block = b;
  cv.notify_all();
}

std::vector<guint64> Sink::received() {
  std::lock_guard<std::mutex> lk(m);
  return offsets;
}

std::size_t Sink::count() {
  std::lock_guard<std::mutex> lk(m);
  return offsets.size();
}

Stats stats_of(GstPad *tee_pad) {
  GstStructure *s = nullptr;
  g_object_get(tee_pad, "stats", &s, nullptr);
  Stats st;
  gboolean evicted = FALSE;
  gst_structure_get(s, "buffers-offered", G_TYPE_UINT64, &st.offered, "buffers-out", G_TYPE_UINT64,
                    &st.out, "buffers-dropped", G_TYPE_UINT64, &st.dropped, "lag-buffers",
                    G_TYPE_UINT64, &st.lag, "resyncs", G_TYPE_UINT64, &st.resyncs, "events-skipped",
                    G_TYPE_UINT64, &st.events_skipped, "evicted", G_TYPE_BOOLEAN, &evicted,
                    nullptr);
  st.evicted = evicted;
  gst_structure_free(s);
  return st;
}

void assert_accounting(GstPad *tee_pad) {
  const Stats s = stats_of(tee_pad);
  fail_unless(s.offered == s.out + s.dropped + s.lag,
              "offered %" G_GUINT64_FORMAT " != out %" G_GUINT64_FORMAT
              " + dropped %" G_GUINT64_FORMAT " + lag %" G_GUINT64_FORMAT,
              s.offered, s.out, s.dropped, s.lag);
}

std::vector<guint64> range(guint64 from, guint64 to) {
  std::vector<guint64> v;
  for (guint64 i = from; i < to; ++i)
    v.push_back(i);
  return v;
}

static gboolean src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  Tee *t = static_cast<Tee *>(gst_pad_get_element_private(pad));
  if (gst_video_event_is_force_key_unit(event)) {
    std::lock_guard<std::mutex> lk(t->m);
    ++t->force_key_units;
    t->cv.notify_all();
  }
  gst_event_unref(event);
  return TRUE;
}

Tee::Tee() {
  element = gst_element_factory_make("sharedframetee", nullptr);
  fail_unless(element != nullptr, "sharedframetee not found");
  bus = gst_bus_new();
  gst_element_set_bus(element, bus);
  src = gst_pad_new("src", GST_PAD_SRC);
  gst_pad_set_element_private(src, this);
  gst_pad_set_event_function(src, src_event);
  GstPad *sinkpad = gst_element_get_static_pad(element, "sink");
  fail_unless_equals_int(gst_pad_link(src, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref(sinkpad);
  gst_pad_set_active(src, TRUE);
}

Tee::~Tee() {
  for (auto &s : sinks)
    s->set_block(false);
  gst_element_set_state(element, GST_STATE_NULL);
  for (auto &s : sinks)
    gst_element_release_request_pad(element, s->tee_pad);
  sinks.clear();
  gst_pad_set_active(src, FALSE);
  gst_object_unref(src);
  gst_element_set_bus(element, nullptr);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
  gst_object_unref(element);
}

Sink *Tee::add_branch() {
  auto sink = std::make_unique<Sink>();
  sink->tee_pad = gst_element_request_pad_simple(element, "src_%u");
  fail_unless(sink->tee_pad != nullptr);
  fail_unless_equals_int(gst_pad_link(sink->tee_pad, sink->pad), GST_PAD_LINK_OK);
  sinks.push_back(std::move(sink));
  return sinks.back().get();
}

void Tee::release(Sink *sink) {
  gst_element_release_request_pad(element, sink->tee_pad);
  for (auto it = sinks.begin(); it != sinks.end(); ++it) {
    if (it->get() == sink) {
      sinks.erase(it);
      break;
    }
  }
}

void Tee::play() {
  fail_unless_equals_int(gst_element_set_state(element, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(gst_pad_push_event(src, gst_event_new_stream_start("sharedframetee-test")));
  push_caps("video/x-h264, width=(int)320");
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  fail_unless(gst_pad_push_event(src, gst_event_new_segment(&segment)));
}

void Tee::push_caps(const char *caps_str) {
  GstCaps *caps = gst_caps_from_string(caps_str);
  fail_unless(gst_pad_push_event(src, gst_event_new_caps(caps)));
  gst_caps_unref(caps);
}

GstBuffer *make_buffer(guint64 offset, bool keyframe) {
  GstBuffer *buf = gst_buffer_new_allocate(nullptr, 64, nullptr);
  gst_buffer_memset(buf, 0, static_cast<guint8>(offset), 64);
  GST_BUFFER_OFFSET(buf) = offset;
  GST_BUFFER_PTS(buf) = offset * 40 * GST_MSECOND;
  GST_BUFFER_DURATION(buf) = 40 * GST_MSECOND;
  if (!keyframe)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  return buf;
}

void Tee::push(guint64 offset, bool keyframe) {
  fail_unless_equals_int(gst_pad_push(src, make_buffer(offset, keyframe)), GST_FLOW_OK);
}

GstFlowReturn Tee::try_push(guint64 offset, bool keyframe) {
  return gst_pad_push(src, make_buffer(offset, keyframe));
}

int Tee::key_units() {
  std::lock_guard<std::mutex> lk(m);
  return force_key_units;
}

bool Tee::wait_key_units(int n) {
  std::unique_lock<std::mutex> lk(m);
  return cv.wait_for(lk, kWait, [this, n] { return force_key_units == n; });
}

void Tee::sync(const std::vector<Sink *> &to) {
  const std::string name = "marker-" + std::to_string(++markers);
  fail_unless(gst_pad_push_event(src, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
                                                           gst_structure_new_empty(name.c_str()))));
  const std::string entry = "ev:custom:" + name;
  for (Sink *s : to) {
    fail_unless(s->wait(
        [s, &entry] { return std::find(s->log.begin(), s->log.end(), entry) != s->log.end(); }));
  }
}

}  // namespace sftest
