"""Whether gst-steady's elements and its leakwatch tracer are where GStreamer looks for them
(GST_PLUGIN_PATH)."""

import subprocess


def have_steady_elements():
    return all(subprocess.run(["gst-inspect-1.0", name], capture_output=True).returncode == 0
               for name in ("boundedqueue", "sharedframetee", "vapoolenc"))


def have_leakwatch():
    out = subprocess.run(["gst-inspect-1.0", "leakwatch"], capture_output=True, text=True)
    return out.returncode == 0
