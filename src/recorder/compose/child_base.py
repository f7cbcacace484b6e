# What the recorder's two GStreamer children share: starting the pipeline (READY at once, with its ports bound;
# PLAYING once the SRTP key is set), reading commands from stdin on a thread and handing them to the main loop
# (stdin closed: the recorder went away, so the files are finished), and main(): settings from argv[1], any
# failure to start told as error + stopped events and exit 1. A child class has `pipeline`, `loop`, `ports`,
# `s` (the settings), `playing`, and `command(line)`, `stop()`, `_finish(problem)`, `_on_message(bus, msg)`.
import faulthandler
import json
import os
import sys
import threading

from gst_import import GLib, Gst
from gst_util import emit


class ChildBase:
    def _play(self):
        """The files start when the media may flow (the key is set): not while the recorder still sets up."""
        if self.playing:
            return
        self.playing = True
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self._finish('the pipeline did not start')

    def _before_loop(self):
        """Timers a child adds before its main loop runs."""

    def run(self):
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect('message', self._on_message)
        # the ports are bound already (the kernel keeps what arrives until the pipeline plays)
        if self.pipeline.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError('the pipeline did not start')
        emit('ready', videoPort=self.ports['video'], audioPort=self.ports['audio'])
        if not self.s['srtp']:
            self._play()
        self._before_loop()
        threading.Thread(target=self._read_commands, daemon=True).start()
        self.loop.run()

    def _read_commands(self):
        for line in sys.stdin:
            if line.strip():
                GLib.idle_add(lambda l=line: self.command(l) and False)
        # the recorder went away: finish the files
        GLib.idle_add(lambda: self.stop() and False)


def child_main(check_settings, make_child):
    """Runs a child: `check_settings(settings)` raises ValueError on bad settings; `make_child(settings)` builds it."""
    os.umask(0o027)  # recordings are not for every user of the machine
    faulthandler.enable(all_threads=True)  # a crash in GStreamer leaves the Python stacks on stderr (the log)
    Gst.init(None)
    try:
        settings = json.loads(sys.argv[1])
        check_settings(settings)
        make_child(settings).run()
    except Exception as e:  # noqa: BLE001
        emit('error', message=str(e)[:500])
        emit('stopped', file=None)
        sys.exit(1)
