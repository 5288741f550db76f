// GstSharedFrameTeePad: the request src pad of sharedframetee. It carries the branch's
// read-only counters (buffers-out, buffers-dropped, lag-buffers, resyncs, stats) and owns
// the branch's streaming thread.
#pragma once

#include <gst/gst.h>

#include <memory>

#include "sharedframetee-hub.h"
#include "sharedframetee-worker.h"

G_BEGIN_DECLS

#define GST_TYPE_SHARED_FRAME_TEE_PAD (gst_shared_frame_tee_pad_get_type())
G_DECLARE_FINAL_TYPE(GstSharedFrameTeePad, gst_shared_frame_tee_pad, GST, SHARED_FRAME_TEE_PAD,
                     GstPad)

G_END_DECLS

// Joins the pad to the hub as a new branch (late-join rules) and prepares its streaming
// thread, which runs while the pad is active. *request_keyframe: ask upstream for one.
void gst_shared_frame_tee_pad_setup(GstSharedFrameTeePad *pad, std::shared_ptr<sft::Hub> hub,
                                    GstPad *sinkpad, bool *request_keyframe);
// Takes the branch out of the hub and stops its thread, unblocking downstream (release).
void gst_shared_frame_tee_pad_detach(GstSharedFrameTeePad *pad);
// Stops the thread of an evicted branch, unblocking downstream.
void gst_shared_frame_tee_pad_stop(GstSharedFrameTeePad *pad);
