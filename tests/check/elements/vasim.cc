// Tests of vasim, the simulated VA-API device (tests/vasim, docs/testing-va.md), through the
// real libva and the real GStreamer VA encoders. The meson block runs this binary with the
// vasim environment; with GST_STEADY_REAL_VA=1 the overrides are dropped at start-up and the
// same tests run on the machine's real VA device: pixel comparisons then become a PSNR
// floor (real encoders are lossy), counts from the driver are not available, and the
// fault-injection tests skip.
#include "steady-check.h"
#include "vasim-h264.h"
#include "vasim-pipelines.h"
#include "vasim-testing.h"
#include "vasim.h"

#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <va/va.h>
#include <va/va_drm.h>
#include <va/va_enc_h264.h>

#include <xf86drm.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace vasim_test;

// ---------------------------------------------------------------------------------------
// The stream writer on its own.

GST_START_TEST(test_h264_writer_escapes_and_codes) {
  vasim::BitWriter w;
  w.ue(0);   // 1
  w.ue(1);   // 010
  w.ue(4);   // 00101
  w.se(-2);  // ue(4) = 00101
  w.trailing();
  // 1 010 00101 00101 1 -> 1010 0010 1001 0110 -> 0xA2 0x96, then the stop bit byte 0x80?
  // Bits: 1,0,1,0, 0,0,1,0, 1,0,0,1, 0,1 + stop 1 + pad 0 -> A2 96
  fail_unless_equals_int(w.data().size(), 2);
  fail_unless_equals_int(w.data()[0], 0xA2);
  fail_unless_equals_int(w.data()[1], 0x96);

  std::vector<uint8_t> out;
  vasim::append_nal(out, 3, 5, {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x80});
  const std::vector<uint8_t> expect = {0,    0,    0,    1,    0x65, 0x00, 0x00, 0x03, 0x01,
                                       0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x03, 0x80};
  fail_unless(out == expect, "emulation prevention bytes misplaced");
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// The driver through libva directly: one picture encoded by hand, decoded by avdec_h264.

GST_START_TEST(test_libva_direct) {
  Counts counts;
  const std::string path = node_path();
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    STEADY_SKIP("no VA render node at %s", path.c_str());
  VADisplay dpy = vaGetDisplayDRM(fd);
  fail_unless(dpy != nullptr, "vaGetDisplayDRM refused %s", path.c_str());
  int major = 0, minor = 0;
  fail_unless_equals_int(vaInitialize(dpy, &major, &minor), VA_STATUS_SUCCESS);
  if (!real_va()) {
    fail_unless(std::strstr(vaQueryVendorString(dpy), "vasim") != nullptr);
    fail_unless_equals_int(counts.now().displays, 1);
  }

  std::vector<VAProfile> profiles(vaMaxNumProfiles(dpy));
  int nprof = 0;
  fail_unless_equals_int(vaQueryConfigProfiles(dpy, profiles.data(), &nprof), VA_STATUS_SUCCESS);
  profiles.resize(nprof);
  bool have_cb = false;
  for (VAProfile p : profiles) {
    if (p != VAProfileH264ConstrainedBaseline)
      continue;
    std::vector<VAEntrypoint> eps(vaMaxNumEntrypoints(dpy));
    int nep = 0;
    fail_unless_equals_int(vaQueryConfigEntrypoints(dpy, p, eps.data(), &nep), VA_STATUS_SUCCESS);
    have_cb = std::find(eps.begin(), eps.begin() + nep, VAEntrypointEncSlice) != eps.begin() + nep;
  }
  if (!have_cb) {
    vaTerminate(dpy);
    close(fd);
    STEADY_SKIP("the VA driver has no H.264 Constrained Baseline EncSlice");
  }

  const int W = 40, H = 34;  // not multiples of 16: the SPS must crop
  VAConfigAttrib rt{VAConfigAttribRTFormat, VA_RT_FORMAT_YUV420};
  VAConfigID config;
  fail_unless_equals_int(
      vaCreateConfig(dpy, VAProfileH264ConstrainedBaseline, VAEntrypointEncSlice, &rt, 1, &config),
      VA_STATUS_SUCCESS);
  VASurfaceAttrib fmt{};
  fmt.type = VASurfaceAttribPixelFormat;
  fmt.flags = VA_SURFACE_ATTRIB_SETTABLE;
  fmt.value.type = VAGenericValueTypeInteger;
  fmt.value.value.i = VA_FOURCC_NV12;
  VASurfaceID surfaces[2];  // input, reconstructed
  fail_unless_equals_int(vaCreateSurfaces(dpy, VA_RT_FORMAT_YUV420, W, H, surfaces, 2, &fmt, 1),
                         VA_STATUS_SUCCESS);
  VAContextID context;
  fail_unless_equals_int(vaCreateContext(dpy, config, W, H, VA_PROGRESSIVE, surfaces, 2, &context),
                         VA_STATUS_SUCCESS);
  VABufferID coded;
  fail_unless_equals_int(
      vaCreateBuffer(dpy, context, VAEncCodedBufferType, 64 * 1024, 1, nullptr, &coded),
      VA_STATUS_SUCCESS);

  // Upload through a derived image; the pattern has long zero runs so the stream needs
  // emulation prevention bytes.
  VAImage image;
  fail_unless_equals_int(vaDeriveImage(dpy, surfaces[0], &image), VA_STATUS_SUCCESS);
  fail_unless_equals_int(image.format.fourcc, VA_FOURCC_NV12);
  void *map = nullptr;
  fail_unless_equals_int(vaMapBuffer(dpy, image.buf, &map), VA_STATUS_SUCCESS);
  auto *pix = static_cast<guint8 *>(map);
  GstBuffer *ref = gst_buffer_new_allocate(nullptr, W * H * 3 / 2, nullptr);
  GstMapInfo rm;
  gst_buffer_map(ref, &rm, GST_MAP_WRITE);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const guint8 v = y < 8 ? 0 : static_cast<guint8>(x * 7 + y * 13);
      pix[image.offsets[0] + y * image.pitches[0] + x] = v;
      rm.data[y * W + x] = v;
    }
  for (int y = 0; y < H / 2; ++y)
    for (int x = 0; x < W / 2; ++x) {
      const guint8 u = y < 4 ? 0 : static_cast<guint8>(x * 3), v = static_cast<guint8>(255 - y);
      pix[image.offsets[1] + y * image.pitches[1] + 2 * x] = u;
      pix[image.offsets[1] + y * image.pitches[1] + 2 * x + 1] = v;
      rm.data[W * H + y * (W / 2) + x] = u;
      rm.data[W * H + W * H / 4 + y * (W / 2) + x] = v;
    }
  gst_buffer_unmap(ref, &rm);
  fail_unless_equals_int(vaUnmapBuffer(dpy, image.buf), VA_STATUS_SUCCESS);

  VAEncSequenceParameterBufferH264 seq{};
  seq.level_idc = 30;
  seq.intra_period = 30;
  seq.ip_period = 1;
  seq.max_num_ref_frames = 1;
  seq.picture_width_in_mbs = (W + 15) / 16;
  seq.picture_height_in_mbs = (H + 15) / 16;
  seq.seq_fields.bits.frame_mbs_only_flag = 1;
  seq.seq_fields.bits.chroma_format_idc = 1;
  seq.frame_cropping_flag = 1;
  seq.frame_crop_right_offset = (seq.picture_width_in_mbs * 16 - W) / 2;
  seq.frame_crop_bottom_offset = (seq.picture_height_in_mbs * 16 - H) / 2;
  VAEncPictureParameterBufferH264 pic{};
  pic.CurrPic.picture_id = surfaces[1];
  for (auto &r : pic.ReferenceFrames) {
    r.picture_id = VA_INVALID_SURFACE;
    r.flags = VA_PICTURE_H264_INVALID;
  }
  pic.coded_buf = coded;
  pic.pic_init_qp = 26;
  pic.pic_fields.bits.idr_pic_flag = 1;
  pic.pic_fields.bits.reference_pic_flag = 1;
  VAEncSliceParameterBufferH264 slice{};
  slice.num_macroblocks = seq.picture_width_in_mbs * seq.picture_height_in_mbs;
  slice.slice_type = 2;  // I
  VABufferID params[3];
  fail_unless_equals_int(vaCreateBuffer(dpy, context, VAEncSequenceParameterBufferType, sizeof seq,
                                        1, &seq, &params[0]),
                         VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaCreateBuffer(dpy, context, VAEncPictureParameterBufferType, sizeof pic,
                                        1, &pic, &params[1]),
                         VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaCreateBuffer(dpy, context, VAEncSliceParameterBufferType, sizeof slice,
                                        1, &slice, &params[2]),
                         VA_STATUS_SUCCESS);
  if (counts.available()) {
    const vasim_counts c = counts.now();
    fail_unless_equals_int(c.configs, 1);
    fail_unless_equals_int(c.contexts, 1);
    fail_unless_equals_int(c.surfaces, 2);
    fail_unless_equals_int(c.images, 1);
    fail_unless_equals_int(c.buffers, 5);  // coded, image, three parameter buffers
  }
  fail_unless_equals_int(vaDestroyImage(dpy, image.image_id), VA_STATUS_SUCCESS);

  fail_unless_equals_int(vaBeginPicture(dpy, context, surfaces[0]), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaRenderPicture(dpy, context, params, 3), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaEndPicture(dpy, context), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaSyncSurface(dpy, surfaces[0]), VA_STATUS_SUCCESS);
  VASurfaceStatus status;
  fail_unless_equals_int(vaQuerySurfaceStatus(dpy, surfaces[0], &status), VA_STATUS_SUCCESS);
  fail_unless_equals_int(status, VASurfaceReady);

  void *segp = nullptr;
  fail_unless_equals_int(vaMapBuffer(dpy, coded, &segp), VA_STATUS_SUCCESS);
  std::vector<guint8> stream;
  for (auto *seg = static_cast<VACodedBufferSegment *>(segp); seg;
       seg = static_cast<VACodedBufferSegment *>(seg->next))
    stream.insert(stream.end(), static_cast<guint8 *>(seg->buf),
                  static_cast<guint8 *>(seg->buf) + seg->size);
  fail_unless_equals_int(vaUnmapBuffer(dpy, coded), VA_STATUS_SUCCESS);
  fail_unless(stream.size() > 4 && stream[0] == 0 && stream[1] == 0 && stream[2] == 0 &&
              stream[3] == 1);

  for (VABufferID b : params)
    fail_unless_equals_int(vaDestroyBuffer(dpy, b), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroyBuffer(dpy, coded), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroyContext(dpy, context), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroySurfaces(dpy, surfaces, 2), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroyConfig(dpy, config), VA_STATUS_SUCCESS);
  if (counts.available()) {
    const vasim_counts c = counts.now();
    fail_unless_equals_int(c.displays, 1);
    fail_unless_equals_int(c.frames_encoded, 1);
  }
  fail_unless_equals_int(vaTerminate(dpy), VA_STATUS_SUCCESS);
  close(fd);
  counts.expect_nothing_live();
  if (counts.available())
    fail_unless_equals_int(counts.now().leaked_at_terminate, 0);

  // The coded picture decodes back to the pixels written.
  GstHarness *h = gst_harness_new("avdec_h264");
  gst_harness_set_src_caps_str(h, "video/x-h264,stream-format=byte-stream,alignment=au");
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=I420");
  GstBuffer *in = gst_buffer_new_memdup(stream.data(), stream.size());
  GST_BUFFER_PTS(in) = 0;
  GST_BUFFER_DURATION(in) = GST_SECOND / 30;
  fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != nullptr);
  GstCaps *out_caps = gst_pad_get_current_caps(h->sinkpad);
  GstCaps *ref_caps = gst_caps_from_string("video/x-raw,format=I420,width=40,height=34");
  GstSample *sa = gst_sample_new(ref, ref_caps, nullptr, nullptr);
  GstSample *sb = gst_sample_new(out, out_caps, nullptr, nullptr);
  expect_same_picture(sa, sb, 0);
  gst_sample_unref(sa);
  gst_sample_unref(sb);
  gst_caps_unref(out_caps);
  gst_caps_unref(ref_caps);
  gst_buffer_unref(out);
  gst_buffer_unref(ref);
  gst_harness_teardown(h);
}
GST_END_TEST;

