// leakwatch's metrics endpoint: the exposition text (escaping, naming, both formats), the HTTP
// server's bounds, the tracer serving its own data (validated by `promtool check metrics`),
// and Debian's real Prometheus scraping it and storing what the process measured.
// C++ streams first: Check's fail() macro would clash with std::ios::fail().
#include <atomic>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "steady-check.h"

#include "leakwatch-elements.h"
#include "leakwatch-exporter.h"
#include "leakwatch-http.h"
#include "leakwatch-metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <glib/gstdio.h>
#include <unistd.h>

using namespace leakwatch;
using metrics::Family;
using metrics::Format;
using metrics::Type;

namespace {

// fail_unless_equals_string on a std::string computed here (kept alive for the comparison).
#define assert_text(expr, expected)                             \
  do {                                                          \
    const std::string assert_text_v = (expr);                   \
    fail_unless_equals_string(assert_text_v.c_str(), expected); \
  } while (0)

// ---- a minimal HTTP client on a blocking socket ----

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  fail_unless(fd >= 0);
  // A safety net so a broken server fails the test instead of hanging it.
  struct timeval tv = {60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

// Whole response of one request ("" when the connection could not be made).
std::string http_get(int port, const std::string &path, const std::string &extra = "") {
  int fd = connect_loopback(port);
  if (fd < 0)
    return "";
  std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + "\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out = read_all(fd);
  close(fd);
  return out;
}

int status_of(const std::string &response) {
  if (response.compare(0, 9, "HTTP/1.1 ") != 0)
    return -1;
  return std::atoi(response.c_str() + 9);
}

std::string body_of(const std::string &response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

HttpServer::Handler echo_handler() {
  return [](const HttpRequest &r) {
    HttpResponse resp;
    if (r.path != "/metrics") {
      resp.status = 404;
      return resp;
    }
    resp.body = "up 1\n";
    return resp;
  };
}

bool have_program(const char *name) {
  gchar *path = g_find_program_in_path(name);
  bool ok = path != nullptr;
  g_free(path);
  return ok;
}

// Runs a program with @input on its stdin; returns (exit status, stdout + stderr).
std::pair<int, std::string> run_with_input(const std::vector<std::string> &args,
                                           const std::string &input) {
  gchar *dir = g_dir_make_tmp("lw-metrics-XXXXXX", nullptr);
  std::string in_path = std::string(dir) + "/in";
  g_file_set_contents(in_path.c_str(), input.data(), static_cast<gssize>(input.size()), nullptr);
  std::string cmd;
  for (const std::string &a : args) {
    gchar *q = g_shell_quote(a.c_str());
    cmd += std::string(q) + " ";
    g_free(q);
  }
  gchar *qin = g_shell_quote(in_path.c_str());
  cmd += std::string("< ") + qin + " 2>&1";
  g_free(qin);
  const gchar *argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  SteadyChild c = steady_run_child(argv, g_get_environ());
  g_unlink(in_path.c_str());
  g_rmdir(dir);
  g_free(dir);
  return {c.exit_status, c.out + c.err};
}

gchar **helper_env(const char *tracers) {
  gchar **env = g_get_environ();
  return g_environ_setenv(env, "GST_TRACERS", tracers, TRUE);
}

bool contains(const std::string &text, const std::string &what) {
  return text.find(what) != std::string::npos;
}

// "key=value" from the helper's "measured:" line.
std::map<std::string, long> measured(const std::string &out) {
  std::map<std::string, long> m;
  size_t p = out.find("measured: ");
  fail_unless(p != std::string::npos, "helper printed no measurements: %s", out.c_str());
  std::istringstream words(out.substr(p + 10, out.find('\n', p) - p - 10));
  std::string w;
  while (words >> w) {
    size_t eq = w.find('=');
    m[w.substr(0, eq)] = std::atol(w.c_str() + eq + 1);
  }
  return m;
}

}  // namespace

// ================= exposition text =================

GST_START_TEST(test_label_value_escaping) {
  assert_text(metrics::escape_label_value("plain"), "plain");
  assert_text(metrics::escape_label_value("a\"b"), "a\\\"b");
  assert_text(metrics::escape_label_value("a\\b"), "a\\\\b");
  assert_text(metrics::escape_label_value("a\nb"), "a\\nb");
  // Latin-1 'e acute' is not UTF-8: replaced by U+FFFD, valid UTF-8 neighbours kept.
  assert_text(metrics::escape_label_value("caf\xe9-\xc3\xa9"), "caf\xef\xbf\xbd-\xc3\xa9");
  assert_text(metrics::sanitize_name("vah264enc-stats.x"), "vah264enc_stats_x");
  assert_text(metrics::sanitize_name("9lives"), "_9lives");
  assert_text(metrics::format_value(42), "42");
  assert_text(metrics::format_value(-3), "-3");
  assert_text(metrics::format_value(0.1), "0.1");
  assert_text(metrics::format_value(1.0 / 0.0), "+Inf");
  assert_text(metrics::format_value(0.0 / 0.0), "NaN");
  assert_text(metrics::format_value(18446744073709551615.0), "1.8446744073709552e+19");
}
GST_END_TEST;

GST_START_TEST(test_both_formats_exact) {
  metrics::Exposition e;
  Family &c = e.family("app_cpu_seconds", Type::kCounter, "CPU time.", "seconds");
  e.add(c, {}, 1.5);
  Family &g = e.family("app_pipeline_state", Type::kGauge, "State.\nSecond line \\.");
  e.add(g, {{"pipeline", "a\"b"}, {"id", "7"}}, 4);
  e.family("app_empty", Type::kGauge, "Never filled: left out.");
  metrics::Exposition q;
  q.add(q.family("app_quoted", Type::kGauge, "Rows of type=\"other\"."), {}, 1);
  assert_text(q.render(Format::kPrometheus),
              "# HELP app_quoted Rows of type=\"other\".\n# TYPE app_quoted gauge\napp_quoted 1\n");
  assert_text(q.render(Format::kOpenMetrics),
              "# HELP app_quoted Rows of type=\\\"other\\\".\n"
              "# TYPE app_quoted gauge\napp_quoted 1\n# EOF\n");
  assert_text(e.render(Format::kPrometheus),
              "# HELP app_cpu_seconds_total CPU time.\n"
              "# TYPE app_cpu_seconds_total counter\n"
              "app_cpu_seconds_total 1.5\n"
              "# HELP app_pipeline_state State.\\nSecond line \\\\.\n"
              "# TYPE app_pipeline_state gauge\n"
              "app_pipeline_state{pipeline=\"a\\\"b\",id=\"7\"} 4\n");
  assert_text(e.render(Format::kOpenMetrics),
              "# HELP app_cpu_seconds CPU time.\n"
              "# TYPE app_cpu_seconds counter\n"
              "# UNIT app_cpu_seconds seconds\n"
              "app_cpu_seconds_total 1.5\n"
              "# HELP app_pipeline_state State.\\nSecond line \\\\.\n"
              "# TYPE app_pipeline_state gauge\n"
              "app_pipeline_state{pipeline=\"a\\\"b\",id=\"7\"} 4\n"
              "# EOF\n");
  fail_unless_equals_int(e.series(), 2);
}
GST_END_TEST;

GST_START_TEST(test_content_type_negotiation) {
  fail_unless_equals_string(metrics::content_type(Format::kPrometheus),
                            "text/plain; version=0.0.4; charset=utf-8");
  fail_unless_equals_string(metrics::content_type(Format::kOpenMetrics),
                            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  fail_unless(metrics::negotiate("") == Format::kPrometheus);
  fail_unless(metrics::negotiate("text/plain;version=0.0.4;q=0.5,*/*;q=0.1") ==
              Format::kPrometheus);
  // What Prometheus 2.x sends.
  fail_unless(metrics::negotiate("application/openmetrics-text;version=1.0.0,application/"
                                 "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                                 "q=0.5,*/*;q=0.1") == Format::kOpenMetrics);
  fail_unless(metrics::negotiate("Application/OpenMetrics-Text") == Format::kOpenMetrics);
}
GST_END_TEST;

static metrics::Input synthetic_input() {
  metrics::Input in;
  in.samples = 3;
  in.interval_s = 1;
  in.stat.cpu_seconds = 2.5;
  in.stat.start_time = 1700000000;
  in.stat.virtual_bytes = 1 << 20;
  in.stat.max_fds = 1024;
  in.last.rss = 10485760;
  in.last.fds[static_cast<int>(FdClass::kSocket)] = 3;
  in.last.fds[static_cast<int>(FdClass::kDrmRender)] = 2;
  in.last.fds_total = 5;
  in.last.threads = {{"queue#:src", 4}, {"leakwatch", 1}};
  in.last.threads_total = 5;
  in.last.gpu = {{"i915", 4096}, {"i915-resident", 2048}};
  for (int i = 0; i < 5; ++i) {
    TypeCount t;
    t.type = "GstType" + std::to_string(i);
    t.created = 10 + i;
    t.live = i;
    in.types.push_back(t);
  }
  PipelineInfo live, gone;
  live.id = 1;
  live.name = "cam \"1\"\n\xff";
  live.state = 4;
  gone.id = 2;
  gone.name = "old";
  gone.destroyed_ns = 5;
  gone.verdict = PipelineVerdict::kDroppedWithoutNull;
  in.pipelines = {live, gone};
  TrendState rss;
  rss.metric = "rss";
  rss.alerting = true;
  rss.scale_slopes = {{1, 2048}, {10, 1024.5}};
  in.trends = {rss};
  in.elements.values.push_back({"steady_boundedqueue_buffers_dropped",
                                Type::kCounter,
                                "dropped",
                                {{"pipeline", "p"}, {"element", "bq"}},
                                20});
  in.elements.omitted = 1;
  return in;
}

GST_START_TEST(test_exposition_from_snapshot) {
  metrics::Input in = synthetic_input();
  in.max_types = 2;  // GstType4 and GstType3 (most live) keep rows, the rest fold into other
  std::string text = metrics::build_exposition(in).render(Format::kPrometheus);
  for (const char *line :
       {"process_cpu_seconds_total 2.5\n",
        "process_start_time_seconds 1700000000\n",
        "process_resident_memory_bytes 10485760\n",
        "process_open_fds 5\n",
        "process_max_fds 1024\n",
        "process_virtual_memory_bytes 1048576\n",
        "leakwatch_open_fds{class=\"socket\"} 3\n",
        "leakwatch_open_fds{class=\"drm-render\"} 2\n",
        "leakwatch_open_fds{class=\"pipe\"} 0\n",
        "leakwatch_process_threads 5\n",
        "leakwatch_threads{group=\"queue#:src\"} 4\n",
        "leakwatch_gpu_memory_bytes{driver=\"i915\",kind=\"total\"} 4096\n",
        "leakwatch_gpu_memory_bytes{driver=\"i915\",kind=\"resident\"} 2048\n",
        "leakwatch_objects_live{type=\"GstType4\"} 4\n",
        "leakwatch_objects_live{type=\"GstType3\"} 3\n",
        "leakwatch_objects_live{type=\"other\"} 3\n",  // 0 + 1 + 2
        "leakwatch_objects_created_total{type=\"other\"} 33\n",
        "leakwatch_object_types 5\n",
        "leakwatch_pipelines_alive 1\n",
        "leakwatch_pipeline_state{pipeline=\"cam \\\"1\\\"\\n\xef\xbf\xbd\",id=\"1\"} 4\n",
        "leakwatch_pipelines_by_verdict{verdict=\"finalized-without-null\"} 1\n",
        "leakwatch_pipelines_by_verdict{verdict=\"ok\"} 1\n",
        "leakwatch_trend_alert{series=\"rss\"} 1\n",
        "leakwatch_trend_slope_per_minute{series=\"rss\",scale=\"10\"} 1024.5\n",
        "leakwatch_samples_total 3\n",
        "leakwatch_sample_interval_seconds 1\n",
        "steady_boundedqueue_buffers_dropped_total{pipeline=\"p\",element=\"bq\"} 20\n",
        "leakwatch_metrics_element_series_omitted 1\n"})
    if (!contains(text, line)) {
      std::printf("%s", text.c_str());
      std::fflush(stdout);
      fail("missing line %s (document printed above)", line);
    }
  fail_unless(!contains(text, "GstType0\""), "a folded type kept its own row");

  // Before the first sample nothing sampled is invented.
  in.samples = 0;
  text = metrics::build_exposition(in).render(Format::kPrometheus);
  fail_unless(!contains(text, "process_resident_memory_bytes"));
  fail_unless(contains(text, "process_cpu_seconds_total 2.5\n"));
}
GST_END_TEST;

GST_START_TEST(test_exposition_passes_promtool) {
  if (!have_program("promtool"))
    STEADY_SKIP("promtool not installed (Debian package prometheus)");
  std::string text = metrics::build_exposition(synthetic_input()).render(Format::kPrometheus);
  auto r = run_with_input({"promtool", "check", "metrics"}, text);
  fail_unless_equals_int(r.first, 0);
  fail_unless(r.second.empty(), "promtool complains:\n%s", r.second.c_str());
}
GST_END_TEST;

GST_START_TEST(test_field_metric_naming) {
  FieldMetric m = field_metric("steady_boundedqueue_", "buffers-dropped", true);
  assert_text(m.name, "steady_boundedqueue_buffers_dropped");
  fail_unless(m.type == Type::kCounter);
  m = field_metric("steady_boundedqueue_", "current-level-time", true);
  assert_text(m.name, "steady_boundedqueue_current_level_seconds");
  fail_unless(m.type == Type::kGauge);
  fail_unless(m.scale == 1e-9);
  m = field_metric("steady_boundedqueue_", "peak-level-bytes", true);
  fail_unless(m.type == Type::kGauge);
  m = field_metric("steady_sharedframetee_branch_", "evicted", false);
  fail_unless(m.type == Type::kGauge);
  m = field_metric("steady_sharedframetee_branch_", "lag-buffers", true);
  fail_unless(m.type == Type::kGauge);
  m = field_metric("steady_vapoolenc_pool_", "reuse-rate", false);
  fail_unless(m.type == Type::kGauge);
  m = field_metric("steady_vapoolenc_", "failovers", true);
  fail_unless(m.type == Type::kCounter);
}
GST_END_TEST;

// ================= the HTTP server's bounds =================

GST_START_TEST(test_http_paths_and_methods) {
  HttpServer server;
  std::string error;
  fail_unless(server.start({}, echo_handler(), error), "%s", error.c_str());
  std::string r = http_get(server.port(), "/metrics");
  fail_unless_equals_int(status_of(r), 200);
  const std::string body = body_of(r);  // the macro keeps the pointer past a temporary's life
  fail_unless_equals_string(body.c_str(), "up 1\n");
  fail_unless_equals_int(status_of(http_get(server.port(), "/")), 404);
  fail_unless_equals_int(status_of(http_get(server.port(), "/metrics/../x")), 404);
  fail_unless_equals_int(status_of(http_get(server.port(), "/metrics?x=1")), 200);
  int fd = connect_loopback(server.port());
  const char post[] = "POST /metrics HTTP/1.1\r\n\r\n";
  send(fd, post, sizeof(post) - 1, MSG_NOSIGNAL);
  fail_unless_equals_int(status_of(read_all(fd)), 405);
  close(fd);
  fd = connect_loopback(server.port());
  const char junk[] = "\x16\x03\x01 TLS hello\r\n\r\n";
  send(fd, junk, sizeof(junk) - 1, MSG_NOSIGNAL);
  fail_unless_equals_int(status_of(read_all(fd)), 400);
  close(fd);
  fail_unless_equals_int(server.requests(), 4);

  // Bad addresses are refused with the reason.
  HttpServer other;
  HttpServer::Options bad;
  bad.address = "localhost";
  fail_unless(!other.start(bad, echo_handler(), error));
  fail_unless(contains(error, "not a numeric IPv4 or IPv6 address"), "%s", error.c_str());
  HttpServer::Options taken;
  taken.port = server.port();
  fail_unless(!other.start(taken, echo_handler(), error));
  fail_unless(contains(error, "cannot listen on 127.0.0.1 port"), "%s", error.c_str());
}
GST_END_TEST;

GST_START_TEST(test_http_huge_request_rejected) {
  HttpServer server;
  std::string error;
  fail_unless(server.start({}, echo_handler(), error));
  int fd = connect_loopback(server.port());
  std::string huge = "GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(1 << 20, 'a');
  size_t sent = 0;
  while (sent < huge.size()) {
    ssize_t n = send(fd, huge.data() + sent, huge.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;  // the server closed the connection: allowed
    sent += static_cast<size_t>(n);
  }
  std::string r = read_all(fd);
  close(fd);
  // 431 when the response was read before the reset, else a closed connection.
  fail_unless(r.empty() || status_of(r) == 431, "unexpected answer: %.80s", r.c_str());
  fail_unless_equals_int(server.rejected_headers(), 1);
  // The server goes on serving.
  fail_unless_equals_int(status_of(http_get(server.port(), "/metrics")), 200);
}
GST_END_TEST;

GST_START_TEST(test_http_idle_connection_closed) {
  HttpServer server;
  HttpServer::Options o;
  o.idle_timeout_ms = 200;
  std::string error;
  fail_unless(server.start(o, echo_handler(), error));
  int fd = connect_loopback(server.port());
  const char partial[] = "GET /metrics HTTP/1.1\r\n";  // never finished
  send(fd, partial, sizeof(partial) - 1, MSG_NOSIGNAL);
  // Blocks until the server closes it (the 60 s receive timeout would fail the test).
  std::string r = read_all(fd);
  close(fd);
  fail_unless(r.empty());
  fail_unless_equals_int(server.idle_closed(), 1);
  fail_unless_equals_int(server.requests(), 0);
}
GST_END_TEST;

GST_START_TEST(test_http_100_concurrent_scrapes) {
  HttpServer server;
  HttpServer::Options o;
  o.max_connections = 8;
  std::string error;
  fail_unless(server.start(o, echo_handler(), error));
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 100; ++i)
    clients.emplace_back([&] {
      std::string r = http_get(server.port(), "/metrics");
      if (status_of(r) == 200 && body_of(r) == "up 1\n")
        ok++;
    });
  for (std::thread &t : clients)
    t.join();
  fail_unless_equals_int(ok.load(), 100);
  fail_unless_equals_int(server.requests(), 100);
  fail_unless(server.peak_connections() <= 8, "peak %zu", server.peak_connections());
}
GST_END_TEST;

// ================= the tracer serving its own data =================

GST_START_TEST(test_tracer_serves_metrics) {
  gchar *dir = g_dir_make_tmp("lw-metrics-XXXXXX", nullptr);
  std::string prefix = std::string(dir) + "/scrape";
  std::string helper = steady_build_path("tests/check/elements/leakwatch-metrics-helper");
  std::string file = std::string(dir) + "/textfile.prom";
  const gchar *argv[] = {helper.c_str(), "dump", prefix.c_str(), nullptr};
  std::string tracers =
      "leakwatch(metrics-port=0,interval=0,summary=false,metrics-element-stats="
      "true,metrics-file=" +
      file + ")";
  SteadyChild c = steady_run_child(argv, helper_env(tracers.c_str()));
  fail_unless_equals_int(c.exit_status, 0);
  fail_unless(contains(c.err, "leakwatch: serving metrics on http://127.0.0.1:"), "%s",
              c.err.c_str());
  std::map<std::string, long> m = measured(c.out);
  fail_unless_equals_int(m["dropped"], 20);
  fail_unless_equals_int(m["in"], 25);
  fail_unless_equals_int(m["in"], m["out"] + m["dropped"] + m["held"]);

  gchar *prom = nullptr, *om = nullptr, *other = nullptr;
  fail_unless(g_file_get_contents((prefix + ".prom").c_str(), &prom, nullptr, nullptr));
  fail_unless(g_file_get_contents((prefix + ".om").c_str(), &om, nullptr, nullptr));
  fail_unless(g_file_get_contents((prefix + ".404").c_str(), &other, nullptr, nullptr));
  std::string text = prom;
  fail_unless_equals_string(other,
                            "HTTP/1.1 404 Not Found\n"
                            "text/plain; version=0.0.4; charset=utf-8\n"
                            "application/openmetrics-text; version=1.0.0; charset=utf-8\n");
  const std::string expected[] = {
      "leakwatch_pipelines_alive " + std::to_string(m["pipelines"]) + "\n",
      "process_open_fds " + std::to_string(m["fds"]) + "\n",
      "leakwatch_open_fds{class=\"socket\"} " + std::to_string(m["fds-socket"]) + "\n",
      "steady_boundedqueue_buffers_dropped_total{pipeline=\"drops\",element=\"bq\"} 20\n",
      "steady_boundedqueue_buffers_in_total{pipeline=\"drops\",element=\"bq\"} 25\n",
      "steady_boundedqueue_current_level_buffers{pipeline=\"drops\",element=\"bq\"} " +
          std::to_string(m["held"]) + "\n",
      "steady_sharedframetee_buffers_in_total{pipeline=\"fanout\",element=\"t\"} 10\n",
      "steady_sharedframetee_num_src_pads{pipeline=\"fanout\",element=\"t\"} 2\n",
      "steady_sharedframetee_branch_buffers_offered_total{pipeline=\"fanout\",element=\"t\","
      "pad=\"src_0\"} 10\n",
      "steady_sharedframetee_branch_evicted{pipeline=\"fanout\",element=\"t\",pad=\"src_1\"} 0\n",
      "leakwatch_pipeline_state{pipeline=\"lobby \\\"cam\\\\1\\\"\\nwest\",id=",
      "leakwatch_objects_live{type=\"GstBoundedQueue\"} 1\n",
      "leakwatch_metrics_element_series_omitted 0\n"};
  for (const std::string &line : expected)
    if (!contains(text, line)) {
      std::printf("%s", text.c_str());
      std::fflush(stdout);
      fail("missing %s (document printed above)", line.c_str());
    }
  // Every branch accounts for every buffer offered to it.
  for (const char *pad : {"src_0", "src_1"}) {
    auto value = [&](const char *field) {
      std::string key = std::string("steady_sharedframetee_branch_") + field +
                        "{pipeline=\"fanout\",element=\"t\",pad=\"" + pad + "\"} ";
      size_t p = text.find(key);
      fail_unless(p != std::string::npos, "no %s", key.c_str());
      return std::atol(text.c_str() + p + key.size());
    };
    fail_unless_equals_int(
        value("buffers_offered_total"),
        value("buffers_out_total") + value("buffers_dropped_total") + value("lag_buffers"));
  }
  fail_unless_equals_int(m["pipelines"], steady_have_factory("x264enc") ? 5 : 4);
  fail_unless(contains(text,
                       "gst_element_stats{pipeline=\"generic\",element=\"jb\",factory="
                       "\"rtpjitterbuffer\",field=\"num-pushed\"} 0\n"));
  if (steady_have_factory("x264enc")) {
    for (const char *line :
         {"steady_vapoolenc_frames_in_total{pipeline=\"enc\",element=\"v\"} 5\n",
          "steady_vapoolenc_frames_out_total{pipeline=\"enc\",element=\"v\"} 5\n",
          "steady_vapoolenc_failovers_total{pipeline=\"enc\",element=\"v\"} 0\n",
          "steady_vapoolenc_pool_created_total 1\n"})
      fail_unless(contains(text, line), "missing %s", line);
  }
  // metrics-file: the same document, written at the sample (no temporary file left behind:
  // the directory is empty at the end).
  gchar *textfile = nullptr;
  fail_unless(g_file_get_contents(file.c_str(), &textfile, nullptr, nullptr));
  fail_unless(
      contains(textfile, "leakwatch_pipelines_alive " + std::to_string(m["pipelines"]) + "\n"));
  fail_unless(contains(textfile,
                       "steady_boundedqueue_buffers_dropped_total{pipeline=\"drops\","
                       "element=\"bq\"} 20\n"));
  g_free(textfile);
  g_unlink(file.c_str());
  fail_unless(g_str_has_suffix(om, "# EOF\n"));
  fail_unless(contains(om, "# TYPE steady_boundedqueue_buffers_dropped counter\n"));

  if (have_program("promtool")) {
    auto r = run_with_input({"promtool", "check", "metrics"}, text);
    fail_unless_equals_int(r.first, 0);
    fail_unless(r.second.empty(), "promtool complains:\n%s", r.second.c_str());
  }
  g_free(prom);
  g_free(om);
  g_free(other);
  for (const char *ext : {".prom", ".om", ".404"})
    g_unlink((prefix + ext).c_str());
  fail_unless_equals_int(g_rmdir(dir), 0);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_bad_metrics_params_warn) {
  std::string helper = steady_build_path("tests/check/elements/leakwatch-metrics-helper");
  const gchar *argv[] = {helper.c_str(), "dump", "/nonexistent/x", nullptr};
  // A port out of range is refused with the allowed range; no endpoint, so the helper dies.
  SteadyChild c =
      steady_run_child(argv, helper_env("leakwatch(metrics-port=70000,interval=0,summary=false)"));
  fail_unless(contains(c.err, "'metrics-port=70000' expects a TCP port in [0, 65535]"), "%s",
              c.err.c_str());
  fail_unless(contains(c.err, "metrics-helper: no metrics port"), "%s", c.err.c_str());
  // A name instead of an address: one line saying why there is no endpoint.
  c = steady_run_child(
      argv, helper_env("leakwatch(metrics-port=0,metrics-address=localhost,interval=0,summary="
                       "false)"));
  fail_unless(contains(c.err, "leakwatch: no metrics endpoint: 'localhost' is not a numeric"), "%s",
              c.err.c_str());
}
GST_END_TEST;

// ================= Debian's Prometheus scraping the tracer =================

namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string url_encode(const std::string &s) {
  gchar *e = g_uri_escape_string(s.c_str(), nullptr, FALSE);
  std::string out = e;
  g_free(e);
  return out;
}

// The value of an instant query with one result ("" while there is none yet).
std::string query_value(int port, const std::string &query) {
  std::string body = body_of(http_get(port, "/api/v1/query?query=" + url_encode(query)));
  size_t v = body.find("\"value\":[");
  if (v == std::string::npos)
    return "";
  size_t q = body.find('"', body.find(',', v) + 1);
  return body.substr(q + 1, body.find('"', q + 1) - q - 1);
}

// Polls Prometheus (an external server) until the query has a value, with a deadline.
std::string wait_value(int port, const std::string &query, int seconds) {
  gint64 deadline = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time() < deadline) {
    std::string v = query_value(port, query);
    if (!v.empty())
      return v;
    g_usleep(200 * 1000);
  }
  return "";
}

}  // namespace

GST_START_TEST(test_prometheus_stores_what_was_measured) {
  if (!have_program("prometheus"))
    STEADY_SKIP("prometheus not installed (Debian package prometheus)");
  std::string helper = steady_build_path("tests/check/elements/leakwatch-metrics-helper");
  const gchar *hargv[] = {helper.c_str(), "serve", nullptr};
  gchar **henv = helper_env("leakwatch(metrics-port=0,interval=0,summary=false)");
  GPid helper_pid;
  gint helper_in, helper_out;
  GError *error = nullptr;
  fail_unless(g_spawn_async_with_pipes(nullptr, const_cast<gchar **>(hargv), henv,
                                       G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &helper_pid,
                                       &helper_in, &helper_out, nullptr, &error),
              "%s", error ? error->message : "");
  g_strfreev(henv);
  // Its first line: the measurements (blocking read, the helper prints it once set up).
  std::string line;
  char ch;
  while (read(helper_out, &ch, 1) == 1 && ch != '\n')
    line += ch;
  std::map<std::string, long> m = measured(line);
  fail_unless_equals_int(m["dropped"], 20);

  gchar *dir = g_dir_make_tmp("lw-prometheus-XXXXXX", nullptr);
  const int prom_port = free_port();
  std::string config = std::string(dir) + "/prometheus.yml";
  std::string yml =
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      "scrape_configs:\n  - job_name: leakwatch\n    static_configs:\n"
      "      - targets: ['127.0.0.1:" +
      std::to_string(m["port"]) + "']\n";
  g_file_set_contents(config.c_str(), yml.c_str(), -1, nullptr);
  std::string storage = "--storage.tsdb.path=" + std::string(dir) + "/data";
  std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(prom_port);
  std::string cfg = "--config.file=" + config;
  const gchar *pargv[] = {"prometheus",   cfg.c_str(),        storage.c_str(),
                          listen.c_str(), "--log.level=warn", nullptr};
  GPid prom_pid;
  gint prom_err;
  fail_unless(g_spawn_async_with_pipes(
                  nullptr, const_cast<gchar **>(pargv), nullptr,
                  static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                           G_SPAWN_STDOUT_TO_DEV_NULL),
                  nullptr, nullptr, &prom_pid, nullptr, nullptr, &prom_err, &error),
              "%s", error ? error->message : "");

  struct Check {
    std::string query;
    long expected;
  };
  const Check checks[] = {
      {"up{job=\"leakwatch\"}", 1},
      {"process_open_fds{job=\"leakwatch\"}", m["fds"]},
      {"leakwatch_open_fds{job=\"leakwatch\",class=\"socket\"}", m["fds-socket"]},
      {"leakwatch_open_fds{job=\"leakwatch\",class=\"pipe\"}", m["fds-pipe"]},
      {"leakwatch_pipelines_alive{job=\"leakwatch\"}", m["pipelines"]},
      {"steady_boundedqueue_buffers_dropped_total{pipeline=\"drops\",element=\"bq\"}",
       m["dropped"]},
      {"steady_boundedqueue_current_level_buffers{pipeline=\"drops\",element=\"bq\"}", m["held"]},
      // The escaped name arrives intact: quote, backslash and newline.
      {"count(leakwatch_pipeline_state{pipeline=\"lobby \\\"cam\\\\1\\\"\\nwest\"})", 1},
  };
  // The first answer can take a while (Prometheus starting, first scrape); then every value
  // is there.
  std::vector<std::string> got;
  for (const Check &c : checks)
    got.push_back(wait_value(prom_port, c.query, got.empty() ? 120 : 10));

  kill(prom_pid, SIGTERM);
  int status = 0;
  waitpid(prom_pid, &status, 0);
  g_spawn_close_pid(prom_pid);
  std::string prom_log;
  char buf[4096];
  ssize_t n;
  while ((n = read(prom_err, buf, sizeof(buf))) > 0)
    prom_log.append(buf, static_cast<size_t>(n));
  close(prom_err);
  close(helper_in);  // the helper ends when its stdin closes
  waitpid(helper_pid, &status, 0);
  g_spawn_close_pid(helper_pid);
  close(helper_out);
  fail_unless(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper failed");
  gchar *rm_argv[] = {const_cast<gchar *>("/bin/rm"), const_cast<gchar *>("-rf"), dir, nullptr};
  steady_run_child(rm_argv, nullptr);
  g_free(dir);

  std::string wrong;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != std::to_string(checks[i].expected))
      wrong += checks[i].query + " = '" + got[i] + "' (measured " +
               std::to_string(checks[i].expected) + "); ";
  if (!wrong.empty()) {
    std::printf("prometheus log:\n%s\n", prom_log.c_str());
    fail("Prometheus stored other values than the process measured: %s", wrong.c_str());
  }
}
GST_END_TEST;

static Suite *leakwatch_metrics_suite() {
  Suite *s = suite_create("leakwatch-metrics");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_label_value_escaping);
  tcase_add_test(tc, test_both_formats_exact);
  tcase_add_test(tc, test_content_type_negotiation);
  tcase_add_test(tc, test_exposition_from_snapshot);
  tcase_add_test(tc, test_exposition_passes_promtool);
  tcase_add_test(tc, test_field_metric_naming);
  tcase_add_test(tc, test_http_paths_and_methods);
  tcase_add_test(tc, test_http_huge_request_rejected);
  tcase_add_test(tc, test_http_idle_connection_closed);
  tcase_add_test(tc, test_http_100_concurrent_scrapes);
  tcase_add_test(tc, test_tracer_serves_metrics);
  tcase_add_test(tc, test_bad_metrics_params_warn);
  tcase_add_test(tc, test_prometheus_stores_what_was_measured);
  return s;
}

GST_CHECK_MAIN(leakwatch_metrics);
