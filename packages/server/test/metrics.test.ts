import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../src/metrics.js';

describe('ServerMetrics', () => {
  it('reads the in-flight count when scraped (the hot path sets no gauge)', async () => {
    let inFlight = 3;
    const metrics = new ServerMetrics(() => inFlight);
    expect(await metrics.registry.getSingleMetricAsString('cosignkit_signer_in_flight')).toMatch(
      /^cosignkit_signer_in_flight 3$/m,
    );
    inFlight = 0;
    expect(await metrics.registry.getSingleMetricAsString('cosignkit_signer_in_flight')).toMatch(
      /^cosignkit_signer_in_flight 0$/m,
    );
  });
});
