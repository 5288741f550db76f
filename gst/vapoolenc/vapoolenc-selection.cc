#include "vapoolenc-selection.h"

#include <gst/gst.h>

#include <cstdlib>

namespace vapoolenc {

const Candidate *Selection::software() const {
  for (const auto &c : candidates)
    if (!c.hardware())
      return &c;
  return nullptr;
}

bool SystemAvailability::factory_exists(const std::string &factory) {
  GstElementFactory *f = gst_element_factory_find(factory.c_str());
  if (!f)
    return false;
  gst_object_unref(f);
  return true;
}

std::string join(const std::vector<std::string> &items, const char *sep) {
  std::string out;
  for (const auto &i : items)
    out += (out.empty() ? "" : sep) + i;
  return out;
}

namespace {

bool node_encodes(const NodeInfo &info, Codec codec, const std::string &factory,
                  EncoderKind kind, std::string *why) {
  if (!info.opened) {
    *why = info.error;
    return false;
  }
  auto it = info.encode.find(codec);
  if (it == info.encode.end()) {
    *why = info.path + " has no VA encode entrypoint for " + codec_name(codec);
    return false;
  }
  if (kind == EncoderKind::kVa) {
    bool lp = wants_low_power(factory);
    if (lp ? !it->second.slice_lp : !it->second.slice) {
      *why = info.path + " lacks " + (lp ? "EncSliceLP" : "EncSlice") + " for " +
             codec_name(codec);
      return false;
    }
  }
  return true;
}

// Resolves the render node of a hardware candidate and checks it; false (with a reason) when
// the candidate cannot be used.
bool resolve_node(Candidate &c, Codec codec, const SelectionRequest &req, Availability &sys,
                  std::string *why) {
  if (c.kind == EncoderKind::kVa) {
    std::string path = sys.va_device_path(c.factory);
    if (path.empty()) {
      auto nodes = sys.render_nodes();
      if (nodes.empty()) {
        *why = "no render node";
        return false;
      }
      path = nodes.front();
    }
    if (!req.render_node.empty() && path != req.render_node) {
      *why = "bound to " + path + ", not render-node " + req.render_node;
      return false;
    }
    c.node = path;
    return node_encodes(sys.node(path), codec, c.factory, c.kind, why);
  }
  if (c.kind == EncoderKind::kVaapi) {
    // gstreamer-vaapi opens GST_VAAPI_DRM_DEVICE, else the first render node it finds.
    std::string path;
    if (const char *env = std::getenv("GST_VAAPI_DRM_DEVICE"))
      path = env;
    auto nodes = sys.render_nodes();
    if (path.empty() && !nodes.empty())
      path = nodes.front();
    if (path.empty()) {
      *why = "no render node";
      return false;
    }
    if (!req.render_node.empty() && path != req.render_node) {
      *why = "uses " + path + " (GST_VAAPI_DRM_DEVICE), not render-node " + req.render_node;
      return false;
    }
    c.node = path;
    return node_encodes(sys.node(path), codec, c.factory, c.kind, why);
  }
  c.node.clear();  // nvenc and other hardware: not bound to a DRM render node
  return true;
}

}  // namespace

Selection select_candidates(const SelectionRequest &req, Availability &sys) {
  Selection sel;
  auto codec = parse_codec(req.codec);
  if (!codec) {
    sel.error = "unknown codec '" + req.codec + "': set codec to one of " + codec_names();
    return sel;
  }
  sel.codec = *codec;

  if (req.device != Device::kSoftware) {
    std::vector<std::string> hw = req.hardware_factories.empty()
                                      ? hardware_order(*codec)
                                      : split_list(req.hardware_factories);
    for (const auto &factory : hw) {
      Candidate c;
      c.factory = factory;
      c.kind = classify_factory(factory, false);
      if (!kind_serves_device(c.kind, req.device)) {
        if (!req.hardware_factories.empty())
          sel.rejected.push_back(factory + ": a " + kind_name(c.kind) + " encoder, not device=" +
                                 device_name(req.device));
        continue;
      }
      if (!sys.factory_exists(factory)) {
        sel.rejected.push_back(factory + ": not installed");
        continue;
      }
      std::string why;
      if (!resolve_node(c, *codec, req, sys, &why)) {
        sel.rejected.push_back(factory + ": " + why);
        continue;
      }
      if (req.probe == ProbeMode::kEncode) {
        EncodeTestResult r = sys.encode_test(c);
        if (!r.ok) {
          sel.rejected.push_back(factory + ": " + r.error);
          continue;
        }
      }
      sel.candidates.push_back(c);
    }
  }

  if (req.device == Device::kAuto || req.device == Device::kSoftware) {
    std::vector<std::string> sw = req.software_factory.empty()
                                      ? software_order(*codec)
                                      : std::vector<std::string>{req.software_factory};
    for (const auto &factory : sw) {
      if (!sys.factory_exists(factory)) {
        sel.rejected.push_back(factory + ": not installed");
        continue;
      }
      Candidate c;
      c.factory = factory;
      c.kind = EncoderKind::kSoftware;
      sel.candidates.push_back(c);
      break;
    }
  }

  if (sel.candidates.empty()) {
    std::string what;
    switch (req.device) {
      case Device::kSoftware:
        what = "device=software: no software " + std::string(codec_name(*codec)) +
               " encoder (" + join(sel.rejected, "; ") +
               "). Install one or set software-factory to an installed encoder";
        break;
      case Device::kAuto:
        what = "device=auto: no usable " + std::string(codec_name(*codec)) + " encoder (" +
               join(sel.rejected, "; ") +
               "). Install a software encoder or set software-factory/hardware-factories";
        break;
      default:
        what = "device=" + std::string(device_name(req.device)) + ": no usable " +
               codec_name(*codec) + " encoder (" +
               (sel.rejected.empty() ? std::string("no candidates") : join(sel.rejected, "; ")) +
               "). Use device=auto to fall back to software, or device=software";
        break;
    }
    sel.error = what;
    return sel;
  }
  sel.ok = true;
  return sel;
}

}  // namespace vapoolenc
