// Child process for the leakwatch metrics tests: runs under
// GST_TRACERS="leakwatch(metrics-port=0,interval=0,...)" (the test sets it), builds pipelines
// with our elements, takes one sample and prints what the process measured, then:
//
//   leakwatch-metrics-helper dump PREFIX   fetches its own endpoint and writes PREFIX.prom
//                                          (0.0.4), PREFIX.om (OpenMetrics), PREFIX.404
//                                          (status line and content types), then exits
//   leakwatch-metrics-helper serve         keeps serving until its stdin is closed
//
// The values printed ("measured: key=value ...") are the ones the tests compare with what
// Prometheus stored.
#include "steady-tracing.h"
#include <gst/gst.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "metrics-helper: %s\n", what);
  std::exit(2);
}

GstObject *tracer() {
  GstObject *t = steady::find_active_tracer("GstLeakwatchTracer");
  if (t == nullptr)
    die("no leakwatch tracer active");
  return t;
}

// One HTTP request to ourselves; returns the whole response (head and body).
std::string fetch(int port, const std::string &path, const char *accept) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
    die("cannot connect to own endpoint");
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (accept)
    req += std::string("Accept: ") + accept + "\r\n";
  req += "\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    die("send");
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
    out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

void write_file(const std::string &path, const std::string &text) {
  if (!g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), nullptr))
    die("cannot write output file");
}

