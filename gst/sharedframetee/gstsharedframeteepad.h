// GstSharedFrameTeePad: the request src pad of sharedframetee. It carries the branch's
// read-only counters (buffers-out, buffers-dropped, lag-buffers, resyncs, stats) and owns
// the branch's streaming task.
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
// task, which runs while the pad is active. *request_keyframe: ask upstream for one.
void gst_shared_frame_tee_pad_setup(GstSharedFrameTeePad *pad, std::shared_ptr<sft::Hub> hub,
                                    GstPad *sinkpad, bool *request_keyframe);
// Takes the branch out of the hub and stops and joins its task, unblocking downstream
// (release).
void gst_shared_frame_tee_pad_detach(GstSharedFrameTeePad *pad);
// Stops the task of an evicted branch, unblocking downstream.
void gst_shared_frame_tee_pad_stop(GstSharedFrameTeePad *pad);
// FLUSH_START (after it went downstream): waits for the push in flight, task left paused.
void gst_shared_frame_tee_pad_flush_pause(GstSharedFrameTeePad *pad);
// FLUSH_STOP (after it went downstream): restarts the task if the pad is active.
void gst_shared_frame_tee_pad_flush_resume(GstSharedFrameTeePad *pad);
