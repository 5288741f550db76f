// The RTSP side of steady-rtsp: gst-rtsp-server with the /live and /transcode mounts, the
// bookkeeping that proves every client's pipeline goes away, eviction of stalled clients, and a
// shutdown that leaves nothing behind.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <steady-ptr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "live-source.h"
#include "options.h"

namespace steady_rtsp {

// Counters shared with callbacks that may outlive the Server (media finalized late).
struct ServerStats {
  std::atomic<int> clients{0};
  std::atomic<std::uint64_t> clients_total{0};
  std::atomic<std::uint64_t> media_created{0};
  std::atomic<std::uint64_t> media_freed{0};
  std::atomic<std::uint64_t> pipelines_created{0};
  std::atomic<std::uint64_t> pipelines_freed{0};
  std::atomic<std::uint64_t> live_media{0};
  std::atomic<std::uint64_t> transcode_media{0};
  std::atomic<std::uint64_t> transcode_started{0};  // produced a first encoded buffer
  std::atomic<std::uint64_t> transcode_reused{0};   // ... from a pooled encoder session
  std::atomic<std::uint64_t> evicted_clients{0};
};

class Server {
 public:
  Server(const Options &options, std::shared_ptr<LiveSource> live);
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  // Mounts /live and /transcode and starts listening. Prints the "listening" line.
  bool start(std::string &error);
  // Stops listening, closes every client and session, and waits (bounded) until every client
  // media and its pipeline has been freed. Returns true when nothing is left.
  bool shutdown();
  // Closes the RTSP client(s) and session(s) playing `media`. Main thread.
  void evict(GstRTSPMedia *media);

  std::string status_line(double uptime_s) const;
  std::string final_summary() const;

 private:
  static void on_live_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer data);
  static void on_transcode_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media,
                                     gpointer data);
  static void on_client_connected(GstRTSPServer *server, GstRTSPClient *client, gpointer data);
  void track(GstRTSPMedia *media);
  GstRTSPMediaFactory *make_factory(const std::string &launch);

  const Options &options_;
  std::shared_ptr<LiveSource> live_;
  std::shared_ptr<ServerStats> stats_ = std::make_shared<ServerStats>();
  steady::ObjectRef<GstRTSPServer> server_;
  steady::ObjectRef<GstRTSPSessionPool> pool_;
  guint server_source_ = 0;
  guint cleanup_source_ = 0;
  int port_ = 0;
};

}  // namespace steady_rtsp
