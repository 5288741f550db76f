// Surfaces (4:2:0, NV12 or I420 in memory), images (created or derived from a surface, whose
// pixels they then share), vaGetImage/vaPutImage copies, and the formats vasim reports.
#include "vasim-driver.h"

#include <cstring>

namespace vasim {

namespace {

uint32_t align(uint32_t v, uint32_t a) {
  return (v + a - 1) / a * a;
}

bool supported_fourcc(uint32_t f) {
  return f == VA_FOURCC_NV12 || f == VA_FOURCC_I420 || f == VA_FOURCC_YV12;
}

}  // namespace

Layout make_layout(uint32_t fourcc, uint32_t width, uint32_t height) {
  Layout l;
  l.fourcc = fourcc;
  l.width = width;
  l.height = height;
  // Storage covers whole macroblocks so the encoder can read every one of them.
  const uint32_t aw = align(width, 16), ah = align(height, 16);
  l.pitches[0] = align(aw, 64);
  l.offsets[0] = 0;
  const uint32_t luma = l.pitches[0] * ah;
  if (fourcc == VA_FOURCC_NV12) {
    l.planes = 2;
    l.pitches[1] = l.pitches[0];
    l.offsets[1] = luma;
    l.size = luma + l.pitches[1] * ah / 2;
  } else {
    l.planes = 3;
    l.pitches[1] = l.pitches[2] = l.pitches[0] / 2;
    const uint32_t chroma = l.pitches[1] * ah / 2;
    l.offsets[1] = luma;
    l.offsets[2] = luma + chroma;
    l.size = luma + 2 * chroma;
  }
  return l;
}

PlaneView view_of(const Layout &l, const uint8_t *data) {
  PlaneView v;
  v.y = data + l.offsets[0];
  v.y_pitch = l.pitches[0];
  v.c_pitch = l.pitches[1];
  v.width = l.width;
  v.height = l.height;
  if (l.fourcc == VA_FOURCC_NV12) {
    v.u = data + l.offsets[1];
    v.v = data + l.offsets[1] + 1;
    v.c_step = 2;
  } else {
    const bool yv12 = l.fourcc == VA_FOURCC_YV12;  // V plane first
    v.u = data + l.offsets[yv12 ? 2 : 1];
    v.v = data + l.offsets[yv12 ? 1 : 2];
    v.c_step = 1;
  }
  return v;
}

void copy_rect(const Layout &sl, const uint8_t *src, int sx, int sy, const Layout &dl, uint8_t *dst,
               int dx, int dy, uint32_t w, uint32_t h) {
  const PlaneView s = view_of(sl, src);
  const PlaneView d = view_of(dl, dst);
  for (uint32_t y = 0; y < h; ++y)
    std::memcpy(const_cast<uint8_t *>(d.y) + static_cast<size_t>(dy + y) * d.y_pitch + dx,
                s.y + static_cast<size_t>(sy + y) * s.y_pitch + sx, w);
  const uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
  const int csx = sx / 2, csy = sy / 2, cdx = dx / 2, cdy = dy / 2;
  for (uint32_t y = 0; y < ch; ++y) {
    const size_t so = static_cast<size_t>(csy + y) * s.c_pitch;
    const size_t doff = static_cast<size_t>(cdy + y) * d.c_pitch;
    for (uint32_t x = 0; x < cw; ++x) {
      const_cast<uint8_t *>(d.u)[doff + (cdx + x) * d.c_step] = s.u[so + (csx + x) * s.c_step];
      const_cast<uint8_t *>(d.v)[doff + (cdx + x) * d.c_step] = s.v[so + (csx + x) * s.c_step];
    }
  }
}

namespace {

VAStatus create_surfaces2(VADriverContextP ctx, unsigned int format, unsigned int width,
                          unsigned int height, VASurfaceID *surfaces, unsigned int num,
                          VASurfaceAttrib *attribs, unsigned int num_attribs) {
  if (format != VA_RT_FORMAT_YUV420)
    return VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT;
  if (width == 0 || height == 0 || width > kMaxSize || height > kMaxSize)
    return VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED;
  uint32_t fourcc = VA_FOURCC_NV12;
  for (unsigned int i = 0; attribs && i < num_attribs; ++i) {
    if (!(attribs[i].flags & VA_SURFACE_ATTRIB_SETTABLE))
      continue;
    if (attribs[i].type == VASurfaceAttribPixelFormat) {
      fourcc = static_cast<uint32_t>(attribs[i].value.value.i);
      if (!supported_fourcc(fourcc))
        return VA_STATUS_ERROR_INVALID_IMAGE_FORMAT;
    } else if (attribs[i].type == VASurfaceAttribMemoryType) {
      if (static_cast<uint32_t>(attribs[i].value.value.i) != VA_SURFACE_ATTRIB_MEM_TYPE_VA)
        return VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE;
    }
  }
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  for (unsigned int i = 0; i < num; ++i) {
    Surface s;
    s.layout = make_layout(fourcc, width, height);
    // Mid-grey luma/chroma, like an uninitialised but valid picture.
    s.data = std::make_shared<Bytes>(s.layout.size, 0x80);
    const VASurfaceID id = d->new_id();
    d->surfaces.emplace(id, std::move(s));
    count_up(Kind::Surface);
    surfaces[i] = id;
  }
  return VA_STATUS_SUCCESS;
}

VAStatus create_surfaces(VADriverContextP ctx, int width, int height, int format, int num,
                         VASurfaceID *surfaces) {
  if (width <= 0 || height <= 0 || num < 0)
    return VA_STATUS_ERROR_INVALID_PARAMETER;
  return create_surfaces2(ctx, static_cast<unsigned>(format), static_cast<unsigned>(width),
                          static_cast<unsigned>(height), surfaces, static_cast<unsigned>(num),
                          nullptr, 0);
}

VAStatus destroy_surfaces(VADriverContextP ctx, VASurfaceID *list, int num) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  for (int i = 0; i < num; ++i)
    if (d->surfaces.count(list[i]) == 0)
      return VA_STATUS_ERROR_INVALID_SURFACE;
  for (int i = 0; i < num; ++i) {
    d->surfaces.erase(list[i]);
    count_down(Kind::Surface);
  }
  return VA_STATUS_SUCCESS;
}

VAStatus query_surface_attributes(VADriverContextP ctx, VAConfigID config, VASurfaceAttrib *list,
                                  unsigned int *num) {
  {
    Driver *d = drv(ctx);
    std::lock_guard<std::mutex> g(d->lock);
    if (d->configs.count(config) == 0)
      return VA_STATUS_ERROR_INVALID_CONFIG;
  }
  VASurfaceAttrib attrs[7];
  unsigned int n = 0;
  auto add = [&](VASurfaceAttribType type, uint32_t flags, int value) {
    attrs[n].type = type;
    attrs[n].flags = flags;
    attrs[n].value.type = VAGenericValueTypeInteger;
    attrs[n].value.value.i = value;
    ++n;
  };
  const uint32_t rw = VA_SURFACE_ATTRIB_GETTABLE | VA_SURFACE_ATTRIB_SETTABLE;
  add(VASurfaceAttribPixelFormat, rw, static_cast<int>(VA_FOURCC_NV12));
  add(VASurfaceAttribPixelFormat, rw, static_cast<int>(VA_FOURCC_I420));
  add(VASurfaceAttribMinWidth, VA_SURFACE_ATTRIB_GETTABLE, 16);
  add(VASurfaceAttribMinHeight, VA_SURFACE_ATTRIB_GETTABLE, 16);
  add(VASurfaceAttribMaxWidth, VA_SURFACE_ATTRIB_GETTABLE, kMaxSize);
  add(VASurfaceAttribMaxHeight, VA_SURFACE_ATTRIB_GETTABLE, kMaxSize);
  add(VASurfaceAttribMemoryType, rw, static_cast<int>(VA_SURFACE_ATTRIB_MEM_TYPE_VA));
  if (!list) {
    *num = n;
    return VA_STATUS_SUCCESS;
  }
  if (*num < n) {
    *num = n;
    return VA_STATUS_ERROR_MAX_NUM_EXCEEDED;
  }
  std::memcpy(list, attrs, sizeof(VASurfaceAttrib) * n);
  *num = n;
  return VA_STATUS_SUCCESS;
}

void fill_format(VAImageFormat *f, uint32_t fourcc) {
  std::memset(f, 0, sizeof(*f));
  f->fourcc = fourcc;
  f->byte_order = VA_LSB_FIRST;
  f->bits_per_pixel = 12;
}

VAStatus query_image_formats(VADriverContextP, VAImageFormat *list, int *num) {
  fill_format(&list[0], VA_FOURCC_NV12);
  fill_format(&list[1], VA_FOURCC_I420);
  fill_format(&list[2], VA_FOURCC_YV12);
  *num = 3;
  return VA_STATUS_SUCCESS;
}

// Registers an image over `data` (fresh or shared with a surface); lock held.
VAStatus add_image_locked(Driver *d, const Layout &l, std::shared_ptr<Bytes> data,
                          VASurfaceID derived_from, VAImage *out) {
  Buffer b;
  b.type = VAImageBufferType;
  b.size = l.size;
  b.num_elements = 1;
  b.data = std::move(data);
  b.image_buffer = true;
  const VABufferID buf_id = d->new_id();
  d->buffers.emplace(buf_id, std::move(b));
  count_up(Kind::Buffer);

  Image img;
  img.layout = l;
  img.derived_from = derived_from;
  VAImage &v = img.image;
  v.image_id = d->new_id();
  fill_format(&v.format, l.fourcc);
  v.buf = buf_id;
  v.width = static_cast<uint16_t>(l.width);
  v.height = static_cast<uint16_t>(l.height);
  v.data_size = l.size;
  v.num_planes = l.planes;
  for (int i = 0; i < 3; ++i) {
    v.pitches[i] = l.pitches[i];
    v.offsets[i] = l.offsets[i];
  }
  *out = v;
  d->images.emplace(v.image_id, std::move(img));
  count_up(Kind::Image);
  return VA_STATUS_SUCCESS;
}

VAStatus create_image(VADriverContextP ctx, VAImageFormat *format, int width, int height,
                      VAImage *out) {
  if (!format || !supported_fourcc(format->fourcc))
    return VA_STATUS_ERROR_INVALID_IMAGE_FORMAT;
  if (width <= 0 || height <= 0 || width > kMaxSize || height > kMaxSize)
    return VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED;
  const Layout l =
      make_layout(format->fourcc, static_cast<uint32_t>(width), static_cast<uint32_t>(height));
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  return add_image_locked(d, l, std::make_shared<Bytes>(l.size, 0), VA_INVALID_ID, out);
}

VAStatus derive_image(VADriverContextP ctx, VASurfaceID surface, VAImage *out) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->surfaces.find(surface);
  if (it == d->surfaces.end())
    return VA_STATUS_ERROR_INVALID_SURFACE;
  ++it->second.derived_images;
  return add_image_locked(d, it->second.layout, it->second.data, surface, out);
}

