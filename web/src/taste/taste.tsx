import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** What the taste profile keeps of a movie: enough to show it without asking the API again. */
export interface MovieRef {
  id: string;
  title: string;
  year?: number | null;
  posterUrl?: string | null;
}

export type Opinion = 'liked' | 'disliked';

interface TasteState {
  liked: MovieRef[];
  disliked: MovieRef[];
  opinionOf: (id: string) => Opinion | null;
  /** Sets (or with null clears) the opinion about a movie; a movie is liked or disliked, never both. */
  setOpinion: (movie: MovieRef, opinion: Opinion | null) => void;
  clear: () => void;
}

const STORAGE_KEY = 'marquee.taste.v1';
const MAX_PER_LIST = 100; // the API takes at most 100 ids per list

interface Stored {
  liked: MovieRef[];
  disliked: MovieRef[];
}

function load(): Stored {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    const parsed = (raw ? JSON.parse(raw) : {}) as { liked?: unknown; disliked?: unknown };
    const isRef = (m: unknown): m is MovieRef =>
      typeof m === 'object' && m !== null && typeof (m as MovieRef).id === 'string' && typeof (m as MovieRef).title === 'string';
    const valid = (xs: unknown): MovieRef[] => (Array.isArray(xs) ? xs.filter(isRef) : []);
    return { liked: valid(parsed.liked), disliked: valid(parsed.disliked) };
  } catch {
    return { liked: [], disliked: [] };
  }
}

const TasteContext = createContext<TasteState | null>(null);

export function TasteProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Stored>(load);

  useEffect(() => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch {
      // Storage full or disabled: the profile lasts for this page only.
    }
  }, [state]);

  // Another tab changed the profile.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => e.key === STORAGE_KEY && setState(load());
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const setOpinion = useCallback((movie: MovieRef, opinion: Opinion | null) => {
    setState((s) => {
      const ref: MovieRef = { id: movie.id, title: movie.title, year: movie.year ?? null, posterUrl: movie.posterUrl ?? null };
      const without = (xs: MovieRef[]) => xs.filter((m) => m.id !== movie.id);
      const liked = without(s.liked);
      const disliked = without(s.disliked);
      if (opinion === 'liked') liked.unshift(ref);
      if (opinion === 'disliked') disliked.unshift(ref);
      return { liked: liked.slice(0, MAX_PER_LIST), disliked: disliked.slice(0, MAX_PER_LIST) };
    });
  }, []);

  const value = useMemo<TasteState>(() => {
    const likedIds = new Set(state.liked.map((m) => m.id));
    const dislikedIds = new Set(state.disliked.map((m) => m.id));
    return {
      ...state,
      opinionOf: (id) => (likedIds.has(id) ? 'liked' : dislikedIds.has(id) ? 'disliked' : null),
      setOpinion,
      clear: () => setState({ liked: [], disliked: [] }),
    };
  }, [state, setOpinion]);

  return <TasteContext.Provider value={value}>{children}</TasteContext.Provider>;
}

export function useTaste(): TasteState {
  const ctx = useContext(TasteContext);
  if (!ctx) throw new Error('useTaste outside TasteProvider');
  return ctx;
}
