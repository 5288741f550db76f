#include "server.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "pipelines.h"
#include "common/proc-stats.h"

GST_DEBUG_CATEGORY_EXTERN(steady_rtsp_debug);
#define GST_CAT_DEFAULT steady_rtsp_debug

namespace steady_rtsp {

using steady::ObjectRef;

namespace {

// Lives in an object's qdata and counts the object as freed when the object goes (its qdata is
// destroyed on dispose/finalize), whichever thread that happens in.
struct FreedCounter {
  std::shared_ptr<ServerStats> stats;
  std::atomic<std::uint64_t> ServerStats::*counter;
  ~FreedCounter() { ((*stats).*counter)++; }
};

void count_when_freed(gpointer object, const std::shared_ptr<ServerStats> &stats,
                      std::atomic<std::uint64_t> ServerStats::*counter) {
  g_object_set_data_full(G_OBJECT(object), "steady-rtsp-freed-counter",
                         new FreedCounter{stats, counter},
                         [](gpointer data) { delete static_cast<FreedCounter *>(data); });
}

template <typename T>
void delete_as(gpointer data, GClosure *) {
  delete static_cast<T *>(data);
}

// Does `session` hold `target` among its media?
bool session_plays(GstRTSPSession *session, GstRTSPMedia *target) {
  struct Search {
    GstRTSPMedia *target;
    bool found = false;
  } search{target};
  gst_rtsp_session_filter(
      session,
      [](GstRTSPSession *, GstRTSPSessionMedia *session_media, gpointer data) {
        auto &search = *static_cast<Search *>(data);
        if (gst_rtsp_session_media_get_media(session_media) == search.target)
          search.found = true;
        return GST_RTSP_FILTER_KEEP;
      },
      &search);
  return search.found;
}

std::string structure_fields(const GstStructure *s, const char *prefix) {
  std::ostringstream out;
  struct Ctx {
    std::ostringstream *out;
    const char *prefix;
  } ctx{&out, prefix};
  gst_structure_foreach(
      s,
      [](GQuark field, const GValue *value, gpointer data) -> gboolean {
        auto &ctx = *static_cast<Ctx *>(data);
        *ctx.out << ' ' << ctx.prefix << g_quark_to_string(field) << '=';
        if (G_VALUE_HOLDS_DOUBLE(value)) {
          *ctx.out << std::fixed << std::setprecision(2) << g_value_get_double(value);
        } else {
          gchar *text = gst_value_serialize(value);
          *ctx.out << (text ? text : "?");
          g_free(text);
        }
        return TRUE;
      },
      &ctx);
  return out.str();
}

}  // namespace

Server::Server(const Options &options, std::shared_ptr<LiveSource> live)
    : options_(options), live_(std::move(live)) {}

Server::~Server() {
  shutdown();
}

GstRTSPMediaFactory *Server::make_factory(const std::string &launch) {
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch.c_str());
  // One media (one pipeline) per client, stopped as soon as its client disconnects, even when
  // the client vanished without TEARDOWN.
  gst_rtsp_media_factory_set_shared(factory, FALSE);
  gst_rtsp_media_factory_set_stop_on_disconnect(factory, TRUE);
  gst_rtsp_media_factory_set_eos_shutdown(factory, FALSE);
  GstClock *clock = gst_system_clock_obtain();
  gst_rtsp_media_factory_set_clock(factory, clock);
  gst_object_unref(clock);
  return factory;
}

bool Server::start(std::string &error) {
  server_ = ObjectRef<GstRTSPServer>::adopt(gst_rtsp_server_new());
  gst_rtsp_server_set_address(server_.get(), options_.address.c_str());
  gst_rtsp_server_set_service(server_.get(), std::to_string(options_.port).c_str());
  pool_ = ObjectRef<GstRTSPSessionPool>::adopt(gst_rtsp_server_get_session_pool(server_.get()));

  auto mounts =
      ObjectRef<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server_.get()));
  GstRTSPMediaFactory *live = make_factory(live_client_description(options_));
  g_signal_connect(live, "media-configure", G_CALLBACK(on_live_configure), this);
  gst_rtsp_mount_points_add_factory(mounts.get(), "/live", live);
  GstRTSPMediaFactory *transcode = make_factory(transcode_description(options_));
  g_signal_connect(transcode, "media-configure", G_CALLBACK(on_transcode_configure), this);
  gst_rtsp_mount_points_add_factory(mounts.get(), "/transcode", transcode);

  g_signal_connect(server_.get(), "client-connected", G_CALLBACK(on_client_connected), this);

  GError *gerror = nullptr;
  GSource *source = gst_rtsp_server_create_source(server_.get(), nullptr, &gerror);
  if (!source) {
    error = std::string("cannot listen on ") + options_.address + ":" +
            std::to_string(options_.port) + ": " + gerror->message;
    g_error_free(gerror);
    return false;
  }
  server_source_ = g_source_attach(source, nullptr);
  g_source_unref(source);
  port_ = gst_rtsp_server_get_bound_port(server_.get());

  // Expired sessions (clients that went silent without closing) are removed here.
  cleanup_source_ = g_timeout_add_seconds(
      1,
      [](gpointer data) -> gboolean {
        gst_rtsp_session_pool_cleanup(static_cast<GstRTSPSessionPool *>(data));
        return G_SOURCE_CONTINUE;
      },
      pool_.get());

  const std::string host = options_.address == "0.0.0.0" ? "127.0.0.1" : options_.address;
  std::printf(
      "steady-rtsp: listening on rtsp://%s:%d/live and rtsp://%s:%d/transcode "
      "(variant %s)\n",
      host.c_str(), port_, host.c_str(), port_, options_.baseline ? "baseline" : "steady");
  std::fflush(stdout);
  return true;
}