VAStatus destroy_image(VADriverContextP ctx, VAImageID id) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->images.find(id);
  if (it == d->images.end())
    return VA_STATUS_ERROR_INVALID_IMAGE;
  auto s = d->surfaces.find(it->second.derived_from);
  if (s != d->surfaces.end())
    --s->second.derived_images;
  if (d->buffers.erase(it->second.image.buf) != 0)
    count_down(Kind::Buffer);
  d->images.erase(it);
  count_down(Kind::Image);
  return VA_STATUS_SUCCESS;
}

// Finds an image and its pixels; lock held.
bool image_pixels(Driver *d, VAImageID id, Image **img, uint8_t **pixels) {
  auto it = d->images.find(id);
  if (it == d->images.end())
    return false;
  auto b = d->buffers.find(it->second.image.buf);
  if (b == d->buffers.end() || !b->second.data)
    return false;
  *img = &it->second;
  *pixels = b->second.data->data();
  return true;
}

bool inside(const Layout &l, int x, int y, unsigned w, unsigned h) {
  return x >= 0 && y >= 0 && static_cast<uint64_t>(x) + w <= l.width &&
         static_cast<uint64_t>(y) + h <= l.height;
}

VAStatus get_image(VADriverContextP ctx, VASurfaceID surface, int x, int y, unsigned int w,
                   unsigned int h, VAImageID image) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto s = d->surfaces.find(surface);
  if (s == d->surfaces.end())
    return VA_STATUS_ERROR_INVALID_SURFACE;
  Image *img = nullptr;
  uint8_t *pixels = nullptr;
  if (!image_pixels(d, image, &img, &pixels))
    return VA_STATUS_ERROR_INVALID_IMAGE;
  if (!inside(s->second.layout, x, y, w, h) || !inside(img->layout, 0, 0, w, h))
    return VA_STATUS_ERROR_INVALID_PARAMETER;
  copy_rect(s->second.layout, s->second.data->data(), x, y, img->layout, pixels, 0, 0, w, h);
  return VA_STATUS_SUCCESS;
}

