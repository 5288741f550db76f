// A small HTTP/1.1 server on plain sockets for the metrics endpoint, on a thread of its own.
//
// One thread polls the listening socket and every connection; it never runs on a streaming
// thread or the application's main loop. Bounds that keep the process safe from whatever
// connects: request headers are capped (a larger request gets 431 and the connection is
// closed), a connection that has not completed its request within the idle timeout is closed,
// and at most max_connections are served at once (more wait in the kernel's listen backlog
// and are answered as slots free up). Every response closes its connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace leakwatch {

struct HttpRequest {
  std::string method;
  std::string path;  // without the query string
  std::string accept;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    int port = 0;  // 0: the kernel picks a free port (see port())
    size_t max_connections = 16;
    size_t max_header_bytes = 16384;
    int idle_timeout_ms = 10000;
    int backlog = 256;
  };
  using Handler = std::function<HttpResponse(const HttpRequest &)>;

  HttpServer() = default;
  ~HttpServer() { stop(); }
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  // Binds, listens and starts the thread (named @thread_name). False with @error filled when
  // the address cannot be parsed or bound.
  bool start(const Options &options, Handler handler, std::string &error,
             const char *thread_name = "leakwatch-http");
  // Stops and joins the thread, closes every socket; safe to call twice.
  void stop();
  int port() const { return port_; }

  // Counters for tests and the docs' claims.
  uint64_t requests() const { return requests_.load(); }
  uint64_t rejected_headers() const { return rejected_headers_.load(); }
  uint64_t idle_closed() const { return idle_closed_.load(); }
  size_t peak_connections() const { return peak_connections_.load(); }

 private:
  void run();

  Options options_;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> rejected_headers_{0};
  std::atomic<uint64_t> idle_closed_{0};
  std::atomic<size_t> peak_connections_{0};
};

// Parses "GET /path?query HTTP/1.1\r\nName: value\r\n..." (headers complete). False on a
// malformed request line.
bool parse_http_request(const std::string &head, HttpRequest &out);

}  // namespace leakwatch
