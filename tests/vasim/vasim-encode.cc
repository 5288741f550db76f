// Contexts, buffers and the picture cycle (vaBeginPicture / vaRenderPicture / vaEndPicture):
// the encoder's sequence and picture parameters select the stream layout, and vaEndPicture
// writes the whole access unit (SPS+PPS before an IDR, one I_PCM slice) into the coded
// buffer named by the picture parameters. Fault injection lives here too.
#include "vasim-driver.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace vasim {

VAStatus create_buffer_locked(Driver *d, VAContextID context, VABufferType type, uint32_t size,
                              uint32_t num, const void *data, VABufferID *out) {
  Buffer b;
  b.context = context;
  b.type = type;
  b.size = size;
  b.num_elements = num;
  if (type != VAEncCodedBufferType) {
    const size_t bytes = static_cast<size_t>(size) * num;
    b.data = std::make_shared<Bytes>(bytes, 0);
    if (data && bytes)
      std::memcpy(b.data->data(), data, bytes);
  }
  const VABufferID id = d->new_id();
  d->buffers.emplace(id, std::move(b));
  count_up(Kind::Buffer);
  *out = id;
  return VA_STATUS_SUCCESS;
}

VAStatus destroy_buffer_locked(Driver *d, VABufferID id) {
  auto it = d->buffers.find(id);
  if (it == d->buffers.end() || it->second.image_buffer)
    return VA_STATUS_ERROR_INVALID_BUFFER;
  d->buffers.erase(it);
  count_down(Kind::Buffer);
  return VA_STATUS_SUCCESS;
}

namespace {

void report(VADriverContextP ctx, const char *msg) {
  if (ctx->error_callback)
    ctx->error_callback(ctx, msg);
}

VAStatus create_context(VADriverContextP ctx, VAConfigID config, int width, int height, int,
                        VASurfaceID *targets, int num_targets, VAContextID *out) {
  // Modelled cost of creating a hardware context, outside the lock like real work.
  const long delay_ms = env_long("VASIM_CONTEXT_DELAY_MS", 0);
  if (delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));

  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  if (d->configs.count(config) == 0)
    return VA_STATUS_ERROR_INVALID_CONFIG;
  if (width <= 0 || height <= 0 || width > kMaxSize || height > kMaxSize)
    return VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED;
  for (int i = 0; i < num_targets; ++i)
    if (d->surfaces.count(targets[i]) == 0)
      return VA_STATUS_ERROR_INVALID_SURFACE;

  // The cap is process-wide, like the context slots of one GPU shared by every display.
  const long cap = env_long("VASIM_MAX_CONTEXTS", -1);
  long live_now = 0;
  if (!reserve_context(cap, &live_now)) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "vasim: vaCreateContext refused: context limit reached "
                  "(VASIM_MAX_CONTEXTS=%ld, %ld live)\n",
                  cap, live_now);
    report(ctx, msg);
    return VA_STATUS_ERROR_ALLOCATION_FAILED;
  }

  Context c;
  c.config = config;
  c.width = width;
  c.height = height;
  c.targets.assign(targets, targets + std::max(num_targets, 0));
  c.fail_after = env_long("VASIM_FAIL_AFTER_FRAMES", -1);
  const VAContextID id = d->new_id();
  d->contexts.emplace(id, std::move(c));
  *out = id;
  return VA_STATUS_SUCCESS;
}

VAStatus destroy_context(VADriverContextP ctx, VAContextID id) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  if (d->contexts.erase(id) == 0)
    return VA_STATUS_ERROR_INVALID_CONTEXT;
  count_down(Kind::Context);
  return VA_STATUS_SUCCESS;
}

VAStatus create_buffer(VADriverContextP ctx, VAContextID context, VABufferType type,
                       unsigned int size, unsigned int num, void *data, VABufferID *out) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  if (context != VA_INVALID_ID && d->contexts.count(context) == 0 && type != VAEncCodedBufferType)
    return VA_STATUS_ERROR_INVALID_CONTEXT;
  return create_buffer_locked(d, context, type, size, num, data, out);
}

