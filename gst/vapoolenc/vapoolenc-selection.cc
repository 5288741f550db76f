#include "vapoolenc-selection.h"

#include <gst/gst.h>

#include <algorithm>
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

std::vector<std::string> SystemAvailability::va_device_variants(const std::string &factory) {
  std::vector<std::string> out;
  if (factory.rfind("va", 0) != 0)
    return out;
  const std::string suffix = factory.substr(2);  // "h264enc"
  GList *features = gst_registry_get_feature_list(gst_registry_get(), GST_TYPE_ELEMENT_FACTORY);
  for (GList *l = features; l; l = l->next) {
    const std::string name = gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(l->data));
    if (name.rfind("varenderD", 0) == 0 && name.size() > suffix.size() + 9 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        classify_factory(name, false) == EncoderKind::kVa) {
      const std::string digits = name.substr(9, name.size() - suffix.size() - 9);
      if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos)
        out.push_back(name);
    }
  }
  gst_plugin_feature_list_free(features);
  std::sort(out.begin(), out.end());
  return out;
}

std::string join(const std::vector<std::string> &items, const char *sep) {
  std::string out;
  for (const auto &i : items)
    out += (out.empty() ? "" : sep) + i;
  return out;
}

namespace {

bool node_encodes(const NodeInfo &info, Codec codec, const std::string &factory, EncoderKind kind,
                  std::string *why) {
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
      *why = info.path + " lacks " + (lp ? "EncSliceLP" : "EncSlice") + " for " + codec_name(codec);
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

// The built-in gstreamer-vaapi encoders for a codec.
std::vector<std::string> vaapi_factories(Codec codec) {
  std::vector<std::string> out;
  for (const auto &f : hardware_order(codec))
    if (classify_factory(f, false) == EncoderKind::kVaapi)
      out.push_back(f);
  return out;
}

bool vaapi_installed(Codec codec, Availability &sys) {
  for (const auto &f : vaapi_factories(codec))
    if (sys.factory_exists(f))
      return true;
  return false;
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
    const bool builtin = req.hardware_factories.empty();
    std::vector<std::string> hw;
    if (builtin) {
      // The built-in order, with the va plugin's per-device twins after their first-node factory.
      for (const auto &f : hardware_order(*codec)) {
        hw.push_back(f);
        for (const auto &twin : sys.va_device_variants(f))
          hw.push_back(twin);
      }
    } else {
      hw = split_list(req.hardware_factories);
    }
    for (const auto &factory : hw) {
      Candidate c;
      c.factory = factory;
      c.kind = classify_factory(factory, false);
      if (!kind_serves_device(c.kind, req.device)) {
        if (!req.hardware_factories.empty())
          sel.rejected.push_back(factory + ": a " + kind_name(c.kind) +
                                 " encoder, not device=" + device_name(req.device));
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
    if (builtin) {
      // Default render node: the first (in enumeration order) whose driver encodes the codec.
      // va candidates are ordered node first, keeping the built-in order within a node; they
      // lead the built-in list anyway.
      const auto nodes = sys.render_nodes();
      auto rank = [&](const Candidate &c) {
        auto it = std::find(nodes.begin(), nodes.end(), c.node);
        return static_cast<size_t>(it - nodes.begin());
      };
      auto va_end =
          std::stable_partition(sel.candidates.begin(), sel.candidates.end(),
                                [](const Candidate &c) { return c.kind == EncoderKind::kVa; });
      std::stable_sort(sel.candidates.begin(), va_end,
                       [&](const Candidate &a, const Candidate &b) { return rank(a) < rank(b); });
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
        what = "device=software: no software " + std::string(codec_name(*codec)) + " encoder (" +
               join(sel.rejected, "; ") +
               "). Install one or set software-factory to an installed encoder";
        break;
      case Device::kAuto:
        what = "device=auto: no usable " + std::string(codec_name(*codec)) + " encoder (" +
               join(sel.rejected, "; ") +
               "). Install a software encoder or set software-factory/hardware-factories";
        break;
      case Device::kVaapi:
        if (req.hardware_factories.empty() && !vaapi_factories(*codec).empty() &&
            !vaapi_installed(*codec, sys)) {
          // gstreamer-vaapi is optional: rank NONE in 1.26, removed upstream in 1.28.
          what = "device=vaapi: the gstreamer-vaapi elements are not installed (no " +
                 join(vaapi_factories(*codec), ", ") +
                 "; gstreamer-vaapi registers them only where it opens a VA device): install "
                 "gstreamer-vaapi (Debian: gstreamer1.0-vaapi), or use device=va "
                 "for the va plugin's encoders or device=auto to fall back to software";
          break;
        }
        [[fallthrough]];
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
