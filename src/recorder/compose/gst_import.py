# GStreamer's Python bindings for the recorder's children, or, when Debian's python3-gst-1.0 is missing, the
# error and stopped events the recorder understands and an exit (rather than a Python traceback it cannot read).
import json
import sys

try:
    import gi

    gi.require_version('Gst', '1.0')
    gi.require_version('Gio', '2.0')
    from gi.repository import Gio, GLib, Gst  # noqa: F401 (re-exported)
except (ImportError, ValueError) as missing:
    print(json.dumps({'event': 'error', 'message': f'GStreamer for Python is missing ({missing}): install python3-gst-1.0'}), flush=True)
    print(json.dumps({'event': 'stopped', 'file': None}), flush=True)
    sys.exit(1)