// The DRM shim: the node answers as a render node, and only the node does.
GST_START_TEST(test_drm_shim) {
  const std::string path = node_path();
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    STEADY_SKIP("no render node at %s", path.c_str());
  fail_unless_equals_int(drmGetNodeTypeFromFd(fd), DRM_NODE_RENDER);
  drmVersionPtr v = drmGetVersion(fd);
  fail_unless(v != nullptr && v->name != nullptr);
  if (!real_va())
    fail_unless_equals_string(v->name, "vasim");
  drmFreeVersion(v);
  char *name = drmGetRenderDeviceNameFromFd(fd);
  fail_unless(name != nullptr);
  if (!real_va())
    fail_unless_equals_string(name, path.c_str());
  free(name);
  drmDevicePtr dev = nullptr;
  fail_unless_equals_int(drmGetDevice2(fd, 0, &dev), 0);
  fail_unless(dev->available_nodes & (1 << DRM_NODE_RENDER));
  drmFreeDevice(&dev);

  // Enumeration lists the node among the render nodes.
  const int n = drmGetDevices2(0, nullptr, 0);
  fail_unless(n >= 1, "drmGetDevices2 found %d devices", n);
  std::vector<drmDevicePtr> devs(n);
  fail_unless_equals_int(drmGetDevices2(0, devs.data(), n), n);
  int matching = 0;
  for (drmDevicePtr d : devs)
    if ((d->available_nodes & (1 << DRM_NODE_RENDER)) && path == d->nodes[DRM_NODE_RENDER])
      ++matching;
  fail_unless_equals_int(matching, 1);
  drmFreeDevices(devs.data(), n);

  // Any other descriptor goes to the real libdrm, which refuses a regular file.
  if (!real_va()) {
    const int other = open(g_getenv("VASIM_DRIVER_PATH"), O_RDONLY | O_CLOEXEC);
    fail_unless(other >= 0);
    fail_unless(drmGetNodeTypeFromFd(other) < 0);
    fail_unless(drmGetVersion(other) == nullptr);
    close(other);
  }
  close(fd);
}
GST_END_TEST;

