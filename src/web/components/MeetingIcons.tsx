// Inline SVG icons of the in-meeting controls (decorative: every control carries its own accessible name).
import type { ReactNode } from 'react';

function Svg({ children }: { children: ReactNode }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

const stroke = { stroke: 'currentColor', strokeWidth: 2, fill: 'none', strokeLinecap: 'round', strokeLinejoin: 'round' } as const;

export const ChatIcon = () => (
  <Svg>
    <path d="M4 5h16v11H9l-5 4Z" {...stroke} />
  </Svg>
);
export const PeopleIcon = () => (
  <Svg>
    <circle cx="9" cy="8" r="3.5" {...stroke} />
    <path d="M2.5 20a6.5 6.5 0 0 1 13 0M16 4.5a3.5 3.5 0 0 1 0 7M18 14a6.5 6.5 0 0 1 3.5 6" {...stroke} />
  </Svg>
);
/** A stopwatch (time spoken): speaker stats. */
export const SpeakerTimeIcon = () => (
  <Svg>
    <circle cx="12" cy="13.5" r="7.5" {...stroke} />
    <path d="M9.5 2.5h5M12 6V2.5M12 13.5 15 10.5M18.5 5.5l1.5 1.5" {...stroke} />
  </Svg>
);
export const HandIcon = () => (
  <Svg>
    <path d="M8 12V5.5a1.5 1.5 0 0 1 3 0V11M11 10V4a1.5 1.5 0 0 1 3 0v6M14 10V5.5a1.5 1.5 0 0 1 3 0V14a7 7 0 0 1-7 7h-.5a6 6 0 0 1-4.6-2.2L2.6 16a1.6 1.6 0 0 1 2.4-2l3 2.5" {...stroke} />
  </Svg>
);
export const SmileIcon = () => (
  <Svg>
    <circle cx="12" cy="12" r="9" {...stroke} />
    <path d="M8 14a4.5 4.5 0 0 0 8 0M9 9.5h.01M15 9.5h.01" {...stroke} />
  </Svg>
);
export const ScreenIcon = () => (
  <Svg>
    <rect x="3" y="4" width="18" height="12" rx="2" {...stroke} />
    <path d="M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3" {...stroke} />
  </Svg>
);
export const GridIcon = () => (
  <Svg>
    <rect x="3" y="3" width="7.5" height="7.5" rx="1.5" {...stroke} />
    <rect x="13.5" y="3" width="7.5" height="7.5" rx="1.5" {...stroke} />
    <rect x="3" y="13.5" width="7.5" height="7.5" rx="1.5" {...stroke} />
    <rect x="13.5" y="13.5" width="7.5" height="7.5" rx="1.5" {...stroke} />
  </Svg>
);
export const SpeakerViewIcon = () => (
  <Svg>
    <rect x="3" y="3" width="18" height="12" rx="1.5" {...stroke} />
    <path d="M4 20h4M10 20h4M16 20h4" {...stroke} />
  </Svg>
);
export const FullScreenIcon = ({ exit }: { exit?: boolean }) => (
  <Svg>
    {exit ? (
      <path d="M9 3v6H3M15 3v6h6M9 21v-6H3M15 21v-6h6" {...stroke} />
    ) : (
      <path d="M3 9V3h6M21 9V3h-6M3 15v6h6M21 15v6h-6" {...stroke} />
    )}
  </Svg>
);
export const GearIcon = () => (
  <Svg>
    <circle cx="12" cy="12" r="3" {...stroke} />
    <path d="M12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1" {...stroke} />
  </Svg>
);
export const PinIcon = () => (
  <Svg>
    <path d="M9 3h6l-1 6 4 4H6l4-4ZM12 13v8" {...stroke} />
  </Svg>
);
export const KeyboardIcon = () => (
  <Svg>
    <rect x="2.5" y="6" width="19" height="12" rx="2" {...stroke} />
    <path d="M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10" {...stroke} />
  </Svg>
);
export const MoreIcon = () => (
  <Svg>
    <circle cx="5" cy="12" r="1.8" fill="currentColor" />
    <circle cx="12" cy="12" r="1.8" fill="currentColor" />
    <circle cx="19" cy="12" r="1.8" fill="currentColor" />
  </Svg>
);
