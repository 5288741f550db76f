// sharedframetee: one bounded ring shared by every branch; a slow branch skips, never blocks.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SHARED_FRAME_TEE (gst_shared_frame_tee_get_type())
G_DECLARE_FINAL_TYPE(GstSharedFrameTee, gst_shared_frame_tee, GST, SHARED_FRAME_TEE, GstElement)

#define GST_TYPE_SHARED_FRAME_TEE_RESYNC (gst_shared_frame_tee_resync_get_type())
GType gst_shared_frame_tee_resync_get_type(void);

typedef enum {
  GST_SHARED_FRAME_TEE_RESYNC_KEYFRAME,
  GST_SHARED_FRAME_TEE_RESYNC_LATEST,
} GstSharedFrameTeeResync;

GST_ELEMENT_REGISTER_DECLARE(sharedframetee);

G_END_DECLS