// Surfaces and images: vaPutImage from I420 into an NV12 surface, vaGetImage back into
// another I420 image, at a size that is not a multiple of 16; surface attributes.
GST_START_TEST(test_libva_images) {
  if (real_va())
    STEADY_SKIP("checks vasim's image paths (GST_STEADY_REAL_VA=1)");
  Counts counts;
  const std::string path = node_path();
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  fail_unless(fd >= 0);
  VADisplay dpy = vaGetDisplayDRM(fd);
  int major, minor;
  fail_unless_equals_int(vaInitialize(dpy, &major, &minor), VA_STATUS_SUCCESS);

  VAConfigID config;
  fail_unless_equals_int(
      vaCreateConfig(dpy, VAProfileH264High, VAEntrypointEncSlice, nullptr, 0, &config),
      VA_STATUS_SUCCESS);
  unsigned int nattr = 0;
  fail_unless_equals_int(vaQuerySurfaceAttributes(dpy, config, nullptr, &nattr), VA_STATUS_SUCCESS);
  std::vector<VASurfaceAttrib> attrs(nattr);
  fail_unless_equals_int(vaQuerySurfaceAttributes(dpy, config, attrs.data(), &nattr),
                         VA_STATUS_SUCCESS);
  int formats = 0;
  for (const VASurfaceAttrib &a : attrs)
    if (a.type == VASurfaceAttribPixelFormat &&
        (static_cast<uint32_t>(a.value.value.i) == VA_FOURCC_NV12 ||
         static_cast<uint32_t>(a.value.value.i) == VA_FOURCC_I420))
      ++formats;
  fail_unless_equals_int(formats, 2);

  const int W = 50, H = 22;
  VASurfaceID surface;
  fail_unless_equals_int(vaCreateSurfaces(dpy, VA_RT_FORMAT_YUV420, W, H, &surface, 1, nullptr, 0),
                         VA_STATUS_SUCCESS);
  VAImageFormat i420{};
  i420.fourcc = VA_FOURCC_I420;
  VAImage src, dst;
  fail_unless_equals_int(vaCreateImage(dpy, &i420, W, H, &src), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaCreateImage(dpy, &i420, W, H, &dst), VA_STATUS_SUCCESS);
  void *p = nullptr;
  fail_unless_equals_int(vaMapBuffer(dpy, src.buf, &p), VA_STATUS_SUCCESS);
  auto *s8 = static_cast<guint8 *>(p);
  for (int plane = 0; plane < 3; ++plane) {
    const int pw = plane ? W / 2 : W, ph = plane ? H / 2 : H;
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x)
        s8[src.offsets[plane] + y * src.pitches[plane] + x] =
            static_cast<guint8>(plane * 85 + x * 5 + y * 11);
  }
  fail_unless_equals_int(vaUnmapBuffer(dpy, src.buf), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaPutImage(dpy, surface, src.image_id, 0, 0, W, H, 0, 0, W, H),
                         VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaGetImage(dpy, surface, 0, 0, W, H, dst.image_id), VA_STATUS_SUCCESS);
  fail_unless_equals_int(counts.now().images, 2);
  fail_unless_equals_int(counts.now().buffers, 2);  // the images' buffers

  void *q = nullptr;
  fail_unless_equals_int(vaMapBuffer(dpy, src.buf, &p), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaMapBuffer(dpy, dst.buf, &q), VA_STATUS_SUCCESS);
  int differing = 0;
  for (int plane = 0; plane < 3; ++plane) {
    const int pw = plane ? W / 2 : W, ph = plane ? H / 2 : H;
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x)
        differing += static_cast<guint8 *>(p)[src.offsets[plane] + y * src.pitches[plane] + x] !=
                     static_cast<guint8 *>(q)[dst.offsets[plane] + y * dst.pitches[plane] + x];
  }
  fail_unless_equals_int(differing, 0);
  fail_unless_equals_int(vaUnmapBuffer(dpy, src.buf), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaUnmapBuffer(dpy, dst.buf), VA_STATUS_SUCCESS);

  // Out-of-range copies are refused, not clipped silently.
  fail_unless(vaGetImage(dpy, surface, 2, 0, W, H, dst.image_id) != VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroyImage(dpy, src.image_id), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroyImage(dpy, dst.image_id), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroySurfaces(dpy, &surface, 1), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaDestroyConfig(dpy, config), VA_STATUS_SUCCESS);
  fail_unless_equals_int(vaTerminate(dpy), VA_STATUS_SUCCESS);
  close(fd);
  counts.expect_nothing_live();
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// Round trips through the real GStreamer VA encoders.

