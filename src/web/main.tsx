// Entry point of the browser app.
import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';
import { embedding } from './embed/embedding.ts';

// In a host page's JitsiMeetExternalAPI frame: listen for its hello before anything else can miss it.
embedding();

const container = document.getElementById('root');
if (container) {
  createRoot(container).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
