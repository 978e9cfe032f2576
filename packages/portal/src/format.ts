/** A signed count as the Licenses tab shows it: +3, 0, −2 (a real minus sign). */
export function signed(n: number): string {
  if (n > 0) return `+${n}`;
  if (n < 0) return `\u2212${Math.abs(n)}`;
  return '0';
}

/** A product instance's status word for people. */
export function statusText(status: string): string {
  return status.replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

/** Saves `text` as a file the browser downloads. */
export function download(fileName: string, text: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Copies `text` to the clipboard; false when the browser would not. */
export async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** The text of a sync file as the CLI writes it (JSON, which is also YAML 1.2). */
export function syncFileText(document: unknown): string {
  return `${JSON.stringify(document, null, 1)}\n`;
}

/** Reads a chosen file as a sync document; one sentence when it is not JSON at all. */
export async function readSyncFile(file: File): Promise<unknown> {
  const text = await file.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${file.name} is not a smartlic synchronisation file: it is not valid JSON; nothing was changed.`);
  }
}

/** The response file's name for a request file's: `license-sync-request-X.yml` → `license-sync-response-X.yml`. */
export function responseFileName(requestName: string, satellite: string, sequence: number): string {
  const match = /^license-sync-request-(.+\.ya?ml)$/i.exec(requestName);
  if (match?.[1]) return `license-sync-response-${match[1]}`;
  return `license-sync-response-${satellite.replace(/[^A-Za-z0-9._-]/g, '-')}-${sequence}.yml`;
}
