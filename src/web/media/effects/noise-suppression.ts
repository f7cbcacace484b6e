// Noise suppression of the microphone: the device track through RNNoise (rnnoise-worklet.ts) in an
// AudioWorklet, out as a new track.
import type { TrackPipe } from './track-pipe.ts';
import workletUrl from './rnnoise-worklet.ts?worker&url';

export async function noiseSuppressed(mic: MediaStreamTrack): Promise<TrackPipe> {
  const ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
  try {
    await ctx.audioWorklet.addModule(workletUrl);
    const source = ctx.createMediaStreamSource(new MediaStream([mic]));
    const node = new AudioWorkletNode(ctx, 'tertulia-rnnoise', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 1, channelCountMode: 'explicit' });
    const sink = ctx.createMediaStreamDestination();
    source.connect(node).connect(sink);
    // created outside a click (a reload with the setting on), the context may wait for one
    const resume = () => void ctx.resume().catch(() => {});
    if (ctx.state !== 'running') {
      resume();
      document.addEventListener('pointerdown', resume, { once: true });
    }
    const track = sink.stream.getAudioTracks()[0];
    if (!track) throw new Error('no output track');
    return {
      track,
      close() {
        document.removeEventListener('pointerdown', resume);
        node.port.postMessage('close');
        source.disconnect();
        node.disconnect();
        track.stop();
        void ctx.close().catch(() => {});
      },
    };
  } catch (e) {
    void ctx.close().catch(() => {});
    throw e;
  }
}
