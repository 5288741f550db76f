"""What the example programs' soak tests, demos and benchmarks share (steady-rtsp, steady-webrtc).

The scripts put tests/examples/common on sys.path and import steady_soak.<module>:
  text       log() and the key=value fields of the programs' output lines
  stats      the median and the Theil-Sen slope
  proc       /proc snapshots of the server under test, and its RSS sampled every second
  compare    growth between two snapshots (descriptors by class, threads by name class)
  processes  child processes read line by line, and the example server under test
  leakwatch  what leakwatch's final JSON report says
  plugins    whether gst-steady's elements and leakwatch are built
  report     the soak's result, side-by-side table, verdict lines and variant selection
"""
