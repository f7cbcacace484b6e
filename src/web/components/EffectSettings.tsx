// The effects part of the settings: noise suppression (a checkbox) and the camera's background (a radio group: no
// effect, blurred, a bundled picture, or the user's own picture, uploaded from their disk and kept in this
// browser only). Under each: "Starting…" while its pipe is built, an alert when it could not start.
import { useId, useState, useSyncExternalStore, type ChangeEvent } from 'react';
import { useStrings } from '../i18n.ts';
import { BackgroundImageError, BUNDLED_BACKGROUNDS, backgroundImageUrl, type Background, type BundledBackground } from '../media/effects/background-images.ts';
import type { Effect, TrackEffects } from '../media/effects/track-effects.ts';

export function EffectSettings({ effects }: { effects: TrackEffects }) {
  const t = useStrings();
  const state = useSyncExternalStore(effects.subscribe, effects.getSnapshot);
  const [pickError, setPickError] = useState<string | null>(null);
  const group = useId();
  const uploadId = useId();
  const note = (effect: Effect, hint?: string) => {
    const failed = state.failed.includes(effect);
    const text = state.starting.includes(effect) ? t.effectStarting : failed ? t.effectFailed : hint;
    return text === undefined ? null : (
      <small className="field-hint" role={failed ? 'alert' : undefined}>
        {text}
      </small>
    );
  };
  const option = (background: Background, label: string) => {
    const url = background === 'none' || background === 'blur' ? null : backgroundImageUrl(background);
    return (
      <label className="background-option" key={background}>
        <input type="radio" name={group} checked={state.background === background} onChange={() => effects.setBackground(background)} />
        {url !== null && <img className="background-thumb" src={url} alt="" width={48} height={27} />}
        <span>{label}</span>
      </label>
    );
  };
  const upload = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    setPickError(null);
    effects.setCustomImage(file).catch((err: unknown) => {
      setPickError(t.backgroundPickError(err instanceof BackgroundImageError ? err.code : 'not-an-image'));
    });
  };
  return (
    <fieldset className="settings-effects">
      <legend className="field-label">{t.effects}</legend>
      <label className="effect-toggle">
        <input type="checkbox" checked={state.noiseSuppression} onChange={(e) => effects.setNoiseSuppression(e.target.checked)} />
        <span>
          {t.noiseSuppression}
          {note('noiseSuppression', t.noiseSuppressionHint)}
        </span>
      </label>
      <fieldset className="background-choices">
        <legend className="field-label">{t.background}</legend>
        {option('none', t.backgroundNone)}
        {option('blur', t.backgroundBlur)}
        {(Object.keys(BUNDLED_BACKGROUNDS) as BundledBackground[]).map((b) => option(b, t.backgroundPicture(b)))}
        {state.hasCustomImage && option('custom', t.backgroundCustom)}
        {note('background', t.backgroundHint)}
        <div className="background-upload">
          <input id={uploadId} className="background-file" type="file" accept="image/*" onChange={upload} />
          <label htmlFor={uploadId} className="background-upload-button">
            {t.backgroundUpload}
          </label>
          <small className="field-hint">{t.backgroundUploadHint}</small>
          {pickError !== null && (
            <small className="field-hint" role="alert">
              {pickError}
            </small>
          )}
        </div>
      </fieldset>
    </fieldset>
  );
}
