# One composed recording: receives a conference's media as plain RTP (SRTP) from the bridge, decodes it,
# composes the video (GStreamer compositor: one pad per camera/screen, moved and resized live) and mixes the
# audio (audiomixer; each voice level-normalised by webrtcdsp's gain control), encodes H.264 + AAC and writes
# Matroska (a crash leaves a file playable up to its last cluster), or for a live stream pushes FLV over RTMP(S).
# Run by the recorder part (src/recorder/compositor-process.ts) with Debian's /usr/bin/python3. Beside it:
# layout.py (where tiles go), commands.py (the commands, checked), keyframes.py (keyframe requests to the
# bridge), stream_output.py (the live stream's output and its reconnects), gst_util.py.
#
# argv[1]: JSON settings {output, width, height, fps, videoBitrate (kbit/s), layout, bindAddress, srtp, ports?, stream?}.
#   ports {audio, video}: the RTP ports to bind (RTCP on the next ones), else the system picks; stream: true
#   sends the picture and sound to an RTMP server (stream_output.py, address by the `stream` command) instead of
#   writing `output`.
# stdin: one JSON command per line:
#   {"cmd":"crypto","key":"<base64 30 bytes>","sendKey":"<base64>","bridge":{"address","videoRtcpPort"}}
#       the SRTP key the bridge encrypts with; the one our RTCP (keyframe requests) is encrypted with, and
#       where the bridge takes that RTCP. Sent again while it runs when the endpoint moved to another bridge: the
#       new keys replace the old ones (the decoders forget their streams' keys) and the file goes on.
#   {"cmd":"participants","participants":[{"id","name","sources":[{"ssrc","kind","role"?}]}],"speaker"?}  the whole
#       set, and who speaks now
#   {"cmd":"layout","layout":"grid"|"speaker"}
#   {"cmd":"stream","url":"rtmp(s)://host/app/key"}  where the live stream goes (stream mode; on stdin, not in argv)
#   {"cmd":"stop"}
# stdout: one JSON event per line: ready {videoPort, audioPort}, keyed (the key is set: media may flow),
#   layout {layout, tiles, videos: [{ssrc, width, height}]: how large each video is drawn, 0x0 not drawn}, error {message},
#   stopped {file}, stream {state: live|interrupted, message?, retryIn?}. A bad command gets an error event and changes nothing; it
#   never stops the recording.
# Streams are told apart by SSRC (rtpssrcdemux): one UDP port for every video, one for every audio.
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gst_import import Gio, GLib, Gst  # noqa: E402
import commands  # noqa: E402
import layout  # noqa: E402
from child_base import ChildBase, child_main  # noqa: E402
from gst_util import bind_pair, emit, make  # noqa: E402
from keyframes import KeyframeRequests  # noqa: E402
from stream_output import StreamOutput  # noqa: E402

# A video that sent nothing for this long shows its owner's name instead (camera turned off).
STALE_VIDEO_S = 1.5
# A video whose packets arrive but that decoded nothing for this long asks the bridge for a keyframe (PLI),
# at most this often: its first keyframe was lost, or a loss broke the decoding.
KEYFRAME_WAIT_S = 1.0
# How long the jitter buffers wait for late packets, and the compositor/mixer for late branches: a recording is
# not a conversation, so they wait long enough for a busy machine's decoders (a frame later than this is dropped).
JITTER_MS = 300
AGGREGATOR_LATENCY_NS = 1000 * Gst.MSECOND
# Frames waiting for the encoder: beyond this the oldest are dropped (a busy machine gets a choppy picture, never
# a stalled pipeline whose inputs all arrive too late).
ENCODER_QUEUE_NS = 1000 * Gst.MSECOND
# How long a stop waits for the end of the stream to come through the inputs before ending the encoders.
END_WAIT_S = 3
MAX_NAME = 48
# How the compositor scales each camera into its tile: bilinear, not the default cubic. Measured with
# `npm run bench -- recording` (docs/BENCHMARKS.md): about a fifth less CPU for three 720p cameras in a grid, and
# less memory; a tile drawn at half size or less looks the same. (The enum type exists once a videoconvert has
# been made, which _build does before any stream arrives.)
TILE_SCALING = ('config, GstVideoConverter.resampler-method=(GstVideoResamplerMethod)linear, '
                'GstVideoConverter.chroma-resampler-method=(GstVideoResamplerMethod)linear')

