/**
 * Prometheus metrics of the server (prom-client), served at GET /metrics. Each server has its own registry:
 *
 *   compactlm_http_requests_total{method,route,status}            requests answered
 *   compactlm_http_request_duration_seconds{method,route,status}  latency histogram
 *   compactlm_batch_size{model,task}                              rows per ONNX Runtime run (dynamic batching)
 *   compactlm_batch_padded_tokens{model,task}                     rows × longest row per run
 *   compactlm_inference_duration_seconds{model,task}              time of one run in the worker
 *   compactlm_queue_depth{model}                                  inputs waiting for their model's worker
 *   compactlm_model_load_seconds{model}                           model load plus warm-up time
 *   compactlm_ready                                               1 when /health/ready says ready
 * plus prom-client's default process metrics (process_resident_memory_bytes, heap, event-loop lag, …).
 * `route` is the route's pattern (`/v1/classify`), or `unmatched` for 404s, so labels stay few.
 */
import client from 'prom-client';
import type { BatchStats } from './batcher.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const TOKEN_BUCKETS = [16, 64, 256, 1024, 4096, 16384, 65536];

export class ServeMetrics {
  readonly registry = new client.Registry();
  private readonly requests = new client.Counter({
    name: 'compactlm_http_requests_total', help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'], registers: [this.registry],
  });
  private readonly latency = new client.Histogram({
    name: 'compactlm_http_request_duration_seconds', help: 'HTTP request latency in seconds, by route and status',
    labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly batchSize = new client.Histogram({
    name: 'compactlm_batch_size', help: 'rows (input texts) per ONNX Runtime run',
    labelNames: ['model', 'task'], buckets: BATCH_BUCKETS, registers: [this.registry],
  });
  private readonly batchTokens = new client.Histogram({
    name: 'compactlm_batch_padded_tokens', help: 'padded tokens (rows × longest row) per ONNX Runtime run',
    labelNames: ['model', 'task'], buckets: TOKEN_BUCKETS, registers: [this.registry],
  });
  private readonly inference = new client.Histogram({
    name: 'compactlm_inference_duration_seconds', help: 'seconds per ONNX Runtime run in the model worker',
    labelNames: ['model', 'task'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly loadSeconds = new client.Gauge({
    name: 'compactlm_model_load_seconds', help: 'seconds to load a model and run its warm-up',
    labelNames: ['model'], registers: [this.registry],
  });
  private readonly ready = new client.Gauge({ name: 'compactlm_ready', help: '1 when the server is ready', registers: [this.registry] });

  /** `depths()` is read at each scrape: model name → inputs waiting. */
  constructor(depths: () => Record<string, number>) {
    new client.Gauge({
      name: 'compactlm_queue_depth', help: 'inputs waiting for their model worker', labelNames: ['model'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [model, n] of Object.entries(depths())) this.set({ model }, n);
      },
    });
    client.collectDefaultMetrics({ register: this.registry });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  batch(model: string, s: BatchStats): void {
    const labels = { model, task: s.lane.split('/')[0] };
    this.batchSize.observe(labels, s.rows);
    this.batchTokens.observe(labels, s.paddedTokens);
    this.inference.observe(labels, s.seconds);
  }

  loaded(model: string, seconds: number): void {
    this.loadSeconds.set({ model }, seconds);
  }

  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
