# One multitrack recording: receives a conference's media as plain RTP (SRTP) from the bridge and writes each
# received stream as it arrived (never decoded), VP8 or Opus in its own WebM file, for post-production. Run by
# the recorder part (src/recorder/multitrack-process.ts) with Debian's /usr/bin/python3. Per stream (SSRC):
#   rtpssrcdemux -> rtpjitterbuffer -> rtpvp8depay | rtpopusdepay -> webmmux -> filesink
# made when its first packet arrives (a file per stream: one who leaves and comes back gets new files), and
# finished when its owner no longer sends it (the `participants` set drops it) or at stop. Only GStreamer elements
# touch packets: Python runs once per stream and on rare events (a video's first frames until its first
# keyframe, the depayloader asking for a keyframe after a loss), so many recordings fit on one machine.
#
# argv[1]: JSON settings {dir, bindAddress, srtp, ports?}; ports {audio, video}: the RTP ports to bind (RTCP on
#   the next ones: the recorder's range), else the system picks.
# stdin: one JSON command per line (as compose.py's, checked by commands.py): crypto, participants
#   (the whole set: id, name, sources with SSRC and role), stop.
# stdout: one JSON event per line: ready {videoPort, audioPort}, keyed {at}, track {ssrc, file, kind, role,
#   participantId, offsetMs} (its first frame is written, offsetMs after the recording's start), track-ended
#   {ssrc, file, offsetMs} (the file is finished), error {message}, stopped {file: null}.
import os
import re
import sys
import threading
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gst_import import Gio, GLib, Gst  # noqa: E402
import commands  # noqa: E402
from child_base import ChildBase, child_main  # noqa: E402
from gst_util import bind_pair, emit, make  # noqa: E402
from keyframes import KeyframeRequests  # noqa: E402

# A video asks the bridge for a keyframe when it starts, and again this often until one arrives.
KEYFRAME_RETRY_S = 1.0
JITTER_MS = 300
# How long a stop waits for every file to be finished before it ends the process anyway (the files stay
# readable up to their last cluster).
END_WAIT_S = 5
# Files open at once; a stream beyond them is dropped (and said so).
MAX_TRACKS = 256
MAX_NAME = 32


def safe_name(name):
    """A participant's name reduced to ASCII letters, digits, - and _ (as file-name.ts does with rooms)."""
    plain = ''.join(c for c in unicodedata.normalize('NFKD', name or '') if not unicodedata.combining(c))
    s = re.sub(r'[^A-Za-z0-9_-]+', '_', plain).strip('_')[:MAX_NAME]
    return s or 'participant'


class Track:
    """One received stream, written to one file."""

    def __init__(self, ssrc, kind, file, elements):
        self.ssrc = ssrc
        self.kind = kind
        self.file = file
        self.elements = elements
        self.keyframe = kind == 'audio'  # a video waits for its first keyframe
        self.last_pli = 0.0
        self.ending = False
        self.written = False  # its first frame is in the file (and said so)


