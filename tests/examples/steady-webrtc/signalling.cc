#include "signalling.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY_EXTERN(steady_webrtc_debug);
#define GST_CAT_DEFAULT steady_webrtc_debug

namespace steady_webrtc {

Signalling::Signalling(std::string web_root, Handlers handlers)
    : web_root_(std::move(web_root)), handlers_(std::move(handlers)) {}

Signalling::~Signalling() {
  while (!connections_.empty())
    forget(connections_.begin()->first);
  if (server_) {
    soup_server_disconnect(server_);
    g_object_unref(server_);
  }
}

bool Signalling::start(const std::string &address, int port, std::string &error) {
  server_ = soup_server_new("server-header", "steady-webrtc", nullptr);
  soup_server_add_handler(server_, "/", on_http, this, nullptr);
  soup_server_add_websocket_handler(server_, "/ws", nullptr, nullptr, on_websocket, this, nullptr);
  GInetAddress *inet = g_inet_address_new_from_string(address.c_str());
  if (!inet) {
    error = "--address " + address + " is not a numeric IP address";
    return false;
  }
  GSocketAddress *socket_address = g_inet_socket_address_new(inet, static_cast<guint16>(port));
  g_object_unref(inet);
  GError *gerror = nullptr;
  const gboolean ok =
      soup_server_listen(server_, socket_address, SoupServerListenOptions(0), &gerror);
  g_object_unref(socket_address);
  if (!ok) {
    error = "cannot listen on " + address + ":" + std::to_string(port) + ": " + gerror->message;
    g_error_free(gerror);
    return false;
  }
  GSList *uris = soup_server_get_uris(server_);
  if (uris) {
    gchar *text = g_uri_to_string(static_cast<GUri *>(uris->data));
    url_ = text;
    g_free(text);
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  return true;
}

void Signalling::on_http(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                         gpointer data) {
  auto *self = static_cast<Signalling *>(data);
  if (g_strcmp0(path, "/") != 0 && g_strcmp0(path, "/index.html") != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, nullptr);
    return;
  }
  const std::string file = self->web_root_ + "/index.html";
  gchar *contents = nullptr;
  gsize length = 0;
  if (!g_file_get_contents(file.c_str(), &contents, &length, nullptr)) {
    GST_WARNING("cannot read %s (see --web-root)", file.c_str());
    soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response(msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE, contents,
                                   length);
}

void Signalling::on_websocket(SoupServer *, SoupServerMessage *, const char *,
                              SoupWebsocketConnection *conn, gpointer data) {
  auto *self = static_cast<Signalling *>(data);
  const std::uint64_t id = self->next_id_++;
  self->connections_[id] = static_cast<SoupWebsocketConnection *>(g_object_ref(conn));
  g_signal_connect(conn, "message", G_CALLBACK(on_ws_message), self);
  g_signal_connect(conn, "closed", G_CALLBACK(on_ws_closed), self);
  self->handlers_.connected(id);
}

std::uint64_t Signalling::id_of(SoupWebsocketConnection *conn) const {
  for (const auto &[id, c] : connections_)
    if (c == conn)
      return id;
  return 0;
}

void Signalling::on_ws_message(SoupWebsocketConnection *conn, gint type, GBytes *bytes,
                               gpointer data) {
  auto *self = static_cast<Signalling *>(data);
  const std::uint64_t id = self->id_of(conn);
  if (!id || type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize size = 0;
  const auto *text = static_cast<const gchar *>(g_bytes_get_data(bytes, &size));
  JsonParser *parser = json_parser_new();
  GError *error = nullptr;
  if (!json_parser_load_from_data(parser, text, static_cast<gssize>(size), &error)) {
    GST_WARNING("peer %" G_GUINT64_FORMAT ": not JSON: %s", id, error->message);
    g_error_free(error);
  } else if (JsonNode *root = json_parser_get_root(parser); root && JSON_NODE_HOLDS_OBJECT(root)) {
    JsonObject *object = json_node_get_object(root);
    if (!json_string(object, "type").empty())
      self->handlers_.message(id, object);
    else
      GST_WARNING("peer %" G_GUINT64_FORMAT ": message without a type", id);
  }
  g_object_unref(parser);
}

void Signalling::on_ws_closed(SoupWebsocketConnection *conn, gpointer data) {
  auto *self = static_cast<Signalling *>(data);
  const std::uint64_t id = self->id_of(conn);
  if (!id)
    return;
  self->forget(id);
  self->handlers_.closed(id);
}

void Signalling::forget(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end())
    return;
  SoupWebsocketConnection *conn = it->second;
  connections_.erase(it);
  g_signal_handlers_disconnect_by_data(conn, this);
  if (soup_websocket_connection_get_state(conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
  g_object_unref(conn);
}

void Signalling::send(std::uint64_t id, JsonBuilder *builder) {
  json_builder_end_object(builder);
  auto it = connections_.find(id);
  if (it != connections_.end() &&
      soup_websocket_connection_get_state(it->second) == SOUP_WEBSOCKET_STATE_OPEN) {
    JsonNode *root = json_builder_get_root(builder);
    gchar *text = json_to_string(root, FALSE);
    soup_websocket_connection_send_text(it->second, text);
    g_free(text);
    json_node_unref(root);
  }
  g_object_unref(builder);
}

void Signalling::close(std::uint64_t id, const std::string &reason) {
  auto it = connections_.find(id);
  if (it == connections_.end())
    return;
  if (!reason.empty()) {
    JsonBuilder *bye = json_message("bye");
    json_builder_set_member_name(bye, "reason");
    json_builder_add_string_value(bye, reason.c_str());
    send(id, bye);
  }
  forget(id);
}

JsonBuilder *json_message(const char *type) {
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "type");
  json_builder_add_string_value(builder, type);
  return builder;
}

std::string json_string(JsonObject *object, const char *member) {
  JsonNode *node = json_object_get_member(object, member);
  if (!node || json_node_get_value_type(node) != G_TYPE_STRING)
    return {};
  return json_node_get_string(node);
}

gint64 json_int(JsonObject *object, const char *member, gint64 fallback) {
  JsonNode *node = json_object_get_member(object, member);
  if (!node || !JSON_NODE_HOLDS_VALUE(node))
    return fallback;
  const GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64)
    return json_node_get_int(node);
  if (type == G_TYPE_DOUBLE)
    return static_cast<gint64>(json_node_get_double(node));
  return fallback;
}

}  // namespace steady_webrtc
