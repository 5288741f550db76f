// Internal state of vasim_drv_video.so: one Driver per initialised VA display, holding its
// objects by id under one mutex. Counters are process-wide (see vasim-counts.cc).
#pragma once

#include "vasim-h264.h"

#include <va/va.h>
#include <va/va_backend.h>
#include <va/va_enc_h264.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace vasim {

using Bytes = std::vector<uint8_t>;

enum class Kind { Display, Config, Context, Surface, Buffer, Image };
void count_up(Kind kind);
void count_down(Kind kind, int n = 1);
// Counts a new context unless `cap` (>= 0) contexts are live already; then counts a refusal
// and returns false. *live_now: the live contexts seen.
bool reserve_context(long cap, long *live_now);
void note_frame(bool failed);
void note_leaked(int n);
void dump_counts(const char *why, int leaked_here);

// Environment knobs, read when they matter (so a test can set them before it starts a
// pipeline): VASIM_MAX_CONTEXTS, VASIM_CONTEXT_DELAY_MS, VASIM_FAIL_AFTER_FRAMES.
long env_long(const char *name, long fallback);

struct Config {
  VAProfile profile;
  VAEntrypoint entrypoint;
  std::vector<VAConfigAttrib> attribs;
};

// A 4:2:0 picture in one allocation: NV12 (Y, interleaved UV) or I420/YV12 (Y, U, V).
struct Layout {
  uint32_t fourcc = VA_FOURCC_NV12;
  uint32_t width = 0, height = 0;
  uint32_t pitches[3] = {0, 0, 0};
  uint32_t offsets[3] = {0, 0, 0};
  uint32_t planes = 2;
  uint32_t size = 0;
};
Layout make_layout(uint32_t fourcc, uint32_t width, uint32_t height);
PlaneView view_of(const Layout &l, const uint8_t *data);
// Copies a rectangle between two 4:2:0 layouts of any supported fourcc (no scaling).
void copy_rect(const Layout &sl, const uint8_t *src, int sx, int sy, const Layout &dl, uint8_t *dst,
               int dx, int dy, uint32_t w, uint32_t h);

struct Surface {
  Layout layout;
  std::shared_ptr<Bytes> data;  // shared with images derived from it
  int derived_images = 0;
};

struct Buffer {
  VAContextID context = VA_INVALID_ID;
  VABufferType type = VABufferTypeMax;
  uint32_t size = 0;
  uint32_t num_elements = 0;
  std::shared_ptr<Bytes> data;  // parameters, image pixels (shared when derived)
  // Coded buffers: the segment handed out by vaMapBuffer and the bitstream it points at.
  VACodedBufferSegment segment{};
  Bytes coded;
  bool image_buffer = false;  // owned by an image: destroyed by vaDestroyImage
};

struct Image {
  VAImage image{};
  Layout layout;
  VASurfaceID derived_from = VA_INVALID_ID;
};

struct Context {
  VAConfigID config = VA_INVALID_ID;
  int width = 0, height = 0;
  std::vector<VASurfaceID> targets;
  VASurfaceID current = VA_INVALID_ID;  // between vaBeginPicture and vaEndPicture
  bool have_seq = false;
  VAEncSequenceParameterBufferH264 seq{};
  bool have_pic = false;
  VAEncPictureParameterBufferH264 pic{};
  long frames = 0;
  long fail_after = -1;  // VASIM_FAIL_AFTER_FRAMES when the context was created
  uint32_t idr_count = 0;
};

struct Driver {
  std::mutex lock;
  VAGenericID next_id = 0x10;
  std::map<VAConfigID, Config> configs;
  std::map<VAContextID, Context> contexts;
  std::map<VASurfaceID, Surface> surfaces;
  std::map<VABufferID, Buffer> buffers;
  std::map<VAImageID, Image> images;
  VAGenericID new_id() { return next_id++; }
};

inline Driver *drv(VADriverContextP ctx) {
  return static_cast<Driver *>(ctx->pDriverData);
}

// vtable parts, one file per responsibility.
void install_config_vtable(VADriverVTable *vt);   // vasim-config.cc
void install_surface_vtable(VADriverVTable *vt);  // vasim-surfaces.cc
void install_encode_vtable(VADriverVTable *vt);   // vasim-encode.cc

// Image and buffer helpers shared between files (call with the driver lock held).
VAStatus destroy_buffer_locked(Driver *d, VABufferID id);
VAStatus create_buffer_locked(Driver *d, VAContextID context, VABufferType type, uint32_t size,
                              uint32_t num, const void *data, VABufferID *out);

constexpr int kMaxProfiles = 4;
constexpr int kMaxEntrypoints = 2;
constexpr int kMaxAttributes = 32;
constexpr int kMaxImageFormats = 3;
constexpr int kMaxSubpicFormats = 1;
constexpr int kMaxDisplayAttributes = 1;
constexpr int kMaxSize = 4096;

}  // namespace vasim
