// Background blur of the camera: every camera frame goes through MediaPipe's selfie segmentation (its model and
// WebAssembly ship in the npm package @mediapipe/selfie_segmentation and are served by this server under
// /vendor/selfie-segmentation/, see vite.config.ts; nothing is fetched from elsewhere); the person is drawn sharp
// over the same frame blurred, on a canvas whose stream is the new track. A slow machine gets fewer frames, never
// a late one: a frame arriving while the previous is being segmented is skipped.
import type { Results, SelfieSegmentation } from '@mediapipe/selfie_segmentation';
import type { TrackPipe } from './track-pipe.ts';

const VENDOR = '/vendor/selfie-segmentation/';
const BLUR_PX = 14;

let library: Promise<new (config: { locateFile: (file: string) => string }) => SelfieSegmentation> | null = null;

/** The library is a classic script that defines a global: loaded once, on first use. */
function loadLibrary(): NonNullable<typeof library> {
  library ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = `${VENDOR}selfie_segmentation.js`;
    script.async = true;
    script.onload = () => {
      const ctor = (window as unknown as { SelfieSegmentation?: new (config: { locateFile: (file: string) => string }) => SelfieSegmentation }).SelfieSegmentation;
      if (ctor) resolve(ctor);
      else reject(new Error('the segmentation library did not load'));
    };
    script.onerror = () => {
      library = null;
      reject(new Error('the segmentation library could not be fetched'));
    };
    document.head.appendChild(script);
  });
  return library;
}

export async function backgroundBlurred(camera: MediaStreamTrack): Promise<TrackPipe> {
  const Segmentation = await loadLibrary();
  const segmentation = new Segmentation({ locateFile: (file) => VENDOR + file });
  // the landscape model: 256x144, made for video calls
  segmentation.setOptions({ modelSelection: 1, selfieMode: false });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.setAttribute('aria-hidden', 'true');
  video.style.cssText = 'position:fixed;left:0;top:0;width:2px;height:2px;opacity:0;pointer-events:none';
  video.srcObject = new MediaStream([camera]);
  document.body.appendChild(video);
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    video.pause();
    video.srcObject = null;
    video.remove();
    void segmentation.close().catch(() => {});
  };
  try {
    if (!ctx) throw new Error('no 2D canvas');
    await segmentation.initialize();
    await video.play();
    const draw = (r: Results) => {
      if (closed) return;
      const w = video.videoWidth;
      const h = video.videoHeight;
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      ctx.save();
      ctx.clearRect(0, 0, w, h);
      ctx.drawImage(r.segmentationMask, 0, 0, w, h);
      // the person: the frame where the mask is
      ctx.globalCompositeOperation = 'source-in';
      ctx.drawImage(r.image, 0, 0, w, h);
      // behind it, the whole frame blurred
      ctx.globalCompositeOperation = 'destination-over';
      ctx.filter = `blur(${BLUR_PX}px)`;
      ctx.drawImage(r.image, 0, 0, w, h);
      ctx.restore();
    };
    segmentation.onResults(draw);
    let busy = false;
    const onFrame = () => {
      if (closed) return;
      if (!busy && video.videoWidth > 0) {
        busy = true;
        segmentation
          .send({ image: video })
          .catch(() => {})
          .finally(() => (busy = false));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    const track = canvas.captureStream().getVideoTracks()[0];
    if (!track) throw new Error('no canvas track');
    // the camera's content hint and an end that follows the camera's
    track.contentHint = camera.contentHint;
    return {
      track,
      close() {
        close();
        track.stop();
      },
    };
  } catch (e) {
    close();
    throw e;
  }
}
