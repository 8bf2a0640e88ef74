import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, on a registry of its own (two servers in one process do not clash). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'cosignkit_signer_request_duration_seconds',
    help: 'Request latency by route and outcome',
    labelNames: ['route', 'outcome', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly throttles = new Counter({
    name: 'cosignkit_signer_throttled_total',
    help: 'Requests refused by a quota or by load shedding, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly signing = new Histogram({
    name: 'cosignkit_signer_signing_duration_seconds',
    help: 'Time spent signing the statement with the configured key',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [this.registry],
  });
  readonly audit = new Histogram({
    name: 'cosignkit_signer_audit_commit_seconds',
    help: 'Time from queuing an audit record to its fsync',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  readonly inFlight: Gauge;

  /** inFlight: read when scraped, so the hot path does not set a gauge twice per request. */
  constructor(inFlight: () => number = () => 0) {
    this.inFlight = new Gauge({
      name: 'cosignkit_signer_in_flight',
      help: 'Sign requests being processed',
      registers: [this.registry],
      collect() {
        this.set(inFlight());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