// vasim gets random noise (the hardest case for emulation prevention and the strictest
// comparison); a real, lossy encoder gets colour bars, which it must keep above 30 dB.
void roundtrip(const char *encoder, const char *format, int width, int height, guint frames) {
  if (!steady_have_factory(encoder))
    STEADY_SKIP("%s is not available (no VA device it can use)", encoder);
  Counts counts;
  gchar *desc = g_strdup_printf(
      "videotestsrc num-buffers=%u pattern=%s ! video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=30/1 ! tee name=t  t. ! queue ! appsink name=ref sync=false  t. ! queue ! "
      "%s ! h264parse ! avdec_h264 ! video/x-raw,format=I420 ! appsink name=dec sync=false",
      frames, real_va() ? "smpte" : "snow", format, width, height, encoder);
  GstElement *p = launch(desc);
  g_free(desc);
  Collector ref, dec;
  ref.attach(p, "ref");
  dec.attach(p, "dec");
  gst_element_set_state(p, GST_STATE_PLAYING);
  const std::string err = wait_end(p);
  fail_unless(err.empty(), "pipeline error: %s", err.c_str());
  std::vector<GstSample *> in = ref.take(), out = dec.take();
  fail_unless_equals_int(in.size(), frames);
  fail_unless_equals_int(out.size(), frames);
  for (guint i = 0; i < frames; ++i)
    expect_same_picture(in[i], out[i], i);
  unref_all(in);
  unref_all(out);
  stop(p);
  if (counts.available()) {
    fail_unless_equals_int(counts.now().frames_encoded, frames);
    counts.expect_nothing_live();
  }
}

