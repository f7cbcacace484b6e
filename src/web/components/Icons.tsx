// Small inline SVG icons (decorative: the controls carry the accessible names).
import type { ReactElement } from 'react';

function Svg({ children }: { children: ReactElement | ReactElement[] }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

export function MicIcon() {
  return (
    <Svg>
      <path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Z" fill="currentColor" />
      <path d="M18 11a6 6 0 0 1-12 0M12 17v4M8.5 21h7" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" />
    </Svg>
  );
}

export function MicOffIcon() {
  return (
    <Svg>
      <path d="M15 10.6V5a3 3 0 0 0-5.8-1.1M9 9v2a3 3 0 0 0 4.6 2.5" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" />
      <path d="M18 11a6 6 0 0 1-1 3.3M6 11a6 6 0 0 0 9.3 5M12 17v4M8.5 21h7M4 4l16 16" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" />
    </Svg>
  );
}

export function CameraIcon() {
  return (
    <Svg>
      <rect x="3" y="6" width="12" height="12" rx="2.5" fill="currentColor" />
      <path d="M16 10.5 21 7.5v9l-5-3Z" fill="currentColor" />
    </Svg>
  );
}

export function CameraOffIcon() {
  return (
    <Svg>
      <path d="M15 13.5V8.5A2.5 2.5 0 0 0 12.5 6H9M3.6 6.6A2.5 2.5 0 0 0 3 8.5v7A2.5 2.5 0 0 0 5.5 18h7a2.5 2.5 0 0 0 2-1" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" />
      <path d="M16 10.5 21 7.5v9l-5-3ZM3 3l18 18" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" strokeLinejoin="round" />
    </Svg>
  );
}

export function HangUpIcon() {
  return (
    <Svg>
      <path
        d="M3.5 14.5c-.6-.6-.6-1.6 0-2.2C5.9 10 8.9 8.8 12 8.8s6.1 1.2 8.5 3.5c.6.6.6 1.6 0 2.2l-1.6 1.6c-.5.5-1.3.5-1.8.1l-1.9-1.5c-.4-.3-.6-.8-.5-1.3l.2-1.3a10 10 0 0 0-5.8 0l.2 1.3c.1.5-.1 1-.5 1.3l-1.9 1.5c-.5.4-1.3.4-1.8-.1Z"
        fill="currentColor"
      />
    </Svg>
  );
}

export function LinkIcon() {
  return (
    <Svg>
      <path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1" stroke="currentColor" strokeWidth="2" fill="none" strokeLinecap="round" />
    </Svg>
  );
}

/** A telephone handset: a participant who called in by phone. */
export function PhoneIcon() {
  return (
    <Svg>
      <path
        d="M6.6 3.5 8.9 3c.5-.1 1 .2 1.2.6l1.2 2.9c.2.5.1 1-.3 1.3L9.5 9.1a11 11 0 0 0 5.4 5.4l1.3-1.5c.3-.4.9-.5 1.3-.3l2.9 1.2c.5.2.7.7.6 1.2l-.5 2.3c-.1.5-.6.9-1.1.9C10.6 18.3 5.7 13.4 5.7 4.6c0-.5.4-1 .9-1.1Z"
        fill="currentColor"
      />
    </Svg>
  );
}
