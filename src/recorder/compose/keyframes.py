# Keyframe requests from the composer to the bridge: RTCP PLI (RFC 4585) for one media SSRC, behind an empty
# receiver report, encrypted as SRTCP with the key the bridge expects from us and sent from our video RTCP
# socket (the address the bridge knows us by) to the bridge's video RTCP port.
import struct

from gi.repository import Gio, Gst

from gst_util import make

# Our SSRC in the RTCP we send (the bridge only reads a PLI's media SSRC).
OWN_SSRC = 0x7E57AB1E


class KeyframeRequests:
    def __init__(self, pipeline, rtcp_socket, send_key, address, port):
        """appsrc -> srtpenc -> udpsink, added to the running pipeline."""
        self.src = make('appsrc', is_live=True, format=3, do_timestamp=True, caps=Gst.Caps.from_string('application/x-rtcp'))
        self.enc = enc = make('srtpenc', key=Gst.Buffer.new_wrapped(send_key))
        self.sink = sink = make('udpsink', socket=Gio.Socket.new_from_fd(rtcp_socket.fileno()), close_socket=False,
                    host=address, port=port, sync=False, **{'async': False})
        for e in (self.src, enc, sink):
            pipeline.add(e)
        self.src.get_static_pad('src').link(enc.request_pad_simple('rtcp_sink_%u'))
        enc.get_static_pad('rtcp_src_0').link(sink.get_static_pad('sink'))
        for e in (sink, enc, self.src):
            e.sync_state_with_parent()

    def retarget(self, send_key, address, port):
        """The endpoint moved to another bridge: its key and RTCP address (srtpenc starts a new session on a new key)."""
        self.enc.set_property('key', Gst.Buffer.new_wrapped(send_key))
        self.sink.set_property('host', address)
        self.sink.set_property('port', port)

    def request(self, ssrc):
        rr = struct.pack('!BBHI', 0x80, 201, 1, OWN_SSRC)
        pli = struct.pack('!BBHII', 0x81, 206, 2, OWN_SSRC, ssrc)
        self.src.emit('push-buffer', Gst.Buffer.new_wrapped(rr + pli))