std::string body_of(const std::string &response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

std::string content_type_of(const std::string &response) {
  size_t p = response.find("Content-Type: ");
  if (p == std::string::npos)
    return "";
  return response.substr(p + 14, response.find("\r\n", p) - p - 14);
}

// This process' descriptors (its own listing's descriptor left out, as leakwatch does), and
// the sockets and pipes among them, counted from /proc/self/fd.
void count_fds(int &total, int &sockets, int &pipes) {
  total = sockets = pipes = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (dir == nullptr)
    die("cannot list /proc/self/fd");
  const int own = dirfd(dir);
  while (struct dirent *de = readdir(dir)) {
    if (de->d_name[0] == '.' || std::atoi(de->d_name) == own)
      continue;
    total++;
    char target[256] = "";
    std::string path = std::string("/proc/self/fd/") + de->d_name;
    ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    if (n > 0)
      target[n] = '\0';
    if (g_str_has_prefix(target, "socket:"))
      sockets++;
    else if (g_str_has_prefix(target, "pipe:"))
      pipes++;
  }
  closedir(dir);
}

GstElement *wait_async_done(GstElement *pipeline) {
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 20 * GST_SECOND,
      static_cast<GstMessageType>(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
  if (m == nullptr || GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
    die("pipeline did not preroll");
  gst_message_unref(m);
  gst_object_unref(bus);
  return pipeline;
}

// src pad of ours -> boundedqueue (4 buffers, leaky) -> fakesink, paused: the first buffer
// waits in the sink's preroll, the next 4 are held, the last 20 of 25 are dropped.
struct DropSetup {
  GstElement *pipeline = nullptr;
  GstElement *queue = nullptr;
  GstPad *src = nullptr;
};

DropSetup drop_setup() {
  DropSetup d;
  d.pipeline = gst_pipeline_new("drops");
  d.queue = gst_element_factory_make("boundedqueue", "bq");
  GstElement *sink = gst_element_factory_make("fakesink", "sink");
  if (d.queue == nullptr || sink == nullptr)
    die("boundedqueue or fakesink missing");
  g_object_set(d.queue, "max-size-buffers", 4u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(d.queue), "leaky", "downstream");
  gst_bin_add_many(GST_BIN(d.pipeline), d.queue, sink, nullptr);
  gst_element_link(d.queue, sink);
  d.src = gst_pad_new("feeder", GST_PAD_SRC);
  GstPad *sinkpad = gst_element_get_static_pad(d.queue, "sink");
  gst_pad_set_active(d.src, TRUE);
  if (gst_pad_link(d.src, sinkpad) != GST_PAD_LINK_OK)
    die("cannot link feeder");
  gst_object_unref(sinkpad);
  gst_element_set_state(d.pipeline, GST_STATE_PAUSED);
  gst_pad_push_event(d.src, gst_event_new_stream_start("metrics-helper"));
  GstCaps *caps = gst_caps_new_empty_simple("application/x-metrics-test");
  gst_pad_push_event(d.src, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(d.src, gst_event_new_segment(&segment));
  auto push = [&](int i) {
    GstBuffer *b = gst_buffer_new_allocate(nullptr, 100, nullptr);
    GST_BUFFER_PTS(b) = i * GST_MSECOND;
    gst_pad_push(d.src, b);
  };
  push(0);
  wait_async_done(d.pipeline);
  for (int i = 1; i < 25; ++i)
    push(i);
  return d;
}

void teardown(DropSetup &d) {
  gst_element_set_state(d.pipeline, GST_STATE_NULL);
  gst_pad_set_active(d.src, FALSE);
  gst_object_unref(d.src);
  gst_object_unref(d.pipeline);
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  const char *scenario = argc > 1 ? argv[1] : "serve";

  DropSetup drops = drop_setup();
  // A second pipeline whose name needs escaping (quote, backslash, newline).
  GstElement *odd = gst_pipeline_new("lobby \"cam\\1\"\nwest");
  // A sharedframetee with two branches, run to EOS and kept PLAYING.
  GstElement *tee = gst_parse_launch(
      "fakesrc num-buffers=10 sizetype=fixed sizemax=10 ! sharedframetee name=t "
      "t. ! fakesink name=a t. ! fakesink name=b",
      nullptr);
  if (tee == nullptr)
    die("cannot build the sharedframetee pipeline");
  gst_object_set_name(GST_OBJECT(tee), "fanout");
  gst_element_set_state(tee, GST_STATE_PLAYING);
  {
    GstBus *bus = gst_element_get_bus(tee);
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, 20 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (m == nullptr || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS)
      die("sharedframetee pipeline did not reach EOS");
    gst_message_unref(m);
    gst_object_unref(bus);
  }

  // The served values come from the last sample-now. The helper counts its own socket and pipe
  // descriptors independently (/proc/self/fd) before and after that sample, until both counts
  // agree (streaming threads winding down after EOS may still be closing some).
  // A software vapoolenc run to EOS (when x264enc is installed), and an rtpjitterbuffer for
  // the generic `stats` export (metrics-element-stats=true).
  GstElement *enc = nullptr;
  if (gst_element_factory_find("x264enc") != nullptr) {
    enc = gst_parse_launch(
        "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 ! "
        "vapoolenc name=v device=software software-factory=x264enc ! fakesink",
        nullptr);
    gst_object_set_name(GST_OBJECT(enc), "enc");
    gst_element_set_state(enc, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(enc);
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (m == nullptr || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS)
      die("vapoolenc pipeline did not reach EOS");
    gst_message_unref(m);
    gst_object_unref(bus);
  }
  GstElement *generic = gst_parse_launch("rtpjitterbuffer name=jb", nullptr);
  GstElement *generic_pipeline = gst_pipeline_new("generic");
  gst_bin_add(GST_BIN(generic_pipeline), generic);

  GstObject *t = tracer();
  int fds_total = -1, fds_socket = -1, fds_pipe = -1;
  for (int attempt = 0; attempt < 100; ++attempt) {
    int t0, s0, p0, t1, s1, p1;
    count_fds(t0, s0, p0);
    guint alerts = 0;
    g_signal_emit_by_name(t, "sample-now", &alerts);
    count_fds(t1, s1, p1);
    if (t0 == t1 && s0 == s1 && p0 == p1) {
      fds_total = t1;
      fds_socket = s1;
      fds_pipe = p1;
      break;
    }
  }
  if (fds_socket < 0)
    die("descriptors never settled");
  GstStructure *cp = nullptr;
  g_signal_emit_by_name(t, "checkpoint", &cp);
  int port = -1;
  g_object_get(t, "metrics-port", &port, nullptr);
  if (port <= 0)
    die("no metrics port");
  guint alive = 0;
  gst_structure_get_uint(cp, "pipelines-alive", &alive);
  guint64 in = 0, out = 0, dropped = 0;
  guint held = 0;
  g_object_get(drops.queue, "buffers-in", &in, "buffers-out", &out, "buffers-dropped", &dropped,
               "current-level-buffers", &held, nullptr);
  std::printf(
      "measured: port=%d fds=%d fds-socket=%d fds-pipe=%d pipelines=%u in=%" G_GUINT64_FORMAT
      " out=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT " held=%u\n",
      port, fds_total, fds_socket, fds_pipe, alive, in, out, dropped, held);
  std::fflush(stdout);
  gst_structure_free(cp);

  if (!std::strcmp(scenario, "dump")) {
    const std::string prefix = argc > 2 ? argv[2] : "metrics";
    std::string plain = fetch(port, "/metrics", nullptr);
    std::string om = fetch(port, "/metrics", "application/openmetrics-text;version=1.0.0");
    std::string missing = fetch(port, "/nope", nullptr);
    write_file(prefix + ".prom", body_of(plain));
    write_file(prefix + ".om", body_of(om));
    write_file(prefix + ".404", missing.substr(0, missing.find("\r\n")) + "\n" +
                                    content_type_of(plain) + "\n" + content_type_of(om) + "\n");
  } else {
    // Serve until the test closes our stdin.
    char c;
    while (read(0, &c, 1) > 0) {
    }
  }

  gst_object_unref(t);
  if (enc != nullptr) {
    gst_element_set_state(enc, GST_STATE_NULL);
    gst_object_unref(enc);
  }
  gst_object_unref(generic_pipeline);
  gst_element_set_state(tee, GST_STATE_NULL);
  gst_object_unref(tee);
  gst_object_unref(odd);
  teardown(drops);
  gst_deinit();
  return 0;
}