VAStatus buffer_set_num_elements(VADriverContextP ctx, VABufferID id, unsigned int num) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->buffers.find(id);
  if (it == d->buffers.end())
    return VA_STATUS_ERROR_INVALID_BUFFER;
  if (num > it->second.num_elements)
    return VA_STATUS_ERROR_INVALID_PARAMETER;
  it->second.num_elements = num;
  return VA_STATUS_SUCCESS;
}

VAStatus map_buffer(VADriverContextP ctx, VABufferID id, void **out) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->buffers.find(id);
  if (it == d->buffers.end())
    return VA_STATUS_ERROR_INVALID_BUFFER;
  Buffer &b = it->second;
  if (b.type == VAEncCodedBufferType) {
    b.segment = VACodedBufferSegment{};
    b.segment.size = static_cast<uint32_t>(b.coded.size());
    b.segment.buf = b.coded.empty() ? nullptr : b.coded.data();
    b.segment.next = nullptr;
    *out = &b.segment;
  } else {
    *out = b.data->data();
  }
  return VA_STATUS_SUCCESS;
}

VAStatus unmap_buffer(VADriverContextP ctx, VABufferID id) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  return d->buffers.count(id) ? VA_STATUS_SUCCESS : VA_STATUS_ERROR_INVALID_BUFFER;
}

VAStatus destroy_buffer(VADriverContextP ctx, VABufferID id) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  return destroy_buffer_locked(d, id);
}

VAStatus buffer_info(VADriverContextP ctx, VABufferID id, VABufferType *type, unsigned int *size,
                     unsigned int *num) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->buffers.find(id);
  if (it == d->buffers.end())
    return VA_STATUS_ERROR_INVALID_BUFFER;
  *type = it->second.type;
  *size = it->second.size;
  *num = it->second.num_elements;
  return VA_STATUS_SUCCESS;
}

VAStatus sync_buffer(VADriverContextP ctx, VABufferID id, uint64_t) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  return d->buffers.count(id) ? VA_STATUS_SUCCESS : VA_STATUS_ERROR_INVALID_BUFFER;
}

VAStatus begin_picture(VADriverContextP ctx, VAContextID context, VASurfaceID target) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->contexts.find(context);
  if (it == d->contexts.end())
    return VA_STATUS_ERROR_INVALID_CONTEXT;
  if (d->surfaces.count(target) == 0)
    return VA_STATUS_ERROR_INVALID_SURFACE;
  it->second.current = target;
  it->second.have_pic = false;
  return VA_STATUS_SUCCESS;
}

VAStatus render_picture(VADriverContextP ctx, VAContextID context, VABufferID *buffers, int num) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->contexts.find(context);
  if (it == d->contexts.end())
    return VA_STATUS_ERROR_INVALID_CONTEXT;
  Context &c = it->second;
  if (c.current == VA_INVALID_ID)
    return VA_STATUS_ERROR_OPERATION_FAILED;
  for (int i = 0; i < num; ++i) {
    auto b = d->buffers.find(buffers[i]);
    if (b == d->buffers.end())
      return VA_STATUS_ERROR_INVALID_BUFFER;
    const Bytes *bytes = b->second.data.get();
    switch (b->second.type) {
      case VAEncSequenceParameterBufferType:
        if (!bytes || bytes->size() < sizeof(c.seq))
          return VA_STATUS_ERROR_INVALID_PARAMETER;
        std::memcpy(&c.seq, bytes->data(), sizeof(c.seq));
        c.have_seq = true;
        break;
      case VAEncPictureParameterBufferType:
        if (!bytes || bytes->size() < sizeof(c.pic))
          return VA_STATUS_ERROR_INVALID_PARAMETER;
        std::memcpy(&c.pic, bytes->data(), sizeof(c.pic));
        c.have_pic = true;
        break;
      default:
        // Slice parameters, misc parameters (rate control, HRD, frame rate, quality) and
        // packed headers are accepted and not needed: one I_PCM slice covers the picture.
        break;
    }
  }
  return VA_STATUS_SUCCESS;
}

uint32_t clamp_log2(uint32_t minus4) {
  return std::min<uint32_t>(minus4 + 4, 16);
}

