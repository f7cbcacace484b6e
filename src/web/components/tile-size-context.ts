// Lets every remote video tile report its <video> element to the meeting's TileSizeReporter (media/tile-sizes.ts).
import { createContext, useCallback, useContext, type RefCallback } from 'react';
import type { TileSizeReporter, TileSource } from '../media/tile-sizes.ts';

export const TileSizeContext = createContext<TileSizeReporter | null>(null);

/**
 * A ref for the video element of a remote participant's camera or screen: observed while mounted. Undefined
 * `report` (our own tiles) or no reporter: a ref that does nothing.
 */
export function useTileSizeRef(report: { participantId: string; source: TileSource } | undefined): RefCallback<HTMLVideoElement> {
  const reporter = useContext(TileSizeContext);
  const participantId = report?.participantId;
  const source = report?.source;
  return useCallback(
    (el: HTMLVideoElement | null) => {
      if (!el || !reporter || participantId === undefined || source === undefined) return;
      return reporter.observe(el, participantId, source);
    },
    [reporter, participantId, source],
  );
}