void Server::track(GstRTSPMedia *media) {
  stats_->media_created++;
  count_when_freed(media, stats_, &ServerStats::media_freed);
  auto element = ObjectRef<GstElement>::adopt(gst_rtsp_media_get_element(media));
  if (auto pipeline =
          ObjectRef<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())))) {
    stats_->pipelines_created++;
    count_when_freed(pipeline.get(), stats_, &ServerStats::pipelines_freed);
  }
}

void Server::on_live_configure(GstRTSPMediaFactory *, GstRTSPMedia *media, gpointer data) {
  auto &self = *static_cast<Server *>(data);
  self.track(media);
  self.stats_->live_media++;
  auto element = ObjectRef<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto appsrc = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(element.get()), "feed"));
  g_object_set(appsrc.get(), "caps", self.live_->caps(), nullptr);
  if (!self.live_->attach(media, appsrc.get())) {
    g_printerr("steady-rtsp: could not give a /live client its branch\n");
    return;
  }
  // The branch goes with the media's pipeline. A weak pointer: the media may outlive us.
  g_signal_connect_data(media, "unprepared", G_CALLBACK(+[](GstRTSPMedia *media, gpointer data) {
                          if (auto live = static_cast<std::weak_ptr<LiveSource> *>(data)->lock())
                            live->detach(media);
                        }),
                        new std::weak_ptr<LiveSource>(self.live_),
                        delete_as<std::weak_ptr<LiveSource>>, GConnectFlags(0));
  // A media finalized without being unprepared (never prepared) must not keep a branch either.
  struct DetachOnFree {
    std::weak_ptr<LiveSource> live;
    GstRTSPMedia *media;
    ~DetachOnFree() {
      if (auto source = live.lock())
        source->detach(media);
    }
  };
  g_object_set_data_full(G_OBJECT(media), "steady-rtsp-branch", new DetachOnFree{self.live_, media},
                         [](gpointer data) { delete static_cast<DetachOnFree *>(data); });
}

void Server::on_transcode_configure(GstRTSPMediaFactory *, GstRTSPMedia *media, gpointer data) {
  auto &self = *static_cast<Server *>(data);
  self.track(media);
  self.stats_->transcode_media++;
  auto element = ObjectRef<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto enc = ObjectRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(element.get()), "enc"));
  if (!enc)
    return;
  // Once the session's encoder has produced its first buffer, note whether vapoolenc took it
  // from the pool.
  auto pad = ObjectRef<GstPad>::adopt(gst_element_get_static_pad(enc.get(), "src"));
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
        auto &stats = **static_cast<std::shared_ptr<ServerStats> *>(data);
        stats.transcode_started++;
        GstElement *enc = GST_PAD_PARENT(pad);
        if (enc && g_object_class_find_property(G_OBJECT_GET_CLASS(enc), "reused")) {
          gboolean reused = FALSE;
          g_object_get(enc, "reused", &reused, nullptr);
          if (reused)
            stats.transcode_reused++;
        }
        return GST_PAD_PROBE_REMOVE;
      },
      new std::shared_ptr<ServerStats>(self.stats_),
      [](gpointer data) { delete static_cast<std::shared_ptr<ServerStats> *>(data); });
}

void Server::on_client_connected(GstRTSPServer *, GstRTSPClient *client, gpointer data) {
  auto &self = *static_cast<Server *>(data);
  if (self.options_.client_sndbuf_kib > 0) {
    // Bound what the kernel queues for a client that stops reading: TCP-interleaved media
    // then back-pressures its pipeline within seconds instead of after megabytes.
    GstRTSPConnection *connection = gst_rtsp_client_get_connection(client);
    if (GSocket *socket = connection ? gst_rtsp_connection_get_write_socket(connection) : nullptr) {
      const int bytes = self.options_.client_sndbuf_kib * 1024;
      if (setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0)
        GST_WARNING("cannot set SO_SNDBUF on a client connection: %s", g_strerror(errno));
    }
  }
  self.stats_->clients++;
  self.stats_->clients_total++;
  g_signal_connect_data(client, "closed", G_CALLBACK(+[](GstRTSPClient *, gpointer data) {
                          (**static_cast<std::shared_ptr<ServerStats> *>(data)).clients--;
                        }),
                        new std::shared_ptr<ServerStats>(self.stats_),
                        delete_as<std::shared_ptr<ServerStats>>, GConnectFlags(0));
  g_signal_connect_data(client, "new-session",
                        G_CALLBACK(+[](GstRTSPClient *, GstRTSPSession *session, gpointer data) {
                          gst_rtsp_session_set_timeout(session, GPOINTER_TO_UINT(data));
                        }),
                        GUINT_TO_POINTER(static_cast<guint>(self.options_.session_timeout_s)),
                        nullptr, GConnectFlags(0));
}

