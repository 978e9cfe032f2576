import { describe, expect, it } from 'vitest';
import { Collected, Counter, Histogram, Registry } from './registry.js';

describe('Prometheus registry', () => {
  it('renders counters, cumulative histograms and collected values in the text format', () => {
    const registry = new Registry();
    const counter = registry.add(new Counter('x_total', 'Things.\nCounted \\ here.', ['kind']));
    const histogram = registry.add(new Histogram('x_seconds', 'Latency.', ['route'], [0.1, 1]));
    registry.add(new Collected('x_start', 'Start.', 'gauge', () => 12.5));
    counter.inc({ kind: 'a"b\\c\nd' });
    counter.inc({ kind: 'a"b\\c\nd' }, 2);
    counter.inc({ kind: 'plain' });
    histogram.observe({ route: '/r' }, 0.05);
    histogram.observe({ route: '/r' }, 0.5);
    histogram.observe({ route: '/r' }, 5);
    expect(counter.get({ kind: 'plain' })).toBe(1);
    expect(registry.render()).toBe(
      [
        '# HELP x_total Things.\\nCounted \\\\ here.',
        '# TYPE x_total counter',
        'x_total{kind="a\\"b\\\\c\\nd"} 3',
        'x_total{kind="plain"} 1',
        '# HELP x_seconds Latency.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{route="/r",le="0.1"} 1',
        'x_seconds_bucket{route="/r",le="1"} 2',
        'x_seconds_bucket{route="/r",le="+Inf"} 3',
        'x_seconds_sum{route="/r"} 5.55',
        'x_seconds_count{route="/r"} 3',
        '# HELP x_start Start.',
        '# TYPE x_start gauge',
        'x_start 12.5',
        '',
      ].join('\n'),
    );
  });
});
