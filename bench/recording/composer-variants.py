# The composer's video pipeline alone, for profiling its settings (not part of `npm run bench`): three copies of
# the recording benchmark's sender clip (bench/.cache/, made by `npm run bench -- recording`) decoded, composed
# into a 1280x720 grid, named (16 textoverlays as compose.py has) and encoded with x264, as fast as it goes;
# prints the CPU time per 10 s of video and the thread switches. Variants are run in the order given, so they can
# be alternated:  /usr/bin/python3 bench/recording/composer-variants.py cubic bilinear cubic bilinear
# Variants: cubic (GStreamer's default scaling), bilinear (compose.py's), bilinear-x264-1 (and x264 on one
# thread: compose.py's), bilinear-1 (and the compositor on one worker too), no-overlays (bilinear, without the
# textoverlays).
import os
import resource
import sys
import time

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

CLIP = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '.cache', 'recording-sender-720p-1200k.webm')
FRAMES = 300
X264 = 'speed-preset=ultrafast tune=zerolatency bitrate=2500 key-int-max=30'
BILINEAR = ('config, GstVideoConverter.resampler-method=(GstVideoResamplerMethod)linear, '
            'GstVideoConverter.chroma-resampler-method=(GstVideoResamplerMethod)linear')


def pipeline(bilinear, x264_threads=0, compositor_threads=0, overlays=True):
    cells = [(0, 0), (640, 0), (320, 360)]
    pads = ''.join(f' sink_{i + 1}::xpos={x} sink_{i + 1}::ypos={y} sink_{i + 1}::width=640 sink_{i + 1}::height=360'
                   for i, (x, y) in enumerate(cells))
    s = f'compositor name=c background=1 max-threads={compositor_threads} {pads} ! video/x-raw,width=1280,height=720'
    s += ' ! queue ! videoconvert ! video/x-raw,format=I420'
    if overlays:
        s += ''.join(f' ! textoverlay text="Participant {i + 1}"' for i in range(3)) + ' ! textoverlay text=""' * 13
    s += f' ! videoconvert ! x264enc {X264} threads={x264_threads} ! fakesink'
    s += f' videotestsrc pattern=2 num-buffers={FRAMES} ! video/x-raw,format=I420,width=2,height=2,framerate=30/1 ! c.sink_0'
    for i in range(len(cells)):
        s += f' filesrc location={CLIP} ! matroskademux ! vp8dec ! videoconvert ! queue ! c.sink_{i + 1}'
    p = Gst.parse_launch(s)
    if bilinear:
        for pad in p.get_by_name('c').sinkpads:
            pad.set_property('converter-config', Gst.Structure.from_string(BILINEAR)[0])
    return p


VARIANTS = {
    'cubic': dict(bilinear=False),
    'bilinear': dict(bilinear=True),
    'bilinear-x264-1': dict(bilinear=True, x264_threads=1),
    'bilinear-1': dict(bilinear=True, x264_threads=1, compositor_threads=1),
    'no-overlays': dict(bilinear=True, overlays=False),
}


def run(name):
    p = pipeline(**VARIANTS[name])
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    p.set_state(Gst.State.PLAYING)
    msg = p.get_bus().timed_pop_filtered(300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    p.set_state(Gst.State.NULL)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        print(f'{name}: failed ({msg.parse_error()[0].message if msg else "timeout"})', flush=True)
        return
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    seconds = FRAMES / 30
    switches = (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw)
    print(f'{name:16s} {cpu / seconds * 100:4.0f}% of a core, {switches * 10 / seconds:.0f} thread switches per 10 s of video, '
          f'load {os.getloadavg()[0]:.1f}', flush=True)


def main():
    Gst.init(None)
    names = sys.argv[1:] or ['cubic', 'bilinear', 'bilinear-x264-1']
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or not os.path.exists(CLIP):
        sys.exit(f'variants: {", ".join(VARIANTS)}; the clip {CLIP} comes from `npm run bench -- recording`')
    # the enum types of BILINEAR exist once a videoconvert has been made (as in compose.py)
    Gst.ElementFactory.make('videoconvert', None)
    for name in names:
        run(name)


if __name__ == '__main__':
    main()
