#include "leakwatch-http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace leakwatch {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char *reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Internal Server Error";
  }
}

std::string serialize(const HttpResponse &r, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only)
    out += r.body;
  return out;
}

bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  size_t sent = 0;
  bool responding = false;
  int64_t deadline_ms = 0;
};

std::string lower(std::string s) {
  for (char &c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

bool parse_http_request(const std::string &head, HttpRequest &out) {
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || sp1 == 0 ||
      line.compare(sp2 + 1, 5, "HTTP/") != 0)
    return false;
  out.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target[0] != '/')
    return false;
  out.path = target.substr(0, target.find('?'));
  out.accept.clear();
  size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos)
      end = head.size();
    std::string h = head.substr(pos, end - pos);
    size_t colon = h.find(':');
    if (colon != std::string::npos && lower(h.substr(0, colon)) == "accept") {
      size_t v = h.find_first_not_of(" \t", colon + 1);
      out.accept = v == std::string::npos ? "" : h.substr(v);
    }
    pos = end + 2;
  }
  return true;
}

bool HttpServer::start(const Options &options, Handler handler, std::string &error,
                       const char *thread_name) {
  stop();
  options_ = options;
  handler_ = std::move(handler);
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto *v4 = reinterpret_cast<sockaddr_in *>(&addr);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&addr);
  if (options.port < 0 || options.port > 65535) {
    error = "port " + std::to_string(options.port) + " is not in [0, 65535]";
    return false;
  }
  if (inet_pton(AF_INET, options.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(options.port));
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, options.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(options.port));
    len = sizeof(*v6);
  } else {
    error = "'" + options.address + "' is not a numeric IPv4 or IPv6 address";
    return false;
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr *>(&addr), len) != 0 || listen(fd, options.backlog) != 0 ||
      !set_nonblocking(fd)) {
    error = "cannot listen on " + options.address + " port " + std::to_string(options.port) + ": " +
            std::strerror(errno);
    close(fd);
    return false;
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in *>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port);
  if (pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    close(fd);
    return false;
  }
  listen_fd_ = fd;
  std::string name = thread_name;
  thread_ = std::thread([this, name] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    run();
  });
  return true;
}

void HttpServer::stop() {
  if (thread_.joinable()) {
    char c = 'q';
    ssize_t ignored = write(wake_fds_[1], &c, 1);
    (void)ignored;
    thread_.join();
  }
  for (int *fd : {&listen_fd_, &wake_fds_[0], &wake_fds_[1]}) {
    if (*fd >= 0)
      close(*fd);
    *fd = -1;
  }
}

void HttpServer::run() {
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    // At the connection bound the listening socket is not polled: new clients wait in the
    // kernel's backlog until a slot frees.
    const bool accepting = conns.size() < options_.max_connections;
    fds.push_back({listen_fd_, static_cast<short>(accepting ? POLLIN : 0), 0});
    int64_t now = now_ms();
    int timeout = -1;
    for (const Connection &c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
      int left = static_cast<int>(c.deadline_ms > now ? c.deadline_ms - now : 0);
      timeout = timeout < 0 ? left : std::min(timeout, left);
    }
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR)
      break;
    if (fds[0].revents != 0)
      break;  // stop()
    now = now_ms();
    std::vector<bool> drop(conns.size(), false);
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection &c = conns[i];
      short rev = fds[i + 2].revents;
      if (!c.responding && (rev & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        ssize_t r = recv(c.fd, buf, sizeof(buf), 0);
        if (r <= 0) {
          if (r == 0 || (errno != EAGAIN && errno != EINTR))
            drop[i] = true;
          continue;
        }
        c.in.append(buf, static_cast<size_t>(r));
        size_t end = c.in.find("\r\n\r\n");
        HttpResponse resp;
        bool head_only = false;
        if (end == std::string::npos && c.in.size() <= options_.max_header_bytes)
          continue;  // wait for the rest of the headers
        if (end == std::string::npos || end + 4 > options_.max_header_bytes) {
          rejected_headers_++;
          resp.status = 431;
          resp.body = "request headers larger than " + std::to_string(options_.max_header_bytes) +
                      " bytes\n";
        } else {
          HttpRequest req;
          if (!parse_http_request(c.in.substr(0, end), req)) {
            resp.status = 400;
            resp.body = "malformed request line\n";
          } else if (req.method != "GET" && req.method != "HEAD") {
            resp.status = 405;
            resp.body = "only GET and HEAD are served\n";
          } else {
            head_only = req.method == "HEAD";
            requests_++;
            resp = handler_(req);
          }
        }
        c.out = serialize(resp, head_only);
        c.in.clear();
        c.in.shrink_to_fit();
        c.responding = true;
        c.deadline_ms = now + options_.idle_timeout_ms;
        // Try to send at once: most responses fit the socket buffer.
        rev = POLLOUT;
      }
      if (c.responding && (rev & (POLLOUT | POLLHUP | POLLERR))) {
        ssize_t w = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
          drop[i] = true;
          continue;
        }
        if (w > 0) {
          c.sent += static_cast<size_t>(w);
          c.deadline_ms = now + options_.idle_timeout_ms;
        }
        if (c.sent == c.out.size())
          drop[i] = true;  // Connection: close
        continue;
      }
      if (now >= c.deadline_ms) {
        idle_closed_++;
        drop[i] = true;
      }
    }
    std::vector<Connection> kept;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (drop[i])
        close(conns[i].fd);
      else
        kept.push_back(std::move(conns[i]));
    }
    conns.swap(kept);
    if (accepting && (fds[1].revents & POLLIN)) {
      while (conns.size() < options_.max_connections) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
          break;
        Connection c;
        c.fd = fd;
        c.deadline_ms = now + options_.idle_timeout_ms;
        conns.push_back(std::move(c));
      }
      if (conns.size() > peak_connections_.load())
        peak_connections_.store(conns.size());
    }
  }
  for (Connection &c : conns)
    close(c.fd);
}

}  // namespace leakwatch
