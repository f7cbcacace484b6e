// What one receiver's copy of one source needs beyond the shared packet: for a simulcast camera the VP8
// rewriter (one continuous stream out of whichever layer is selected) and the layer-selection demand; for
// every video source the RTX sequence numbers of retransmissions sent to this receiver.
import { randomInt } from 'node:crypto';
import type { Endpoint, Source } from './endpoint.ts';
import { createSourceDemand, type SimulcastLayer, type SourceDemand } from './simulcast/layer-selector.ts';
import { Vp8Rewriter } from './simulcast/vp8-rewriter.ts';

export class OutStream {
  readonly source: Source;
  readonly receiver: Endpoint;
  /** Simulcast sources only. */
  readonly rewriter: Vp8Rewriter | null;
  readonly demand: SourceDemand | null;
  /** Sequence number of the next RTX packet (retransmission or probe padding) to this receiver. */
  rtxSeq = randomInt(0, 0x8000);

  /** `onKeyframeNeeded(layer)`: the rewriter waits for a keyframe of that layer of `source`. */
  constructor(source: Source, receiver: Endpoint, onKeyframeNeeded: (source: Source, layer: number) => void) {
    this.source = source;
    this.receiver = receiver;
    if (source.rids !== null) {
      this.rewriter = new Vp8Rewriter(source.ssrc, (layer) => onKeyframeNeeded(source, layer));
      const layers: SimulcastLayer[] = source.rids.map(() => ({ width: 0, height: 0, bitrateBps: 0 }));
      this.demand = createSourceDemand(layers);
    } else {
      this.rewriter = null;
      this.demand = null;
    }
  }
}