GST_START_TEST(test_vaapih264enc_roundtrip_nv12) {
  roundtrip("vaapih264enc", "NV12", 320, 240, 40);  // crosses the default keyframe period
}
GST_END_TEST;

GST_START_TEST(test_vaapih264enc_roundtrip_i420_odd_size) {
  roundtrip("vaapih264enc", "I420", 202, 118, 12);
}
GST_END_TEST;

GST_START_TEST(test_vah264enc_roundtrip_nv12) {
  roundtrip("vah264enc", "NV12", 320, 240, 40);
}
GST_END_TEST;

GST_START_TEST(test_vah264enc_roundtrip_i420_odd_size) {
  roundtrip("vah264enc", "I420", 202, 118, 12);
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// 200 sequential sessions, each with its own plain encoder (no pool): what the driver
// counted, and the time to the first encoded buffer with a modelled context cost.

void sessions(const char *encoder) {
  if (!steady_have_factory(encoder))
    STEADY_SKIP("%s is not available (no VA device it can use)", encoder);
  const guint kSessions = 200;
  // The modelled context cost: 20 ms unless VASIM_TEST_CONTEXT_DELAY_MS says otherwise.
  const char *delay_env = g_getenv("VASIM_TEST_CONTEXT_DELAY_MS");
  const long delay_ms = real_va() ? 0 : (delay_env ? std::atol(delay_env) : 20);
  if (!real_va())
    g_setenv("VASIM_CONTEXT_DELAY_MS", std::to_string(delay_ms).c_str(), TRUE);
  Counts counts;
  std::vector<double> first_ms;
  gint32 peak_live_contexts = 0;
  for (guint i = 0; i < kSessions; ++i) {
    gchar *desc = g_strdup_printf(
        "videotestsrc num-buffers=3 ! video/x-raw,format=NV12,"
        "width=320,height=240,framerate=30/1 ! %s name=enc ! "
        "fakesink sync=false",
        encoder);
    GstElement *p = launch(desc);
    g_free(desc);
    SrcWatch watch;
    watch.attach(p, "enc");
    const auto start = std::chrono::steady_clock::now();
    gst_element_set_state(p, GST_STATE_PLAYING);
    const std::string err = wait_end(p);
    fail_unless(err.empty(), "session %u: %s", i, err.c_str());
    fail_unless_equals_int(watch.count(), 3);
    const double ms = std::chrono::duration<double, std::milli>(watch.first - start).count();
    fail_unless(ms >= delay_ms, "session %u: first buffer after %.1f ms < modelled %ld ms", i, ms,
                delay_ms);
    first_ms.push_back(ms);
    if (counts.available())
      peak_live_contexts = std::max(peak_live_contexts, counts.now().contexts);
    stop(p);
    counts.expect_nothing_live();  // every session gives back all it took
  }
  std::sort(first_ms.begin(), first_ms.end());
  const double median = first_ms[first_ms.size() / 2];
  const double p90 = first_ms[first_ms.size() * 9 / 10];
  g_print(
      "VASIM-SESSIONS encoder=%s sessions=%u context_delay_ms=%ld first_buffer_ms: "
      "median=%.1f p90=%.1f max=%.1f\n",
      encoder, kSessions, delay_ms, median, p90, first_ms.back());
  if (counts.available()) {
    const vasim_counts c = counts.now();
    g_print(
        "VASIM-SESSIONS encoder=%s displays_opened=%lld contexts_created=%lld "
        "peak_contexts=%d peak_surfaces=%d frames_encoded=%lld leaked_at_terminate=%lld "
        "live_after: displays=%d contexts=%d surfaces=%d buffers=%d images=%d\n",
        encoder, static_cast<long long>(c.displays_opened),
        static_cast<long long>(c.contexts_created), c.peak_contexts, c.peak_surfaces,
        static_cast<long long>(c.frames_encoded), static_cast<long long>(c.leaked_at_terminate),
        c.displays, c.contexts, c.surfaces, c.buffers, c.images);
    fail_unless_equals_int(c.contexts_created, kSessions);
    fail_unless_equals_int(c.peak_contexts, 1);
    fail_unless_equals_int(peak_live_contexts, 1);
    fail_unless_equals_int(c.frames_encoded, 3 * kSessions);
    fail_unless_equals_int(c.leaked_at_terminate, 0);
  }
}

GST_START_TEST(test_vaapih264enc_200_sessions) {
  sessions("vaapih264enc");
}
GST_END_TEST;

GST_START_TEST(test_vah264enc_200_sessions) {
  sessions("vah264enc");
}
GST_END_TEST;

// ---------------------------------------------------------------------------------------
// Fault injection (vasim only).

void context_cap(const char *encoder) {
  if (real_va())
    STEADY_SKIP("fault injection needs vasim (GST_STEADY_REAL_VA=1)");
  if (!steady_have_factory(encoder))
    STEADY_SKIP("%s is not available", encoder);
  g_setenv("VASIM_MAX_CONTEXTS", "2", TRUE);
  Counts counts;
  const char *fmt =
      "videotestsrc is-live=true ! video/x-raw,format=NV12,width=64,height=64,"
      "framerate=30/1 ! %s name=enc ! fakesink sync=false";
  gchar *desc = g_strdup_printf(fmt, encoder);
  GstElement *p[3];
  SrcWatch watch[3];
  for (int i = 0; i < 2; ++i) {
    p[i] = launch(desc);
    watch[i].attach(p[i], "enc");
    gst_element_set_state(p[i], GST_STATE_PLAYING);
    fail_unless(watch[i].wait_first(std::chrono::seconds(30)), "session %d never encoded", i);
  }
  fail_unless_equals_int(counts.now().contexts, 2);
  p[2] = launch(desc);
  g_free(desc);
  watch[2].attach(p[2], "enc");
  gst_element_set_state(p[2], GST_STATE_PLAYING);
  const std::string err = wait_end(p[2], 30 * GST_SECOND);
  g_print("VASIM context cap: %s error: %s\n", encoder, err.c_str());
  fail_unless(!err.empty(), "the third encoder did not fail");
  fail_unless_equals_int(watch[2].count(), 0);
  const vasim_counts c = counts.now();
  fail_unless_equals_int(c.contexts, 2);
  fail_unless(c.contexts_refused >= 1);
  for (GstElement *e : p)
    stop(e);
  counts.expect_nothing_live();
}

GST_START_TEST(test_vaapih264enc_context_cap) {
  context_cap("vaapih264enc");
}
GST_END_TEST;

GST_START_TEST(test_vah264enc_context_cap) {
  context_cap("vah264enc");
}
GST_END_TEST;

// vah264enc pushes each coded frame from its handle_frame, so exactly the 5 good frames come
// out. vaapih264enc pushes from its own src-pad task, and the error tears that down with
// coded frames still queued: between 1 and 5 come out (observed both), the rest are lost.
void fail_after(const char *encoder, bool all_good_frames_out) {
  if (real_va())
    STEADY_SKIP("fault injection needs vasim (GST_STEADY_REAL_VA=1)");
  if (!steady_have_factory(encoder))
    STEADY_SKIP("%s is not available", encoder);
  g_setenv("VASIM_FAIL_AFTER_FRAMES", "5", TRUE);
  Counts counts;
  gchar *desc = g_strdup_printf(
      "videotestsrc num-buffers=20 ! video/x-raw,format=NV12,"
      "width=64,height=64,framerate=30/1 ! %s name=enc ! "
      "fakesink sync=false",
      encoder);
  GstElement *p = launch(desc);
  g_free(desc);
  SrcWatch watch;
  watch.attach(p, "enc");
  gst_element_set_state(p, GST_STATE_PLAYING);
  const std::string err = wait_end(p);
  g_print("VASIM fail-after-5: %s: %u buffers out, error: %s\n", encoder, watch.count(),
          err.c_str());
  fail_unless(!err.empty(), "encoding failure was not reported");
  if (all_good_frames_out) {
    fail_unless_equals_int(watch.count(), 5);
  } else {
    fail_unless(watch.count() <= 5);
  }
  stop(p);
  const vasim_counts c = counts.now();
  fail_unless_equals_int(c.frames_encoded, 5);
  g_print("VASIM fail-after-5: %s: driver frames_failed=%lld\n", encoder,
          static_cast<long long>(c.frames_failed));
  fail_unless_equals_int(c.frames_failed, 1);  // the encoder gives up at the first failure
  counts.expect_nothing_live();
}

GST_START_TEST(test_vaapih264enc_fail_after_frames) {
  fail_after("vaapih264enc", false);
}
GST_END_TEST;

GST_START_TEST(test_vah264enc_fail_after_frames) {
  fail_after("vah264enc", true);
}
GST_END_TEST;

// The dump at vaTerminate, to a file named by VASIM_DUMP.
GST_START_TEST(test_dump_at_terminate) {
  if (real_va())
    STEADY_SKIP("the dump is vasim's (GST_STEADY_REAL_VA=1)");
  gchar *file = g_build_filename(g_get_tmp_dir(), "vasim-dump-XXXXXX", nullptr);
  const int tmp = g_mkstemp(file);
  fail_unless(tmp >= 0);
  close(tmp);
  g_setenv("VASIM_DUMP", file, TRUE);
  const std::string path = node_path();
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  fail_unless(fd >= 0);
  VADisplay dpy = vaGetDisplayDRM(fd);
  int major, minor;
  fail_unless_equals_int(vaInitialize(dpy, &major, &minor), VA_STATUS_SUCCESS);
  VAConfigID config;
  fail_unless_equals_int(
      vaCreateConfig(dpy, VAProfileH264Main, VAEntrypointEncSlice, nullptr, 0, &config),
      VA_STATUS_SUCCESS);
  VASurfaceID s;
  fail_unless_equals_int(vaCreateSurfaces(dpy, VA_RT_FORMAT_YUV420, 64, 64, &s, 1, nullptr, 0),
                         VA_STATUS_SUCCESS);
  // Deliberately left alive: terminate frees them and the dump says so.
  fail_unless_equals_int(vaTerminate(dpy), VA_STATUS_SUCCESS);
  close(fd);
  gchar *text = nullptr;
  fail_unless(g_file_get_contents(file, &text, nullptr, nullptr));
  fail_unless(std::strstr(text, "vasim: vaTerminate: leaked_here=2 ") != nullptr, "dump: %s", text);
  fail_unless(std::strstr(text, " contexts=0 surfaces=0 ") != nullptr, "dump: %s", text);
  g_free(text);
  unlink(file);
  g_free(file);
}
GST_END_TEST;

Suite *vasim_suite() {
  Suite *s = suite_create("vasim");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_h264_writer_escapes_and_codes);
  tcase_add_test(tc, test_drm_shim);
  tcase_add_test(tc, test_libva_direct);
  tcase_add_test(tc, test_libva_images);
  tcase_add_test(tc, test_dump_at_terminate);
  tcase_add_test(tc, test_vaapih264enc_roundtrip_nv12);
  tcase_add_test(tc, test_vaapih264enc_roundtrip_i420_odd_size);
  tcase_add_test(tc, test_vah264enc_roundtrip_nv12);
  tcase_add_test(tc, test_vah264enc_roundtrip_i420_odd_size);
  tcase_add_test(tc, test_vaapih264enc_context_cap);
  tcase_add_test(tc, test_vah264enc_context_cap);
  tcase_add_test(tc, test_vaapih264enc_fail_after_frames);
  tcase_add_test(tc, test_vah264enc_fail_after_frames);
  tcase_add_test(tc, test_vaapih264enc_200_sessions);
  tcase_add_test(tc, test_vah264enc_200_sessions);
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  vasim_test::use_real_va_if_asked();
  vasim_test::reset_private_registry();
  gst_check_init(&argc, &argv);
  Suite *s = vasim_suite();
  return gst_check_run_suite(s, "vasim", __FILE__);
}
