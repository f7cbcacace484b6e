// "?": the list of keyboard shortcuts (the same keys as Jitsi Meet).
import { useStrings } from '../i18n.ts';
import { SHORTCUT_KEYS } from '../meeting/shortcuts.ts';
import { Dialog } from './Dialog.tsx';

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const t = useStrings();
  const describe = {
    m: t.shortcutMute,
    v: t.shortcutCamera,
    c: t.shortcutChat,
    r: t.shortcutHand,
    d: t.shortcutScreen,
    w: t.shortcutTileView,
    '?': t.shortcutHelp,
  } as const;
  return (
    <Dialog title={t.keyboardShortcuts} onClose={onClose}>
      <dl className="shortcut-list">
        {SHORTCUT_KEYS.map((k) => (
          <div key={k} className="shortcut">
            <dt>
              <kbd>{k.toUpperCase()}</kbd>
            </dt>
            <dd>{describe[k]}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
