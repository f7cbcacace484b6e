// The app shell: language, URL options, and which page the path asks for.
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { I18nContext, detectLanguage, dictionaries } from './i18n.ts';
import { roomFromPath } from './url-options.ts';
import { optionsStore } from './options-store.ts';
import { StartPage } from './pages/StartPage.tsx';
import { RoomPage } from './pages/RoomPage.tsx';
import { AdminRecordingsPage } from './admin/AdminRecordingsPage.tsx';

/** The admins' page of every room's recordings (so no meeting room is called exactly "recordings"). */
const ADMIN_RECORDINGS_PATH = '/recordings';

export function App() {
  // the URL's options, which the IFrame API's overwriteConfig may change while the app runs
  const options = useSyncExternalStore(optionsStore().subscribe, optionsStore().getSnapshot);
  const lang = detectLanguage(window.location.search, navigator.language, options.language);
  const room = useMemo(() => roomFromPath(window.location.pathname), []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  return (
    <I18nContext value={dictionaries[lang]}>
      {window.location.pathname.replace(/\/+$/, '') === ADMIN_RECORDINGS_PATH ? <AdminRecordingsPage /> : room === undefined ? <StartPage /> : <RoomPage room={room} options={options} />}
    </I18nContext>
  );
}