void Server::evict(GstRTSPMedia *media) {
  if (!server_)
    return;
  stats_->evicted_clients++;
  // Closing the connection makes rtsp-server stop and drop the client's sessions
  // (stop-on-disconnect), which unprepares the media and sets its pipeline to NULL.
  GList *closed = gst_rtsp_server_client_filter(
      server_.get(),
      [](GstRTSPServer *, GstRTSPClient *client, gpointer data) {
        GList *sessions = gst_rtsp_client_session_filter(
            client,
            [](GstRTSPClient *, GstRTSPSession *session, gpointer data) {
              return session_plays(session, static_cast<GstRTSPMedia *>(data))
                         ? GST_RTSP_FILTER_REF
                         : GST_RTSP_FILTER_KEEP;
            },
            data);
        const bool plays = sessions != nullptr;
        g_list_free_full(sessions, g_object_unref);
        return plays ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
      },
      media);
  g_list_free_full(closed, g_object_unref);
  // And any session still holding it (a UDP client whose connection is gone already).
  GList *removed = gst_rtsp_session_pool_filter(
      pool_.get(),
      [](GstRTSPSessionPool *, GstRTSPSession *session, gpointer data) {
        return session_plays(session, static_cast<GstRTSPMedia *>(data)) ? GST_RTSP_FILTER_REMOVE
                                                                         : GST_RTSP_FILTER_KEEP;
      },
      media);
  g_list_free_full(removed, g_object_unref);
}

bool Server::shutdown() {
  if (!server_)
    return true;
  if (server_source_) {
    g_source_remove(server_source_);
    server_source_ = 0;
  }
  if (cleanup_source_) {
    g_source_remove(cleanup_source_);
    cleanup_source_ = 0;
  }
  GList *clients = gst_rtsp_server_client_filter(
      server_.get(),
      [](GstRTSPServer *, GstRTSPClient *, gpointer) { return GST_RTSP_FILTER_REMOVE; }, nullptr);
  g_list_free_full(clients, g_object_unref);
  GList *sessions = gst_rtsp_session_pool_filter(
      pool_.get(),
      [](GstRTSPSessionPool *, GstRTSPSession *, gpointer) { return GST_RTSP_FILTER_REMOVE; },
      nullptr);
  g_list_free_full(sessions, g_object_unref);

  // Media are unprepared by rtsp-server's own threads; let them finish (bounded).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto all_freed = [this] {
    return stats_->media_freed.load() == stats_->media_created.load() &&
           stats_->pipelines_freed.load() == stats_->pipelines_created.load();
  };
  while (!all_freed() && std::chrono::steady_clock::now() < deadline) {
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(10 * 1000);
  }
  pool_.reset();
  server_.reset();
  // Mount points and factories went with the server; this ends rtsp-server's thread pools.
  gst_rtsp_thread_pool_cleanup();
  return all_freed();
}

std::string Server::status_line(double uptime_s) const {
  const steady_examples::ProcStats proc = steady_examples::ProcStats::sample();
  const ServerStats &s = *stats_;
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(0);
  out << "status t=" << uptime_s << "s variant=" << (options_.baseline ? "baseline" : "steady")
      << " clients=" << s.clients.load()
      << " sessions=" << (pool_ ? gst_rtsp_session_pool_get_n_sessions(pool_.get()) : 0)
      << " media-alive=" << (s.media_created.load() - s.media_freed.load())
      << " pipelines-alive=" << (s.pipelines_created.load() - s.pipelines_freed.load())
      << " media-total=" << s.media_created.load() << " live-branches=" << live_->branches()
      << " evicted=" << s.evicted_clients.load()
      << " transcode-reused=" << s.transcode_reused.load() << '/' << s.transcode_started.load();
  if (GstStructure *pool = live_->pool_stats()) {
    out << structure_fields(pool, "pool-");
    gst_structure_free(pool);
  }
  out << live_->describe();
  out.precision(1);
  out << " fds=" << proc.fds_summary() << " threads=" << proc.threads
      << " rss-mib=" << static_cast<double>(proc.rss_bytes) / (1024.0 * 1024.0);
  return out.str();
}

std::string Server::final_summary() const {
  const ServerStats &s = *stats_;
  std::ostringstream out;
  out << "final clients-total=" << s.clients_total.load()
      << " media-created=" << s.media_created.load() << " media-freed=" << s.media_freed.load()
      << " pipelines-created=" << s.pipelines_created.load()
      << " pipelines-freed=" << s.pipelines_freed.load() << " live-media=" << s.live_media.load()
      << " transcode-media=" << s.transcode_media.load()
      << " transcode-reused=" << s.transcode_reused.load() << '/' << s.transcode_started.load()
      << " evicted=" << s.evicted_clients.load();
  return out.str();
}

}  // namespace steady_rtsp
