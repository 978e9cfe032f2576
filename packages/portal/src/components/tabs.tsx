import { type KeyboardEvent, type ReactNode, useRef } from 'react';

export interface TabItem<K extends string> {
  key: K;
  label: string;
}

/**
 * A tab list (role tablist/tab, arrow keys, Home and End move between tabs); the selected tab's
 * panel is `children`. Selecting a tab calls `onSelect` (the caller changes the URL).
 */
export function Tabs<K extends string>(props: {
  label: string;
  tabs: readonly TabItem<K>[];
  selected: K;
  onSelect: (key: K) => void;
  children: ReactNode;
}) {
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const move = (event: KeyboardEvent, index: number) => {
    const count = props.tabs.length;
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = (index + 1) % count;
    if (event.key === 'ArrowLeft') next = (index - 1 + count) % count;
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = count - 1;
    const tab = next === null ? undefined : props.tabs[next];
    if (!tab) return;
    event.preventDefault();
    props.onSelect(tab.key);
    refs.current.get(tab.key)?.focus();
  };
  return (
    <>
      <div role="tablist" aria-label={props.label} className="tabs">
        {props.tabs.map((tab, index) => {
          const selected = tab.key === props.selected;
          return (
            <button
              key={tab.key}
              ref={(element) => {
                if (element) refs.current.set(tab.key, element);
              }}
              type="button"
              role="tab"
              id={`tab-${tab.key}`}
              aria-selected={selected}
              aria-controls={`panel-${tab.key}`}
              tabIndex={selected ? 0 : -1}
              onClick={() => props.onSelect(tab.key)}
              onKeyDown={(event) => move(event, index)}
            >
              {tab.label}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`panel-${props.selected}`} aria-labelledby={`tab-${props.selected}`} className="panel">
        {props.children}
      </div>
    </>
  );
}