SeqInfo seq_info(const Context &c, const Surface &s) {
  SeqInfo q;
  const VAEncSequenceParameterBufferH264 &p = c.seq;
  q.width_mbs = p.picture_width_in_mbs ? p.picture_width_in_mbs : (c.width + 15) / 16;
  q.height_mbs = p.picture_height_in_mbs ? p.picture_height_in_mbs : (c.height + 15) / 16;
  uint32_t width = q.width_mbs * 16, height = q.height_mbs * 16;
  if (p.frame_cropping_flag) {
    // The encoder's offsets are in 2-sample units for 4:2:0 frames.
    width -= 2 * (p.frame_crop_left_offset + p.frame_crop_right_offset);
    height -= 2 * (p.frame_crop_top_offset + p.frame_crop_bottom_offset);
  } else if (!c.have_seq) {
    width = static_cast<uint32_t>(c.width);
    height = static_cast<uint32_t>(c.height);
  }
  width = std::min(width, s.layout.width + (s.layout.width & 1));
  height = std::min(height, s.layout.height + (s.layout.height & 1));
  q.crop_right = q.width_mbs * 16 - width;
  q.crop_bottom = q.height_mbs * 16 - height;
  q.level_idc = p.level_idc ? p.level_idc : 41;
  q.log2_max_frame_num = clamp_log2(p.seq_fields.bits.log2_max_frame_num_minus4);
  q.log2_max_poc_lsb = clamp_log2(p.seq_fields.bits.log2_max_pic_order_cnt_lsb_minus4);
  q.max_num_ref_frames = std::min<uint32_t>(p.max_num_ref_frames, 16);
  return q;
}

VAStatus end_picture(VADriverContextP ctx, VAContextID context) {
  Driver *d = drv(ctx);
  std::lock_guard<std::mutex> g(d->lock);
  auto it = d->contexts.find(context);
  if (it == d->contexts.end())
    return VA_STATUS_ERROR_INVALID_CONTEXT;
  Context &c = it->second;
  const VASurfaceID target = c.current;
  c.current = VA_INVALID_ID;
  if (target == VA_INVALID_ID || !c.have_pic)
    return VA_STATUS_ERROR_OPERATION_FAILED;
  auto s = d->surfaces.find(target);
  if (s == d->surfaces.end())
    return VA_STATUS_ERROR_INVALID_SURFACE;
  auto cb = d->buffers.find(c.pic.coded_buf);
  if (cb == d->buffers.end() || cb->second.type != VAEncCodedBufferType)
    return VA_STATUS_ERROR_INVALID_BUFFER;

  if (c.fail_after >= 0 && c.frames >= c.fail_after) {
    note_frame(true);
    char msg[128];
    std::snprintf(msg, sizeof msg,
                  "vasim: encoding failed after %ld frames (VASIM_FAIL_AFTER_FRAMES)\n",
                  c.fail_after);
    report(ctx, msg);
    return VA_STATUS_ERROR_ENCODING_ERROR;
  }

  const SeqInfo q = seq_info(c, s->second);
  PicInfo pic;
  pic.idr = c.pic.pic_fields.bits.idr_pic_flag != 0;
  pic.reference = pic.idr || c.pic.pic_fields.bits.reference_pic_flag != 0;
  pic.frame_num = pic.idr ? 0 : c.pic.frame_num;
  pic.idr_pic_id = c.idr_count & 0xffff;
  pic.poc_lsb = static_cast<uint32_t>(c.pic.CurrPic.TopFieldOrderCnt);
  if (pic.idr)
    ++c.idr_count;
  Bytes &out = cb->second.coded;
  out.clear();
  encode_picture(out, q, pic, view_of(s->second.layout, s->second.data->data()));
  ++c.frames;
  note_frame(false);
  return VA_STATUS_SUCCESS;
}

}  // namespace

void install_encode_vtable(VADriverVTable *vt) {
  vt->vaCreateContext = create_context;
  vt->vaDestroyContext = destroy_context;
  vt->vaCreateBuffer = create_buffer;
  vt->vaBufferSetNumElements = buffer_set_num_elements;
  vt->vaMapBuffer = map_buffer;
  vt->vaUnmapBuffer = unmap_buffer;
  vt->vaDestroyBuffer = destroy_buffer;
  vt->vaBufferInfo = buffer_info;
  vt->vaSyncBuffer = sync_buffer;
  vt->vaBeginPicture = begin_picture;
  vt->vaRenderPicture = render_picture;
  vt->vaEndPicture = end_picture;
}

}  // namespace vasim
