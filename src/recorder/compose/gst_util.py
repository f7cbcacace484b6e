# Small helpers of the composer: events out on stdout (one JSON object a line, never interleaved), GStreamer
# elements made with their properties, and a bound RTP/RTCP UDP socket pair.
import json
import socket
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

_out_lock = threading.Lock()


def emit(event, **fields):
    with _out_lock:
        sys.stdout.write(json.dumps({'event': event, **fields}) + '\n')
        sys.stdout.flush()


def make(factory, **props):
    """A new element; property names with _ for - (async_ is not a Python name: pass **{'async': ...})."""
    e = Gst.ElementFactory.make(factory, None)
    if e is None:
        raise RuntimeError(f'GStreamer element {factory} is missing (install the gstreamer1.0-plugins-* packages)')
    for k, v in props.items():
        e.set_property(k.replace('_', '-'), v)
    return e


def bind_pair(address, port=None):
    """An RTP socket on an even port and an RTCP socket on the next one (RFC 3550), both bound; at `port` when
    given (the recorder's fixed range: a restarted child binds the same ports), else where the system says."""
    if port is not None:
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtp.bind((address, port))
            rtcp.bind((address, port + 1))
        except OSError as e:
            rtp.close()
            rtcp.close()
            raise RuntimeError(f'UDP ports {port}-{port + 1} are taken ({e.strerror})') from e
        return rtp, rtcp
    for _ in range(64):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((address, 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((address, port + 1))
                return rtp, rtcp
            except OSError:
                rtcp.close()
        rtp.close()
    raise RuntimeError('no free UDP port pair')
