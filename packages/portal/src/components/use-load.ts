import { useCallback, useEffect, useState } from 'react';

/** The state of one load: the data, or the error's sentence, and a way to load again. */
export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `key` changes (and on reload); stale answers are dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names what `load` reads
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        live &&
        setState({ data: undefined, error: error instanceof Error ? error.message : String(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/** The message of a thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error of the last attempt, and a way to attempt work: it clears the error, and a throw becomes its sentence. */
export function useAttempt() {
  const [error, setError] = useState<string | null>(null);
  const attempt = useCallback(async (work: () => Promise<void>): Promise<void> => {
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(messageOf(e));
    }
  }, []);
  return { error, setError, attempt };
}
