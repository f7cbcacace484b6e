# The live-stream output of the composer: the encoded H.264 and AAC leave the main pipeline through two appsinks
# and enter a second, small pipeline (appsrc -> flvmux streamable -> rtmp2sink) that pushes FLV over RTMP or RTMPS.
# Two pipelines so that a refused or dropped RTMP connection breaks only the second one: it is thrown away and
# built again after a pause (1, 2, 4 ... 30 s, until the stop), while the main pipeline — its sockets, SRTP
# state and decoders — runs on untouched. Each new connection starts at a keyframe (one a second), its
# timestamps from 0.
# Events: stream {state: "live"} once the server has taken data, {state: "interrupted", message} when the
# connection failed or dropped. The URL (it holds the stream key) is never printed.
import threading
from urllib.parse import urlsplit

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GLib', '2.0')
from gi.repository import GLib, Gst  # noqa: E402

from gst_util import emit, make  # noqa: E402

BACKOFF_S = (1, 2, 4, 8, 16, 30)
# How often the connection's counters are read to see whether the server takes data.
WATCH_MS = 500


def _redact(message, url):
    """An error text without the stream key (GStreamer may quote the location)."""
    text = str(message)
    path = urlsplit(url).path
    for secret in (url, path, path.rstrip('/').rsplit('/', 1)[-1]):
        if secret and len(secret) > 3:
            text = text.replace(secret, '[secret]')
    return text[:300]


class StreamOutput:
    """Owns the appsinks at the end of the main pipeline's two encoders and the RTMP pipeline they feed."""

    def __init__(self, pipeline, video_tail, audio_tail):
        self.url = None
        self.lock = threading.Lock()
        self.out = None  # the RTMP pipeline while it runs
        self.vsrc = self.asrc = None
        self.base = None  # the first keyframe's PTS in this connection (its timestamp 0)
        self.failures = 0
        self.live = False
        self.stopped = False
        self.retry = None
        for kind, tail, caps in (('video', video_tail, 'video/x-h264,stream-format=avc,alignment=au'),
                                 ('audio', audio_tail, 'audio/mpeg,mpegversion=4,stream-format=raw')):
            sink = make('appsink', emit_signals=True, sync=False, max_buffers=200, drop=True, caps=Gst.Caps.from_string(caps))
            sink.connect('new-sample', self._on_sample, kind)
            pipeline.add(sink)
            if not tail.link(sink):
                raise RuntimeError(f'cannot link the {kind} encoder to the stream output')

    def start(self, url):
        """The first connection (the `stream` command); later ones are the retries."""
        if self.url is not None:
            raise ValueError('the stream has its address already')
        self.url = url
        self._connect()

    def _connect(self):
        self.retry = None
        if self.stopped:
            return False
        out = Gst.Pipeline.new('rtmp')
        # not live: the muxer waits for both streams and interleaves them by time (a live muxer gave up waiting for
        # a video that the busy encoder delivered late, and the FLV got backward timestamps clamped together);
        # beyond its cap a queue drops the newest (the server reads too slowly), the picture mends at a keyframe
        vsrc = make('appsrc', is_live=False, format=Gst.Format.TIME, do_timestamp=False, max_bytes=16 << 20, block=False)
        asrc = make('appsrc', is_live=False, format=Gst.Format.TIME, do_timestamp=False, max_bytes=4 << 20, block=False)
        for src in (vsrc, asrc):
            if src.find_property('leaky-type') is not None:
                src.set_property('leaky-type', 1)  # upstream: new buffers are dropped while it is full
        mux = make('flvmux', streamable=True)
        sink = make('rtmp2sink', location=self.url, sync=False, **{'async': False})
        for e in (vsrc, asrc, mux, sink):
            out.add(e)
        vsrc.link_pads('src', mux, 'video')
        asrc.link_pads('src', mux, 'audio')
        mux.link(sink)
        bus = out.get_bus()
        bus.add_signal_watch()
        bus.connect('message', self._on_message, out)
        with self.lock:
            self.out, self.vsrc, self.asrc, self.base, self.sink = out, vsrc, asrc, None, sink
        out.set_state(Gst.State.PLAYING)
        GLib.timeout_add(WATCH_MS, self._watch, out)
        return False

    def _on_sample(self, appsink, kind):
        sample = appsink.emit('pull-sample')
        if sample is None:
            return Gst.FlowReturn.OK
        with self.lock:
            src = self.vsrc if kind == 'video' else self.asrc
            if src is None:
                return Gst.FlowReturn.OK
            buf = sample.get_buffer()
            # in running time: the encoder's segment starts at 1000 h (room for negative DTS), the audio's at 0
            seg = sample.get_segment()
            pts = seg.to_running_time(Gst.Format.TIME, buf.pts) if buf.pts != Gst.CLOCK_TIME_NONE else -1
            if pts < 0:
                return Gst.FlowReturn.OK
            if self.base is None:
                # a connection starts at a keyframe; audio before it is dropped
                if kind != 'video' or buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
                    return Gst.FlowReturn.OK
                self.base = pts
            if pts < self.base:
                return Gst.FlowReturn.OK
            if src.get_property('caps') is None:
                src.set_property('caps', sample.get_caps())
            out = buf.copy()
            out.pts = pts - self.base
            dts = seg.to_running_time(Gst.Format.TIME, buf.dts) if buf.dts != Gst.CLOCK_TIME_NONE else -1
            out.dts = max(0, dts - self.base) if dts >= 0 else Gst.CLOCK_TIME_NONE
        src.emit('push-buffer', out)
        return Gst.FlowReturn.OK

    def _watch(self, out):
        """Live once the connection carried data; polled, as rtmp2sink says nothing when it connects."""
        if out is not self.out:
            return False
        stats = self.sink.get_property('stats')
        sent = stats.get_value('out-bytes-total') if stats is not None and stats.has_field('out-bytes-total') else 0
        if not self.live and sent and sent > 4096:
            self.live = True
            self.failures = 0
            emit('stream', state='live')
        return True

    def _on_message(self, _bus, msg, out):
        if msg.type != Gst.MessageType.ERROR or out is not self.out:
            return
        err, _dbg = msg.parse_error()
        self._drop(_redact(err.message, self.url))

    def _drop(self, message):
        """The connection failed or dropped: the RTMP pipeline goes, a new one is tried after a pause."""
        with self.lock:
            out, self.out, self.vsrc, self.asrc = self.out, None, None, None
        if out is not None:
            out.get_bus().remove_signal_watch()
            out.set_state(Gst.State.NULL)
        if self.stopped:
            return
        delay = BACKOFF_S[min(self.failures, len(BACKOFF_S) - 1)]
        self.failures += 1
        self.live = False
        emit('stream', state='interrupted', message=message, retryIn=delay)
        self.retry = GLib.timeout_add_seconds(delay, self._connect)

    def stop(self):
        """Ends the stream at once (the FLV has no index to finish): the server sees the connection close."""
        self.stopped = True
        if self.retry is not None:
            GLib.source_remove(self.retry)
            self.retry = None
        with self.lock:
            out, self.out, self.vsrc, self.asrc = self.out, None, None, None
        if out is not None:
            out.get_bus().remove_signal_watch()
            out.send_event(Gst.Event.new_eos())
            out.get_bus().timed_pop_filtered(2 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
            out.set_state(Gst.State.NULL)
