/**
 * A minimal Prometheus registry written by hand (text exposition format 0.0.4): counters and
 * histograms with fixed label names, and gauges read when scraped. Label values must come
 * from bounded sets (route patterns, error codes, enums), never from request input.
 */

type Labels = Record<string, string>;

interface Metric {
  render(): string[];
}

/** A monotonic counter per label set. */
export class Counter<L extends string> implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly L[],
  ) {}

  inc(labels: Record<L, string>, by = 1): void {
    const key = keyOf(this.labelNames, labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** The current value for `labels` (0 if never counted). */
  get(labels: Record<L, string>): number {
    return this.values.get(keyOf(this.labelNames, labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = header(this.name, this.help, 'counter');
    for (const { labels, value } of this.values.values()) lines.push(sample(this.name, labels, value));
    return lines;
  }
}

/** A histogram per label set, with cumulative `le` buckets, `_sum` and `_count`. */
export class Histogram<L extends string> implements Metric {
  private readonly values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
  ) {}

  observe(labels: Record<L, string>, value: number): void {
    const key = keyOf(this.labelNames, labels);
    let entry = this.values.get(key);
    if (!entry) {
      entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.values.set(key, entry);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.counts[i]! += 1;
    entry.sum += value;
    entry.count += 1;
  }

  render(): string[] {
    const lines = header(this.name, this.help, 'histogram');
    for (const { labels, counts, sum, count } of this.values.values()) {
      this.buckets.forEach((le, i) => {
        lines.push(sample(`${this.name}_bucket`, { ...labels, le: formatNumber(le) }, counts[i]!));
      });
      lines.push(sample(`${this.name}_bucket`, { ...labels, le: '+Inf' }, count));
      lines.push(sample(`${this.name}_sum`, labels, sum));
      lines.push(sample(`${this.name}_count`, labels, count));
    }
    return lines;
  }
}

/** A value read when scraped (memory, handles…); `type` is `gauge` or `counter`. */
export class Collected implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'gauge' | 'counter',
    private readonly read: () => number,
  ) {}

  render(): string[] {
    return [...header(this.name, this.help, this.type), sample(this.name, {}, this.read())];
  }
}

/** Metrics rendered together, in the order they were added. */
export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** The whole exposition, ending with a newline. */
  render(): string {
    return `${this.metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}

/** Media type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function keyOf(names: readonly string[], labels: Labels): string {
  return names.map((n) => labels[n] ?? '').join('\u0000');
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`];
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