VAStatus put_image(VADriverContextP ctx, VASurfaceID surface, VAImageID image, int sx, int sy,
                   unsigned int sw, unsigned int sh, int dx, int dy, unsigned int dw,
                   unsigned int dh) {
  if (sw != dw || sh != dh)
    return VA_STATUS_ERROR_UNIMPLEMENTED;  // no scaling
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto s = d->surfaces.find(surface);
  if (s == d->surfaces.end())
    return VA_STATUS_ERROR_INVALID_SURFACE;
  Image *img = nullptr;
  uint8_t *pixels = nullptr;
  if (!image_pixels(d, image, &img, &pixels))
    return VA_STATUS_ERROR_INVALID_IMAGE;
  if (!inside(img->layout, sx, sy, sw, sh) || !inside(s->second.layout, dx, dy, dw, dh))
    return VA_STATUS_ERROR_INVALID_PARAMETER;
  copy_rect(img->layout, pixels, sx, sy, s->second.layout, s->second.data->data(), dx, dy, sw, sh);
  return VA_STATUS_SUCCESS;
}

VAStatus sync_surface(VADriverContextP ctx, VASurfaceID surface) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  return d->surfaces.count(surface) ? VA_STATUS_SUCCESS : VA_STATUS_ERROR_INVALID_SURFACE;
}