class Branch:
    """One received stream (SSRC) from the demuxer to its compositor or mixer pad."""

    def __init__(self, kind, elements, pad):
        self.kind = kind
        self.elements = elements
        self.pad = pad
        self.last_buffer = 0.0
        self.last_packet = 0.0
        self.last_pli = 0.0


class Recording(ChildBase):
    def __init__(self, settings):
        self.s = settings
        self.w, self.h, self.fps = settings['width'], settings['height'], settings['fps']
        self.key = None
        self.decoders = []  # the srtpdec of each input (a new key makes them forget the old one)
        self.keyframes = None  # KeyframeRequests, once the bridge's address and key are known
        self.lock = threading.RLock()
        self.branches = {}  # ssrc -> Branch
        self.owners = {}  # ssrc -> (participant id, role)
        self.people = []  # [(id, name)] in join order
        self.speaker = None
        self.mode = settings.get('layout') if settings.get('layout') in commands.LAYOUTS else 'grid'
        self.labels = []  # textoverlay pool, one per drawn tile
        self.stopping = False
        self.playing = False
        self.finished = False
        self.sockets = []
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.Pipeline.new('recording')
        self._build()

    # ---- pipeline ----
    def _add(self, *elements):
        for e in elements:
            self.pipeline.add(e)
        for a, b in zip(elements, elements[1:]):
            if not a.link(b):
                raise RuntimeError(f'cannot link {a.get_name()} to {b.get_name()}')

    def _build(self):
        s = self.s
        raw = f'video/x-raw,width={self.w},height={self.h},framerate={self.fps}/1'
        # video: a black live background drives the compositor at the output rate whoever sends
        self.compositor = make('compositor', background=1, latency=AGGREGATOR_LATENCY_NS)
        chain = [self.compositor, make('queue', leaky=2, max_size_time=ENCODER_QUEUE_NS, max_size_buffers=0, max_size_bytes=0),
                 make('videoconvert'), make('capsfilter', caps=Gst.Caps.from_string(raw + ',format=I420'))]
        for i in range(layout.MAX_TILES):
            # position: xpos/ypos (0..1) place the text's centre, clamped to the frame
            t = make('textoverlay', text='', halignment=4, valignment=3, shaded_background=True, wait_text=False, auto_resize=False)
            self.labels.append(t)
            chain.append(t)
        chain += [
            make('videoconvert'),
            self._named('venc', make('x264enc', bitrate=s['videoBitrate'], speed_preset=1, tune=0x4, key_int_max=self.fps, threads=self._encoder_threads())),
            make('h264parse', config_interval=-1),
            make('queue', max_size_time=3 * Gst.SECOND, max_size_buffers=0, max_size_bytes=0),
        ]
        self._add(*chain)
        # the clock of the picture: a live 2x2 black source (the compositor paints the black background itself)
        bg = make('videotestsrc', is_live=True, pattern=2)
        bg_caps = make('capsfilter', caps=Gst.Caps.from_string(f'video/x-raw,format=I420,width=2,height=2,framerate={self.fps}/1'))
        self._add(bg, bg_caps)
        bg_pad = self.compositor.request_pad_simple('sink_%u')
        bg_pad.set_property('zorder', 0)
        bg_caps.get_static_pad('src').link(bg_pad)
        # audio: a silent live source keeps the mix running while nobody talks
        self.mixer = make('audiomixer', latency=AGGREGATOR_LATENCY_NS)
        silence = make('audiotestsrc', is_live=True, wave=4)
        acaps = make('capsfilter', caps=Gst.Caps.from_string('audio/x-raw,rate=48000,channels=2'))
        self._add(silence, acaps)
        audio = [self.mixer, make('audioconvert'), make('audioresample'), self._named('aenc', make('avenc_aac', bitrate=128000)), make('aacparse'),
                 make('queue', max_size_time=3 * Gst.SECOND, max_size_buffers=0, max_size_bytes=0)]
        self._add(*audio)
        acaps.link(self.mixer)
        self.stream = None
        if s.get('stream'):
            self.stream = StreamOutput(self.pipeline, chain[-1], audio[-1])
        else:
            self.mux = make('matroskamux', writing_app='Tertulia recorder')
            sink = make('filesink', location=s['output'])
            # the file is whole once the end of the stream reaches it (the muxer wrote its cues and duration first)
            sink.get_static_pad('sink').add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, self._on_file_event)
            self._add(self.mux, sink)
            chain[-1].link(self.mux)
            audio[-1].link(self.mux)
        # inputs
        self.ports = {}
        for kind, caps in (('video', 'media=video,clock-rate=90000,encoding-name=VP8,payload=96'),
                           ('audio', 'media=audio,clock-rate=48000,encoding-name=OPUS,payload=111')):
            rtp, rtcp = bind_pair(s['bindAddress'], (s.get('ports') or {}).get(kind))
            self.sockets += [rtp, rtcp]
            self.ports[kind] = rtp.getsockname()[1]
            if kind == 'video':
                self.video_rtcp_socket = rtcp
            srtp = s['srtp']
            src = make('udpsrc', socket=Gio.Socket.new_from_fd(rtp.fileno()), close_socket=False,
                       caps=Gst.Caps.from_string(('application/x-srtp,' if srtp else 'application/x-rtp,') + caps))
            demux = make('rtpssrcdemux')
            if srtp:
                dec = make('srtpdec')
                dec.connect('request-key', self._request_key)
                self.decoders.append(dec)
                self._add(src, dec, demux)
            else:
                self._add(src, demux)
            demux.connect('pad-added', self._on_stream, kind)
            # the bridge's sender reports: read and dropped (no ICMP "port unreachable" back)
            self._add(make('udpsrc', socket=Gio.Socket.new_from_fd(rtcp.fileno()), close_socket=False), make('fakesink', sync=False, **{'async': False}))

    def _request_key(self, _dec, _ssrc):
        if self.key is None:
            return None
        buf = Gst.Buffer.new_wrapped(self.key)
        caps = Gst.Caps.from_string('application/x-srtp,srtp-cipher=aes-128-icm,srtp-auth=hmac-sha1-80,srtcp-cipher=aes-128-icm,srtcp-auth=hmac-sha1-80')
        caps.set_value('srtp-key', buf)
        return caps

    def _on_stream(self, demux, pad, kind):
        """A new SSRC arrived (streaming thread): decode it into a new compositor or mixer pad."""
        if not pad.get_name().startswith('src_'):
            return  # the RTCP pads
        ssrc = int(pad.get_name().split('_')[1])
        try:
            jb = make('rtpjitterbuffer', latency=JITTER_MS, drop_on_latency=True)
            if kind == 'video':
                elements = [jb, make('rtpvp8depay'), make('vp8dec'), make('videoconvert'), make('queue', max_size_buffers=3, leaky=2)]
                agg = self.compositor
            else:
                elements = [jb, make('rtpopusdepay'), make('opusdec', plc=True), make('audioconvert'), make('audioresample')]
                if Gst.ElementFactory.find('webrtcdsp') is not None:
                    # each voice brought toward one level (automatic gain control), so a quiet microphone is heard
                    elements += [make('webrtcdsp', echo_cancel=False, noise_suppression=False, high_pass_filter=False, gain_control=True),
                                 make('audioconvert')]
                agg = self.mixer
            for e in elements:
                self.pipeline.add(e)
            for a, b in zip(elements, elements[1:]):
                a.link(b)
            sink = agg.request_pad_simple('sink_%u')
            if kind == 'video':
                sink.set_property('alpha', 0.0)  # shown once its owner is known (layout)
                sink.set_property('zorder', 1)
                sink.set_property('sizing-policy', 1)  # keep-aspect-ratio
                sink.set_property('converter-config', Gst.Structure.from_string(TILE_SCALING)[0])
            branch = Branch(kind, elements, sink)
            sink.add_probe(Gst.PadProbeType.BUFFER, self._on_buffer, branch)
            pad.add_probe(Gst.PadProbeType.BUFFER, self._on_packet, branch)
            elements[-1].get_static_pad('src').link(sink)
            for e in elements:
                e.sync_state_with_parent()
            pad.link(jb.get_static_pad('sink'))
            with self.lock:
                self.branches[ssrc] = branch
            GLib.idle_add(self._relayout)
        except Exception as e:  # noqa: BLE001 - reported, the recording goes on without this stream
            emit('error', message=f'stream {ssrc}: {e}')

    def _on_buffer(self, _pad, _info, branch):
        branch.last_buffer = time.monotonic()
        return Gst.PadProbeReturn.OK

    def _on_packet(self, _pad, _info, branch):
        branch.last_packet = time.monotonic()
        return Gst.PadProbeReturn.OK

    def _send_pli(self, ssrc):
        if self.keyframes is not None:
            self.keyframes.request(ssrc)

    # ---- layout ----
    def _relayout(self):
        with self.lock:
            now = time.monotonic()
            people = [pid for pid, _ in self.people]
            screens = [('screen', pid) for ssrc, (pid, role) in self.owners.items() if role == 'screen' and ssrc in self.branches and pid in people]
            cells = layout.place(people + screens, self.w, self.h, self.mode, self.speaker)
            names = dict(self.people)
            cameras = {}
            for ssrc, (pid, role) in self.owners.items():
                b = self.branches.get(ssrc)
                if b and role != 'screen' and b.kind == 'video':
                    cameras[pid] = (ssrc, b)
            shown = set()
            for key, (x, y, w, h) in cells.items():
                if isinstance(key, tuple):
                    ssrc = next((s for s, (p, r) in self.owners.items() if r == 'screen' and p == key[1]), None)
                    b = self.branches.get(ssrc) if ssrc is not None else None
                else:
                    b = cameras.get(key, (None, None))[1]
                if b is not None:
                    self._show(b.pad, x, y, w, h)
                    shown.add(id(b))
            for b in self.branches.values():
                if b.kind == 'video' and id(b) not in shown:
                    b.pad.set_property('alpha', 0.0)
            # names: at the bottom of a tile with live video, in its middle without
            labels = [k for k in cells if not isinstance(k, tuple)]
            for i, t in enumerate(self.labels):
                if i >= len(labels):
                    t.set_property('text', '')
                    continue
                pid = labels[i]
                x, y, w, h = cells[pid]
                b = cameras.get(pid, (None, None))[1]
                live = b is not None and now - b.last_buffer < STALE_VIDEO_S
                if b is not None:
                    b.pad.set_property('alpha', 1.0 if live else 0.0)
                size = max(12, min(28, h // (14 if live else 8)))
                t.set_property('font-desc', f'Sans {size}px')
                t.set_property('xpos', (x + w / 2) / self.w)
                t.set_property('ypos', (y + h - size) / self.h if live else (y + h / 2) / self.h)
                # textoverlay reads Pango markup: the name is escaped, so it is drawn as typed
                t.set_property('text', GLib.markup_escape_text(names.get(pid, '')[:MAX_NAME]))
            emit('layout', layout=self.mode, tiles=len(cells), videos=layout.video_sizes(self.owners, cells, self.w, self.h))
        return False

    def _show(self, pad, x, y, w, h):
        for k, v in (('xpos', x), ('ypos', y), ('width', w), ('height', h), ('alpha', 1.0)):
            pad.set_property(k, v)

    def _watch_stale(self):
        """Every half second: a camera that went quiet (turned off) shows its name, and back."""
        with self.lock:
            now = time.monotonic()
            live = tuple(sorted(s for s, b in self.branches.items() if b.kind == 'video' and now - b.last_buffer < STALE_VIDEO_S))
            for ssrc, b in self.branches.items():
                waiting = now - b.last_packet < KEYFRAME_WAIT_S and now - b.last_buffer > KEYFRAME_WAIT_S
                if b.kind == 'video' and waiting and now - b.last_pli > KEYFRAME_WAIT_S:
                    b.last_pli = now
                    self._send_pli(ssrc)
        if live != getattr(self, '_live', None):
            self._live = live
            self._relayout()
        return not self.stopping

    # ---- commands ----
    def command(self, line):
        try:
            cmd, msg = commands.parse_line(line)
            if cmd == 'crypto':
                key, send_key, bridge = commands.parse_crypto(msg)
                if self.keyframes is None and bridge is not None:
                    self.keyframes = KeyframeRequests(self.pipeline, self.video_rtcp_socket, send_key, *bridge)
                elif bridge is not None:
                    self.keyframes.retarget(send_key, *bridge)
                rekey = self.key is not None
                self.key = key
                if rekey:
                    for dec in self.decoders:
                        dec.emit('clear-keys')  # each stream asks for the (new) key again
                self._play()
                emit('keyed')
            elif cmd == 'participants':
                people, owners, speaker = commands.parse_participants(msg)
                with self.lock:
                    self.people, self.owners, self.speaker = people, owners, speaker
                self._relayout()
            elif cmd == 'layout':
                self.mode = commands.parse_layout(msg)
                self._relayout()
            elif cmd == 'stream':
                if self.stream is None:
                    raise ValueError('not a live stream')
                self.stream.start(commands.parse_stream(msg))
            elif cmd == 'stop':
                self.stop()
            else:
                raise ValueError(f'unknown command {cmd!r}')
        except Exception as e:  # noqa: BLE001 - a bad command is answered, never fatal
            emit('error', message=f'bad command: {str(e)[:200]}')

    def _encoder_threads(self):
        """
        x264 on one thread up to 1080p: a recorder runs several recordings on few cores, where the encoder's own
        slice threads (three on two cores) only add thread switches (measured: docs/BENCHMARKS.md, Recordings).
        Larger frames keep x264's automatic threads, so one recording still keeps up.
        """
        return 1 if self.w * self.h <= 1920 * 1080 else 0

    def _named(self, name, element):
        setattr(self, name, element)
        return element

    def _on_file_event(self, _pad, info):
        if info.get_event().type == Gst.EventType.EOS:
            GLib.idle_add(self._finish)
        return Gst.PadProbeReturn.OK

    def stop(self):
        """
        Ends the file: the end of the stream goes in at every source, so what is on its way still reaches the
        file. If it has not arrived after END_WAIT_S (a busy machine, a branch holding it), it goes straight into
        the two encoders, which drain into the muxer; the muxer then writes its cues and duration either way.
        """
        if self.stopping:
            return
        self.stopping = True
        if self.stream is not None:
            # a live stream has no file to finish: the connection closes, the server has what it received
            self.stream.stop()
            self._finish()
            return
        if not self.playing:
            self._finish()
            return
        self.pipeline.send_event(Gst.Event.new_eos())
        GLib.timeout_add_seconds(END_WAIT_S, self._end_encoders)
        GLib.timeout_add_seconds(3 * END_WAIT_S, self._finish, 'the end of the stream did not reach the file in time')

    def _end_encoders(self):
        if not self.finished:
            for enc in (self.venc, self.aenc):
                enc.get_static_pad('sink').send_event(Gst.Event.new_eos())
        return False

    def _finish(self, problem=None):
        if self.finished:
            return False
        self.finished = True
        self.pipeline.set_state(Gst.State.NULL)
        if problem:
            emit('error', message=problem)
        emit('stopped', file=self.s.get('output'))
        self.loop.quit()
        return False

    def _on_message(self, _bus, msg):
        if msg.type == Gst.MessageType.EOS:
            self._finish()
        elif msg.type == Gst.MessageType.ERROR:
            err, _dbg = msg.parse_error()
            src = msg.src.get_name() if msg.src else '?'
            if self.stopping:
                return  # inputs meeting the end of the stream the encoders already have
            emit('error', message=f'{src}: {err.message}')
            # a broken input stream is dropped; a broken output ends the recording
            if not self.stopping and any(src.startswith(p) for p in ('appsink', 'filesink', 'matroskamux', 'x264enc', 'avenc_aac', 'compositor', 'audiomixer')):
                self._finish('the recording stopped on an error')

    def _before_loop(self):
        GLib.timeout_add(500, self._watch_stale)


def check_settings(settings):
    for k in ('width', 'height', 'fps', 'videoBitrate'):
        if not isinstance(settings.get(k), int) or settings[k] <= 0:
            raise ValueError(f'{k}: a positive integer')


def main():
    child_main(check_settings, Recording)


if __name__ == '__main__':
    main()
