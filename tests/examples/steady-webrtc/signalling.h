// The page and the signalling: one libsoup server serving web/index.html at / and a WebSocket
// at /ws, one connection per peer, JSON text messages (docs/steady-webrtc.md, "Protocol").
// Everything here runs on the main context.
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace steady_webrtc {

class Signalling {
 public:
  struct Handlers {
    // A peer connected: its id for every later call.
    std::function<void(std::uint64_t id)> connected;
    // A message arrived (parsed; "type" is a string).
    std::function<void(std::uint64_t id, JsonObject *message)> message;
    // The connection closed (the peer went, or close() finished).
    std::function<void(std::uint64_t id)> closed;
  };

  Signalling(std::string web_root, Handlers handlers);
  ~Signalling();

  // Listens on address:port (port 0: any free one); url() then names the page.
  bool start(const std::string &address, int port, std::string &error);
  std::string url() const { return url_; }

  void send(std::uint64_t id, JsonBuilder *message);  // takes the built object
  void close(std::uint64_t id, const std::string &reason);
  std::size_t connections() const { return connections_.size(); }

 private:
  static void on_http(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self);
  static void on_websocket(SoupServer *, SoupServerMessage *, const char *,
                           SoupWebsocketConnection *conn, gpointer self);
  static void on_ws_message(SoupWebsocketConnection *conn, gint type, GBytes *bytes, gpointer self);
  static void on_ws_closed(SoupWebsocketConnection *conn, gpointer self);
  std::uint64_t id_of(SoupWebsocketConnection *conn) const;
  void forget(std::uint64_t id);

  std::string web_root_;
  Handlers handlers_;
  SoupServer *server_ = nullptr;
  std::string url_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, SoupWebsocketConnection *> connections_;  // one reference each
};

// "{"type":"x",...}" helpers.
JsonBuilder *json_message(const char *type);                      // an open object with "type" set
std::string json_string(JsonObject *object, const char *member);  // "" when absent
gint64 json_int(JsonObject *object, const char *member, gint64 fallback);

}  // namespace steady_webrtc