class Multitrack(ChildBase):
    def __init__(self, settings):
        self.s = settings
        self.dir = settings['dir']
        self.key = None
        self.decoders = []  # the srtpdec of each input (a new key makes them forget the old one)
        self.keyframes = None
        self.lock = threading.RLock()
        self.tracks = {}  # ssrc -> Track (files open now)
        self.owners = {}  # ssrc -> (participant id, 'camera'|'screen')
        self.names = {}  # participant id -> name
        self.counts = {}  # file prefix -> files made with it
        self.retired = {}  # ssrc -> (kind, its drop sink or None): streams whose file was finished
        self.demuxes = {}
        self.stopping = False
        self.playing = False
        self.finished = False
        self.sockets = []
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.Pipeline.new('multitrack')
        self._build()

    def _build(self):
        self.ports = {}
        for kind, caps in (('video', 'media=video,clock-rate=90000,encoding-name=VP8,payload=96'),
                           ('audio', 'media=audio,clock-rate=48000,encoding-name=OPUS,payload=111')):
            rtp, rtcp = bind_pair(self.s['bindAddress'], (self.s.get('ports') or {}).get(kind))
            self.sockets += [rtp, rtcp]
            self.ports[kind] = rtp.getsockname()[1]
            if kind == 'video':
                self.video_rtcp_socket = rtcp
            srtp = self.s['srtp']
            src = make('udpsrc', socket=Gio.Socket.new_from_fd(rtp.fileno()), close_socket=False,
                       caps=Gst.Caps.from_string(('application/x-srtp,' if srtp else 'application/x-rtp,') + caps))
            demux = make('rtpssrcdemux')
            chain = [src, make('srtpdec'), demux] if srtp else [src, demux]
            if srtp:
                chain[1].connect('request-key', self._request_key)
                self.decoders.append(chain[1])
            for e in chain:
                self.pipeline.add(e)
            for a, b in zip(chain, chain[1:]):
                a.link(b)
            demux.connect('pad-added', self._on_stream, kind)
            self.demuxes[kind] = demux
            # the bridge's sender reports: read and dropped (no ICMP "port unreachable" back)
            rsrc = make('udpsrc', socket=Gio.Socket.new_from_fd(rtcp.fileno()), close_socket=False)
            rsink = make('fakesink', sync=False, **{'async': False})
            self.pipeline.add(rsrc)
            self.pipeline.add(rsink)
            rsrc.link(rsink)

    def _request_key(self, _dec, _ssrc):
        if self.key is None:
            return None
        caps = Gst.Caps.from_string('application/x-srtp,srtp-cipher=aes-128-icm,srtp-auth=hmac-sha1-80,srtcp-cipher=aes-128-icm,srtcp-auth=hmac-sha1-80')
        caps.set_value('srtp-key', Gst.Buffer.new_wrapped(self.key))
        return caps

    # ---- streams ----
    def _file_for(self, ssrc, kind):
        """<name>-<audio|video|screen>-<n>.webm, n counting that name's files of that kind."""
        pid, role = self.owners.get(ssrc, (None, 'camera'))
        label = 'audio' if kind == 'audio' else 'screen' if role == 'screen' else 'video'
        prefix = f'{safe_name(self.names.get(pid, "") if pid else "unknown")}-{label}'
        n = self.counts.get(prefix, 0) + 1
        self.counts[prefix] = n
        return f'{prefix}-{n}.webm', pid, role

    def _on_stream(self, demux, pad, kind):
        """A new SSRC arrived (streaming thread): a new file for it."""
        if not pad.get_name().startswith('src_'):
            return  # the RTCP pads: left unlinked (the demuxer drops what they get)
        ssrc = int(pad.get_name().split('_')[1])
        with self.lock:
            refused = self.stopping or len(self.tracks) >= MAX_TRACKS
            if ssrc in self.retired or refused:
                # packets still on their way after its file was finished (or while stopping, or beyond
                # MAX_TRACKS): dropped into a sink of their own, so no stream's trouble stops the others
                drop = make('fakesink', sync=False, **{'async': False})
                self.pipeline.add(drop)
                drop.sync_state_with_parent()
                pad.link(drop.get_static_pad('sink'))
                self.retired[ssrc] = (kind, drop)
                if refused and not self.stopping:
                    emit('error', message=f'stream {ssrc}: not recorded (more than {MAX_TRACKS} files open)')
                return
        try:
            with self.lock:
                name, pid, role = self._file_for(ssrc, kind)
            # timestamps from RTP only (mode none): each frame keeps the sender's timing, however it arrived
            jb = make('rtpjitterbuffer', latency=JITTER_MS, drop_on_latency=True, mode=0)
            if kind == 'video':
                # after a loss it drops frames until a keyframe and asks for one (turned into a PLI below)
                depay = make('rtpvp8depay', wait_for_keyframe=True, request_keyframe=True)
            else:
                depay = make('rtpopusdepay')
            mux = make('webmmux', writing_app='Tertulia recorder', offset_to_zero=True)
            sink = make('filesink', location=os.path.join(self.dir, name), sync=False, **{'async': False})
            # opusparse: the muxer wants the rate and channels, which rtpopusdepay does not say
            elements = [jb, depay, mux, sink] if kind == 'video' else [jb, depay, make('opusparse'), mux, sink]
            track = Track(ssrc, kind, name, elements)
            for e in elements:
                self.pipeline.add(e)
            for a, b in zip(elements, elements[1:]):
                if not a.link(b):
                    raise RuntimeError(f'cannot link {a.get_name()} to {b.get_name()}')
            depay.get_static_pad('src').add_probe(Gst.PadProbeType.BUFFER, self._first_frames, (track, pid, role))
            sink.get_static_pad('sink').add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, self._on_file_event, track)
            if kind == 'video':
                depay.get_static_pad('sink').add_probe(Gst.PadProbeType.EVENT_UPSTREAM, self._on_upstream, track)
            for e in elements:
                e.sync_state_with_parent()
            pad.link(jb.get_static_pad('sink'))
            with self.lock:
                self.tracks[ssrc] = track
            if kind == 'video':
                GLib.idle_add(self._ask_keyframe, track)
        except Exception as e:  # noqa: BLE001 - reported, the recording goes on without this stream
            emit('error', message=f'stream {ssrc}: {e}')

    def _first_frames(self, pad, info, ctx):
        """Until a video's first keyframe: frames that cannot be decoded are dropped, so its file starts decodable."""
        track, pid, role = ctx
        buf = info.get_buffer()
        if not track.keyframe and buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
            return Gst.PadProbeReturn.DROP
        track.keyframe = True
        track.written = True
        # when it arrived: now, less the jitter buffer's wait (the file's own timestamps start at 0)
        emit('track', ssrc=track.ssrc, file=track.file, kind=track.kind, role=role if track.kind == 'video' else None,
             participantId=pid, offsetMs=max(0, self._now_ms() - JITTER_MS))
        return Gst.PadProbeReturn.REMOVE

    def _on_upstream(self, _pad, info, track):
        ev = info.get_event()
        if ev.type == Gst.EventType.CUSTOM_UPSTREAM and ev.has_name('GstForceKeyUnit'):
            GLib.idle_add(self._send_pli, track)
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def _send_pli(self, track):
        now = time.monotonic()
        if self.keyframes is not None and now - track.last_pli >= KEYFRAME_RETRY_S:
            track.last_pli = now
            self.keyframes.request(track.ssrc)
        return False

    def _ask_keyframe(self, track):
        """At a video's start, and every KEYFRAME_RETRY_S until its first keyframe came (the first one lost)."""
        if track.keyframe or track.ending or self.finished:
            return False
        self._send_pli(track)
        GLib.timeout_add(int(KEYFRAME_RETRY_S * 1000), self._ask_keyframe, track)
        return False

    def _end_track(self, track):
        """Its source went away: no more packets into it, and the end of the stream through it to the file."""
        if track.ending:
            return
        track.ending = True
        with self.lock:
            self.retired[track.ssrc] = (track.kind, None)
        self.demuxes[track.kind].emit('clear-ssrc', track.ssrc)
        track.elements[0].get_static_pad('sink').send_event(Gst.Event.new_eos())

    def _on_file_event(self, _pad, info, track):
        if info.get_event().type == Gst.EventType.EOS:
            GLib.idle_add(self._closed, track)
        return Gst.PadProbeReturn.OK

    def _closed(self, track):
        """Its file is finished (the muxer wrote its cues and duration): the branch goes."""
        with self.lock:
            if self.tracks.get(track.ssrc) is track:
                del self.tracks[track.ssrc]
        if not self.finished:
            for e in track.elements:
                e.set_state(Gst.State.NULL)
                self.pipeline.remove(e)
        if track.written:
            emit('track-ended', ssrc=track.ssrc, file=track.file, offsetMs=self._now_ms())
        else:
            # nothing could be written (a video whose keyframe never came): no empty file is left
            try:
                os.unlink(os.path.join(self.dir, track.file))
            except OSError:
                pass
        if self.stopping and not self.tracks:
            self._finish()
        return False

    def _now_ms(self):
        clock = self.pipeline.get_clock()
        if clock is None or not self.playing:
            return 0
        return max(0, (clock.get_time() - self.pipeline.get_base_time()) // Gst.MSECOND)

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
                emit('keyed', at=int(time.time() * 1000))
            elif cmd == 'participants':
                people, owners, _speaker = commands.parse_participants(msg)
                with self.lock:
                    self.names = dict(people)
                    self.owners = owners
                    gone = [t for s, t in self.tracks.items() if s not in owners]
                    back = [(s, r) for s, r in self.retired.items() if s in owners]
                for t in gone:
                    self._end_track(t)
                for ssrc, (kind, drop) in back:
                    # sent again (a screen shared again with the same SSRC): its next packet makes a new file
                    del self.retired[ssrc]
                    self.demuxes[kind].emit('clear-ssrc', ssrc)
                    if drop is not None:
                        drop.set_state(Gst.State.NULL)
                        self.pipeline.remove(drop)
            elif cmd == 'stop':
                self.stop()
            else:
                raise ValueError(f'unknown command {cmd!r}')
        except Exception as e:  # noqa: BLE001 - a bad command is answered, never fatal
            emit('error', message=f'bad command: {str(e)[:200]}')

    def stop(self):
        """Finishes every file: the end of the stream through each track; the process ends when all are closed."""
        if self.stopping:
            return
        self.stopping = True
        with self.lock:
            tracks = list(self.tracks.values())
        if not self.playing or not tracks:
            self._finish()
            return
        for t in tracks:
            self._end_track(t)
        GLib.timeout_add_seconds(END_WAIT_S, self._finish, 'some files were not finished in time')

    def _finish(self, problem=None):
        if self.finished:
            return False
        self.finished = True
        self.pipeline.set_state(Gst.State.NULL)
        if problem:
            emit('error', message=problem)
        emit('stopped', file=None)
        self.loop.quit()
        return False

    def _on_message(self, _bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, _dbg = msg.parse_error()
            src = msg.src.get_name() if msg.src else '?'
            if not self.stopping:
                # one stream's trouble (a bad packet, a full disk for one file) is reported; the others go on
                emit('error', message=f'{src}: {err.message}')


def check_settings(settings):
    if not isinstance(settings.get('dir'), str) or not os.path.isdir(settings['dir']):
        raise ValueError('dir: an existing folder')
    if not isinstance(settings.get('bindAddress'), str):
        raise ValueError('bindAddress: an IPv4 address')
    settings['srtp'] = bool(settings.get('srtp'))


def main():
    child_main(check_settings, Multitrack)


if __name__ == '__main__':
    main()
