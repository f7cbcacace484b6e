// The meeting's Jitsi-style options (url-options.ts) while the app runs: read from the URL hash once, changed
// later by the IFrame API's overwriteConfig. Whoever reads an option follows its changes: the language at once,
// the capture resolution on the live camera, `prejoinPageEnabled` and `startWith*` while the pre-join page is
// shown (in a running meeting they change nothing: they are about how it starts, as in Jitsi).
import { Store } from './media/store.ts';
import { overwriteUrlOptions, parseUrlOptions, type UrlOptions } from './url-options.ts';

export class OptionsStore extends Store<UrlOptions> {
  /** Jitsi's overwriteConfig: the known keys of `config` over the current options, unknown ones ignored. */
  overwrite(config: Readonly<Record<string, unknown>>): void {
    const next = overwriteUrlOptions(this.state, config);
    const changed = (Object.keys(next) as Array<keyof UrlOptions>).some((k) => next[k] !== this.state[k]);
    if (changed) this.update(next);
  }
}

let current: OptionsStore | undefined;

/** This page's options (made from the URL hash on first use). */
export function optionsStore(): OptionsStore {
  current ??= new OptionsStore(parseUrlOptions(window.location.hash));
  return current;
}
