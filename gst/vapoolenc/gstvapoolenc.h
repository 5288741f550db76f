#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VA_POOL_ENC (gst_va_pool_enc_get_type())
G_DECLARE_FINAL_TYPE(GstVaPoolEnc, gst_va_pool_enc, GST, VA_POOL_ENC, GstBin)

GST_ELEMENT_REGISTER_DECLARE(vapoolenc);

G_END_DECLS
