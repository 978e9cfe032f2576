import { describe, expect, it } from 'vitest';
import { startProgress } from './progress.js';

function terminal(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (text: string) => written.push(text) }, written };
}

describe('startProgress', () => {
  it('draws on a terminal once the work takes longer than a second, at most every 200 ms, and ends the line', () => {
    const { stream, written } = terminal(true);
    let t = 0;
    const progress = startProgress('Downloading', { stream, now: () => t });
    progress.update(1024 * 1024, 4 * 1024 * 1024);
    t = 900;
    progress.update(2 * 1024 * 1024, 4 * 1024 * 1024);
    expect(written).toEqual([]);
    t = 1000;
    progress.update(2 * 1024 * 1024, 4 * 1024 * 1024);
    t = 1100;
    progress.update(3 * 1024 * 1024, 4 * 1024 * 1024);
    expect(written).toEqual(['\rDownloading: 2.0 MB of 4.0 MB   ']);
    t = 1200;
    progress.update(4 * 1024 * 1024, 4 * 1024 * 1024);
    progress.end();
    expect(written).toEqual([
      '\rDownloading: 2.0 MB of 4.0 MB   ',
      '\rDownloading: 4.0 MB of 4.0 MB   ',
      '\rDownloading: 4.0 MB of 4.0 MB   ',
      '\n',
    ]);
  });

  it('counts items without a total', () => {
    const { stream, written } = terminal(true);
    const progress = startProgress('Rows', { stream, unit: 'items', after: 0, now: () => 5000 });
    progress.update(42);
    progress.end();
    expect(written).toEqual(['\rRows: 42   ', '\rRows: 42   ', '\n']);
  });

  it('stays silent when piped, when quiet (--json), and when the work was short', () => {
    for (const [isTTY, quiet] of [
      [false, false],
      [true, true],
    ] as const) {
      const { stream, written } = terminal(isTTY);
      const progress = startProgress('Backing up', { stream, quiet, after: 0, now: () => 10_000 });
      progress.update(1, 2);
      progress.end();
      expect(written).toEqual([]);
    }
    const { stream, written } = terminal(true);
    let t = 0;
    const short = startProgress('Backing up', { stream, now: () => t });
    t = 500;
    short.update(1, 2);
    short.end();
    expect(written).toEqual([]);
  });
});
