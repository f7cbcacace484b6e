// The camera's background, changed: every camera frame goes through MediaPipe's selfie segmentation (its model
// and WebAssembly ship in the npm package @mediapipe/selfie_segmentation and are served by this server under
// /vendor/selfie-segmentation/, see vite.config.ts; nothing is fetched from elsewhere); the person is drawn as
// they are over a backdrop, on a canvas whose stream is the new track. The backdrop is the same frame blurred
// (background blur) or a picture (virtual background, background-images.ts) scaled to cover the frame. A slow
// machine gets fewer frames, never a late one: a frame arriving while the previous is being segmented is skipped.
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

/** What is drawn behind the person: the frame blurred, or a picture. */
export type Backdrop = { kind: 'blur' } | { kind: 'image'; image: ImageBitmap };

/** Draws `image` over the whole w x h canvas, scaled to cover it and centred (as CSS object-fit: cover). */
function drawCover(ctx: CanvasRenderingContext2D, image: ImageBitmap, w: number, h: number): void {
  const scale = Math.max(w / image.width, h / image.height);
  const dw = image.width * scale;
  const dh = image.height * scale;
  ctx.drawImage(image, (w - dw) / 2, (h - dh) / 2, dw, dh);
}

/** A track of `camera` with its background replaced by `backdrop` (an image backdrop is closed with the pipe). */
export async function backgroundReplaced(camera: MediaStreamTrack, backdrop: Backdrop): Promise<TrackPipe> {
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
    if (backdrop.kind === 'image') backdrop.image.close();
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
      // behind it, the whole frame blurred, or the picture
      ctx.globalCompositeOperation = 'destination-over';
      if (backdrop.kind === 'blur') {
        ctx.filter = `blur(${BLUR_PX}px)`;
        ctx.drawImage(r.image, 0, 0, w, h);
      } else {
        drawCover(ctx, backdrop.image, w, h);
      }
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
