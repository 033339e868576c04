/**
 * deploy/: the Kubernetes manifests and the Dockerfile checked against the server they run. No well-kept npm
 * validator of the Kubernetes schemas is installed here (and kubectl's own validation needs a cluster), so the
 * manifests are parsed with `yaml` and checked for what would break a rollout: the probes and the Service hit
 * routes the server really has, on the port the container really listens on (its `serve` arguments, parsed by the
 * CLI's own parser); requests and limits are set and the ORT threads match the CPU limit; the HPA scales this
 * Deployment on CPU; the selector matches the pods; the grace period covers the drain. The Dockerfile: several
 * stages, `npm ci --omit=dev`, a non-root user, the files the server reads at run time copied, and a HEALTHCHECK
 * on /health/ready at the port the command serves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { registerServe } from '../../../src/cli/serve.js';
import { buildServer, type ServeSettings } from '../../../src/serve/server.js';
import { PLAYGROUND_DIR } from '../../../src/serve/routes/playground.js';
import { PACKAGE_ROOT } from '../../../src/model/default-model.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const K8S = join(REPO, 'deploy', 'k8s');

type Obj = Record<string, any>;
const docs: Obj[] = readdirSync(K8S).filter((f) => f.endsWith('.yaml')).flatMap((f) =>
  parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${f}: ${d.errors[0].message}`);
    return d.toJS() as Obj;
  }));
const find = (kind: string) => {
  const all = docs.filter((d) => d.kind === kind);
  expect(all).toHaveLength(1);
  return all[0];
};

/** The serve command's flags as the CLI parses them (its own parsers: a bad value throws). */
function serveFlags(args: string[]): Obj {
  const program = new Command('compactlm').exitOverride();
  registerServe(program);
  const serve = program.commands.find((c) => c.name() === 'serve')!.exitOverride();
  expect(args[0]).toBe('serve');
  const { operands, unknown } = serve.parseOptions(args.slice(1));
  expect([operands, unknown]).toEqual([[], []]);
  return serve.opts();
}

/** The server's routes (models are not loaded: the routes do not depend on them). */
const SETTINGS: ServeSettings = {
  models: [], host: '127.0.0.1', port: 0, apiKeys: [], maxBatchTokens: 16384, maxWaitMs: 5, maxQueue: 8, session: { int8: false },
  rateLimit: 0, timeoutMs: 1000, maxBodyBytes: 1024, maxInputs: 1, maxInputTokens: 512,
};

describe('deploy/k8s', () => {
  const deployment = find('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const flags = serveFlags(container.args);
  let server: Awaited<ReturnType<typeof buildServer>>;
  beforeAll(async () => {
    server = await buildServer(SETTINGS);
    await server.app.ready();
  });
  afterAll(() => server.app.close());

  test('the selector matches the pod labels; Service and PDB select the same pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(find('Service').spec.selector).toEqual(labels);
    expect(find('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    for (const d of docs) expect([d.apiVersion, d.kind, d.metadata?.name]).toEqual([expect.any(String), expect.any(String), 'compactlm']);
  });

  test('the probes and the Service point at real routes of the server, on the port the container serves', async () => {
    const has = (method: string, url: string) => server.app.hasRoute({ method: method as 'GET', url });
    const http = container.ports.find((p: Obj) => p.name === 'http');
    expect(http.containerPort).toBe(flags.port);
    expect(flags.host).toBe('0.0.0.0');
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet.port === 'http' || probe.httpGet.port === flags.port).toBe(true);
      expect(has('GET', probe.httpGet.path)).toBe(true);
    }
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(has('GET', '/health/nothing')).toBe(false);
    const svc = find('Service').spec.ports[0];
    expect(svc.targetPort === 'http' || svc.targetPort === flags.port).toBe(true);
  });

  test('the API key comes from a Secret; the model the pod serves is in the image', () => {
    const key = container.env.find((e: Obj) => e.name === 'COMPACTLM_API_KEY');
    expect(key.valueFrom.secretKeyRef).toEqual({ name: expect.any(String), key: expect.any(String) });
    for (const m of flags.model as string[]) {
      expect(m.startsWith('/app/')).toBe(true); // WORKDIR /app in the image; models/ is copied there
      expect(existsSync(join(REPO, m.slice('/app/'.length), 'config.json'))).toBe(true);
    }
  });

  test('requests and limits for CPU and memory; ORT threads = the CPU limit; non-root; grace period covers the drain', () => {
    const { requests, limits } = container.resources;
    for (const r of ['cpu', 'memory']) {
      expect(requests[r]).toBeDefined();
      expect(limits[r]).toBeDefined();
    }
    expect(Number(limits.cpu)).toBeGreaterThanOrEqual(Number(requests.cpu));
    expect(flags.threads).toBe(Number(limits.cpu));
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(flags.timeoutMs / 1000 + preStop);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test('the HPA scales this Deployment on CPU', () => {
    const hpa = find('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } }]);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
  });
});

describe('deploy/Dockerfile', () => {
  const lines = readFileSync(join(REPO, 'deploy', 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = lines.reduce<string[][]>((acc, l) => (/^FROM /.test(l) ? [...acc, [l]] : (acc.at(-1)?.push(l), acc)), []);
  const final = stages.at(-1)!;

  test('multi-stage: dev dependencies build dist/, the runtime gets `npm ci --omit=dev`, runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => /^RUN .*npm ci --omit=dev/.test(l))).toBe(true);
    expect(lines.some((l) => /^RUN npm ci( |$)/.test(l))).toBe(true); // the build stage: dev deps, `prepare` compiles
    const user = final.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(final.some((l) => /^COPY --from=\S+ .*\/app\/dist/.test(l))).toBe(true);
  });

  test('the files the server reads at run time are copied, from paths that exist', () => {
    const copies = final.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).map((l) => l.split(/\s+/).filter((w) => !w.startsWith('--')).slice(1, -1)).flat();
    for (const src of copies) expect(existsSync(join(REPO, src))).toBe(true);
    const playground = PLAYGROUND_DIR.slice(PACKAGE_ROOT.length).replace(/^\/+/, '');
    expect(copies).toEqual(expect.arrayContaining([playground, 'bin', 'package.json', 'models']));
  });

  test('HEALTHCHECK asks /health/ready on the port the command serves, which is EXPOSEd', () => {
    const health = final.find((l) => l.startsWith('HEALTHCHECK '))!;
    const m = /http:\/\/127\.0\.0\.1:(\d+)(\/\S*?)['"]/.exec(health);
    expect(m).not.toBeNull();
    const cmd = JSON.parse(final.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
    const flags = serveFlags(cmd);
    expect(Number(m![1])).toBe(flags.port);
    expect(m![2]).toBe('/health/ready');
    expect(final).toContain(`EXPOSE ${flags.port}`);
    expect(flags.host).toBe('0.0.0.0');
  });
});