VAStatus sync_surface2(VADriverContextP ctx, VASurfaceID surface, uint64_t) {
  return sync_surface(ctx, surface);
}

VAStatus query_surface_status(VADriverContextP ctx, VASurfaceID surface, VASurfaceStatus *status) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  if (d->surfaces.count(surface) == 0)
    return VA_STATUS_ERROR_INVALID_SURFACE;
  *status = VASurfaceReady;  // encoding completes inside vaEndPicture
  return VA_STATUS_SUCCESS;
}

}  // namespace

void install_surface_vtable(VADriverVTable *vt) {
  vt->vaCreateSurfaces = create_surfaces;
  vt->vaCreateSurfaces2 = create_surfaces2;
  vt->vaDestroySurfaces = destroy_surfaces;
  vt->vaQuerySurfaceAttributes = query_surface_attributes;
  vt->vaQueryImageFormats = query_image_formats;
  vt->vaCreateImage = create_image;
  vt->vaDeriveImage = derive_image;
  vt->vaDestroyImage = destroy_image;
  vt->vaGetImage = get_image;
  vt->vaPutImage = put_image;
  vt->vaSyncSurface = sync_surface;
  vt->vaSyncSurface2 = sync_surface2;
  vt->vaQuerySurfaceStatus = query_surface_status;
}

}  // namespace vasim
