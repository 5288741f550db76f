// vasim_drv_video.so: a simulated VA-API driver for gst-steady's tests (never installed).
// libva loads it with LIBVA_DRIVERS_PATH=<dir> LIBVA_DRIVER_NAME=vasim and calls the entry
// point below; it then encodes H.264 (every macroblock I_PCM, so the stream decodes back to
// the exact input), counts every object it hands out (vasim.h) and injects faults on demand:
//   VASIM_MAX_CONTEXTS=N       the N+1th live vaCreateContext fails (ALLOCATION_FAILED)
//   VASIM_CONTEXT_DELAY_MS=ms  vaCreateContext takes this long (models context cost)
//   VASIM_FAIL_AFTER_FRAMES=N  vaEndPicture fails (ENCODING_ERROR) after N frames per context
//   VASIM_DUMP=stderr|<file>   one line of counts at every vaTerminate
// Try it: tests/vasim/vasim-env.sh gst-inspect-1.0 vaapih264enc (see docs/testing-va.md).
#include "vasim-driver.h"

#include <cstring>

namespace vasim {
namespace {

const char kVendor[] = "vasim simulated VA-API driver (gst-steady tests)";

VAStatus terminate(VADriverContextP ctx) {
  Driver *d = drv(ctx);
  int leaked = 0;
  {
    std::lock_guard<std::mutex> g(d->lock);
    // Like a real driver, free what the application left behind; count it as leaked.
    const int contexts = static_cast<int>(d->contexts.size());
    const int configs = static_cast<int>(d->configs.size());
    const int surfaces = static_cast<int>(d->surfaces.size());
    const int buffers = static_cast<int>(d->buffers.size());
    const int images = static_cast<int>(d->images.size());
    leaked = contexts + configs + surfaces + buffers + images;
    count_down(Kind::Context, contexts);
    count_down(Kind::Config, configs);
    count_down(Kind::Surface, surfaces);
    count_down(Kind::Buffer, buffers);
    count_down(Kind::Image, images);
  }
  note_leaked(leaked);
  delete d;
  ctx->pDriverData = nullptr;
  count_down(Kind::Display);
  dump_counts("vaTerminate", leaked);
  return VA_STATUS_SUCCESS;
}

VAStatus unimplemented() {
  return VA_STATUS_ERROR_UNIMPLEMENTED;
}

VAStatus put_surface(VADriverContextP, VASurfaceID, void *, short, short, unsigned short,
                     unsigned short, short, short, unsigned short, unsigned short, VARectangle *,
                     unsigned int, unsigned int) {
  return unimplemented();
}

VAStatus query_surface_error(VADriverContextP, VASurfaceID, VAStatus, void **) {
  return unimplemented();
}

VAStatus set_image_palette(VADriverContextP, VAImageID, unsigned char *) {
  return unimplemented();
}

VAStatus query_subpicture_formats(VADriverContextP, VAImageFormat *, unsigned int *flags,
                                  unsigned int *num) {
  if (flags)
    *flags = 0;
  *num = 0;
  return VA_STATUS_SUCCESS;
}

VAStatus create_subpicture(VADriverContextP, VAImageID, VASubpictureID *) {
  return unimplemented();
}
VAStatus destroy_subpicture(VADriverContextP, VASubpictureID) {
  return unimplemented();
}
VAStatus set_subpicture_image(VADriverContextP, VASubpictureID, VAImageID) {
  return unimplemented();
}
VAStatus set_subpicture_chromakey(VADriverContextP, VASubpictureID, unsigned int, unsigned int,
                                  unsigned int) {
  return unimplemented();
}
VAStatus set_subpicture_global_alpha(VADriverContextP, VASubpictureID, float) {
  return unimplemented();
}
VAStatus associate_subpicture(VADriverContextP, VASubpictureID, VASurfaceID *, int, short, short,
                              unsigned short, unsigned short, short, short, unsigned short,
                              unsigned short, unsigned int) {
  return unimplemented();
}
VAStatus deassociate_subpicture(VADriverContextP, VASubpictureID, VASurfaceID *, int) {
  return unimplemented();
}

// No display attributes: vasim has no output (vaPutSurface is not implemented).
VAStatus query_display_attributes(VADriverContextP, VADisplayAttribute *, int *num) {
  *num = 0;
  return VA_STATUS_SUCCESS;
}

VAStatus get_display_attributes(VADriverContextP, VADisplayAttribute *list, int num) {
  for (int i = 0; i < num; ++i)
    list[i].flags = VA_DISPLAY_ATTRIB_NOT_SUPPORTED;
  return VA_STATUS_SUCCESS;
}

VAStatus set_display_attributes(VADriverContextP, VADisplayAttribute *, int) {
  return VA_STATUS_ERROR_ATTR_NOT_SUPPORTED;
}

VAStatus lock_surface(VADriverContextP, VASurfaceID, unsigned int *, unsigned int *, unsigned int *,
                      unsigned int *, unsigned int *, unsigned int *, unsigned int *,
                      unsigned int *, void **) {
  return unimplemented();
}
VAStatus unlock_surface(VADriverContextP, VASurfaceID) {
  return unimplemented();
}

VAStatus export_surface_handle(VADriverContextP, VASurfaceID, uint32_t, uint32_t, void *) {
  return VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE;
}

}  // namespace

VAStatus driver_init(VADriverContextP ctx) {
  VADriverVTable *vt = ctx->vtable;
  if (!vt)
    return VA_STATUS_ERROR_INVALID_DISPLAY;
  ctx->version_major = VA_MAJOR_VERSION;
  ctx->version_minor = VA_MINOR_VERSION;
  ctx->max_profiles = kMaxProfiles;
  ctx->max_entrypoints = kMaxEntrypoints;
  ctx->max_attributes = kMaxAttributes;
  ctx->max_image_formats = kMaxImageFormats;
  ctx->max_subpic_formats = kMaxSubpicFormats;
  ctx->max_display_attributes = kMaxDisplayAttributes;
  ctx->str_vendor = kVendor;

  vt->vaTerminate = terminate;
  install_config_vtable(vt);
  install_surface_vtable(vt);
  install_encode_vtable(vt);
  vt->vaPutSurface = put_surface;
  vt->vaQuerySurfaceError = query_surface_error;
  vt->vaSetImagePalette = set_image_palette;
  vt->vaQuerySubpictureFormats = query_subpicture_formats;
  vt->vaCreateSubpicture = create_subpicture;
  vt->vaDestroySubpicture = destroy_subpicture;
  vt->vaSetSubpictureImage = set_subpicture_image;
  vt->vaSetSubpictureChromakey = set_subpicture_chromakey;
  vt->vaSetSubpictureGlobalAlpha = set_subpicture_global_alpha;
  vt->vaAssociateSubpicture = associate_subpicture;
  vt->vaDeassociateSubpicture = deassociate_subpicture;
  vt->vaQueryDisplayAttributes = query_display_attributes;
  vt->vaGetDisplayAttributes = get_display_attributes;
  vt->vaSetDisplayAttributes = set_display_attributes;
  vt->vaLockSurface = lock_surface;
  vt->vaUnlockSurface = unlock_surface;
  vt->vaExportSurfaceHandle = export_surface_handle;

  ctx->pDriverData = new Driver();
  count_up(Kind::Display);
  return VA_STATUS_SUCCESS;
}

}  // namespace vasim

// libva looks up __vaDriverInit_<major>_<minor>, newest version first.
#define VASIM_CAT(a, b, c) a##b##_##c
#define VASIM_INIT_NAME(major, minor) VASIM_CAT(__vaDriverInit_, major, minor)

extern "C" __attribute__((visibility("default"))) VAStatus VASIM_INIT_NAME(
    VA_MAJOR_VERSION, VA_MINOR_VERSION)(VADriverContextP ctx) {
  return vasim::driver_init(ctx);
}
