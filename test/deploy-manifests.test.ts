// deploy/kubernetes/ without a cluster (issue 14 §2): every YAML document is checked
// against the schema of its kind, then against what Enot ID and the other manifests
// expect of it (probes, selectors, the Secret's keys, the production configuration).
//
// Schemas, two layers:
// - JSON schema: the ajv-compiled validators of `kubernetes-models` (Kubernetes' OpenAPI
//   definitions) and `@kubernetes-models/prometheus-operator` (the ServiceMonitor CRD's
//   openAPIV3Schema). They check types, required fields and enums, but allow unknown
//   fields, which the API server drops silently (or kubectl refuses): a misspelt
//   `readinessProbe` would pass them.
// - Kubernetes 1.30 exactly: each document is type-checked as an object literal against
//   `kubernetes-types@1.30.0` (generated from the 1.30 OpenAPI spec; the ServiceMonitor
//   against the CRD's interface from the package above). TypeScript rejects unknown
//   fields of literals at any depth, and fields newer than 1.30.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import ts from 'typescript';
import { Namespace, ServiceAccount, ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../server/config/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const directory = path.join(root, 'deploy', 'kubernetes');

// A loose view of a manifest: the schemas above have checked the shapes.
type Doc = any;

interface Manifest {
  file: string;
  doc: Doc;
}

/** Every YAML document of deploy/kubernetes/ but kustomization.yaml (not a Kubernetes object). */
function readManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(directory).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort()) {
    for (const document of parseAllDocuments(readFileSync(path.join(directory, file), 'utf8'))) {
      if (document.errors.length || document.warnings.length) throw new Error(`${file}: ${[...document.errors, ...document.warnings].map((e) => e.message).join('; ')}`);
      const doc = document.toJS();
      if (doc !== null) manifests.push({ file, doc });
    }
  }
  return manifests;
}

const manifests = readManifests();
const kustomization = parseAllDocuments(readFileSync(path.join(directory, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[]; namespace: string };

function only(kind: string, name?: string): Doc {
  const found = manifests.filter((m) => m.doc.kind === kind && (name === undefined || m.doc.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0]!.doc;
}

// kind → [the JSON-schema validator, the 1.30 type the document is checked against].
const KINDS: Record<string, { validate: (doc: Doc) => void; type: string }> = {
  'v1/Namespace': { validate: (d) => new Namespace(d).validate(), type: `import('kubernetes-types/core/v1').Namespace` },
  'v1/ServiceAccount': { validate: (d) => new ServiceAccount(d).validate(), type: `import('kubernetes-types/core/v1').ServiceAccount` },
  'v1/ConfigMap': { validate: (d) => new ConfigMap(d).validate(), type: `import('kubernetes-types/core/v1').ConfigMap` },
  'v1/Secret': { validate: (d) => new Secret(d).validate(), type: `import('kubernetes-types/core/v1').Secret` },
  'v1/Service': { validate: (d) => new Service(d).validate(), type: `import('kubernetes-types/core/v1').Service` },
  'apps/v1/Deployment': { validate: (d) => new Deployment(d).validate(), type: `import('kubernetes-types/apps/v1').Deployment` },
  'batch/v1/Job': { validate: (d) => new Job(d).validate(), type: `import('kubernetes-types/batch/v1').Job` },
  'policy/v1/PodDisruptionBudget': { validate: (d) => new PodDisruptionBudget(d).validate(), type: `import('kubernetes-types/policy/v1').PodDisruptionBudget` },
  'autoscaling/v2/HorizontalPodAutoscaler': { validate: (d) => new HorizontalPodAutoscaler(d).validate(), type: `import('kubernetes-types/autoscaling/v2').HorizontalPodAutoscaler` },
  'monitoring.coreos.com/v1/ServiceMonitor': { validate: (d) => new ServiceMonitor(d).validate(), type: `import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1').IServiceMonitor` },
};

const kindOf = (doc: Doc) => `${doc.apiVersion}/${doc.kind}`;

/**
 * TypeScript's diagnostics for the documents as object literals of their 1.30 types,
 * each as "file: message". `extra` appends source (to show that a bad field is caught).
 */
function typeCheck(documents: Manifest[]): string[] {
  const virtual = path.join(directory, '__manifests__.ts');
  const lines: string[] = [];
  const owner: string[] = [];
  documents.forEach(({ file, doc }, i) => {
    const text = `export const doc${i}: ${KINDS[kindOf(doc)]!.type} = ${JSON.stringify(doc, null, 2)};`;
    for (const line of text.split('\n')) {
      lines.push(line);
      owner.push(`${file} (${doc.kind} ${doc.metadata?.name})`);
    }
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true, noEmit: true, types: [], lib: ['lib.es2022.d.ts'], skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => (name === virtual ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest));
  host.fileExists = (name) => name === virtual || fileExists.call(host, name);
  host.readFile = (name) => (name === virtual ? source : readFile.call(host, name));
  const program = ts.createProgram([virtual], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file?.fileName !== virtual || d.start === undefined) return `${d.file?.fileName ?? ''}: ${message}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${owner[line]} line ${line + 1} "${lines[line]!.trim()}": ${message}`;
  });
}

test('every YAML document has a known kind and matches its JSON schema', (t) => {
  t.true(manifests.length >= 9);
  for (const { file, doc } of manifests) {
    const kind = KINDS[kindOf(doc)];
    if (!kind) {
      t.fail(`${file}: no schema for ${kindOf(doc)}`);
      continue;
    }
    t.notThrows(() => kind.validate(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`);
  }
});

test('every document type-checks against Kubernetes 1.30 (unknown or misspelt fields fail)', (t) => {
  t.deepEqual(typeCheck(manifests), []);
});

test('the checks reject broken manifests', (t) => {
  const deployment = manifests.find((m) => m.doc.kind === 'Deployment')!;
  const broken = structuredClone(deployment.doc);
  // A misspelt field: only the 1.30 type check sees it.
  broken.spec.template.spec.containers[0].readinesProbe = broken.spec.template.spec.containers[0].readinessProbe;
  delete broken.spec.template.spec.containers[0].readinessProbe;
  const problems = typeCheck([{ file: deployment.file, doc: broken }]);
  t.true(problems.some((p) => p.includes('readinesProbe')), problems.join('\n'));
  // A wrong type: both layers see it.
  const wrong = structuredClone(deployment.doc);
  wrong.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  t.throws(() => KINDS[kindOf(wrong)]!.validate(wrong), { message: /containerPort must be integer/ });
  t.not(typeCheck([{ file: deployment.file, doc: wrong }]).length, 0);
  // A ServiceMonitor without its selector.
  const monitor = structuredClone(only('ServiceMonitor'));
  delete monitor.spec.selector;
  t.throws(() => KINDS[kindOf(monitor)]!.validate(monitor), { message: /selector/ });
});

test('kustomization.yaml lists files that exist, and leaves out only the Secret template and the optional Job', (t) => {
  const files = readdirSync(directory).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  for (const resource of kustomization.resources) t.true(files.includes(resource), `${resource} is listed but missing`);
  t.deepEqual(files.filter((f) => !kustomization.resources.includes(f)).sort(), ['migration-job.yaml', 'secret.yaml']);
  t.is(only('Namespace').metadata.name, kustomization.namespace);
});

const deployment = only('Deployment', 'enot-id');
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c: Doc) => c.name === 'enot-id');
const configMap = only('ConfigMap', 'enot-id');
const secret = only('Secret', 'enot-id');
const service = only('Service', 'enot-id');

/** True when the probe's port is the container's port (by name or number). */
function onContainerPort(port: string | number): boolean {
  return container.ports.some((p: Doc) => p.name === port || p.containerPort === port);
}

test('probes: liveness and start-up on /healthz, readiness on /readyz, all on the container port', (t) => {
  t.is(container.livenessProbe.httpGet.path, '/healthz');
  t.is(container.startupProbe.httpGet.path, '/healthz');
  t.is(container.readinessProbe.httpGet.path, '/readyz');
  for (const probe of [container.livenessProbe, container.startupProbe, container.readinessProbe]) t.true(onContainerPort(probe.httpGet.port), `port ${probe.httpGet.port}`);
  t.is(String(container.ports[0].containerPort), configMap.data.PORT, 'PORT is the container port');
});

test('selectors: the Deployment selects its pods, and the Service, the PDB and the ServiceMonitor select the same', (t) => {
  const selector = deployment.spec.selector.matchLabels;
  const labels = deployment.spec.template.metadata.labels;
  for (const [key, value] of Object.entries(selector)) t.is(labels[key], value, `pod template label ${key}`);
  t.deepEqual(service.spec.selector, selector, 'Service');
  t.deepEqual(only('PodDisruptionBudget').spec.selector.matchLabels, selector, 'PodDisruptionBudget');
  for (const constraint of pod.topologySpreadConstraints) t.deepEqual(constraint.labelSelector.matchLabels, selector, 'topology spread');
  for (const term of pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution) t.deepEqual(term.podAffinityTerm.labelSelector.matchLabels, selector, 'anti-affinity');
  // The Service forwards to the container's port; the ServiceMonitor scrapes a port the Service names.
  for (const port of service.spec.ports) t.true(onContainerPort(port.targetPort), `Service targetPort ${port.targetPort}`);
  const monitor = only('ServiceMonitor');
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) t.is(service.metadata.labels[key], value, `ServiceMonitor selects the Service by ${key}`);
  for (const endpoint of monitor.spec.endpoints) {
    t.true(service.spec.ports.some((p: Doc) => p.name === endpoint.port), `ServiceMonitor port ${endpoint.port}`);
    t.is(endpoint.path, '/metrics');
  }
});

test('the HPA scales the Deployment, which leaves the replica count to it, and the PDB lets one pod go', (t) => {
  const hpa = only('HorizontalPodAutoscaler');
  t.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name });
  t.is(deployment.spec.replicas, undefined, 'an apply would reset the count the HPA chose');
  t.true(hpa.spec.minReplicas >= 2);
  t.is(only('PodDisruptionBudget').spec.maxUnavailable, 1);
  t.is(pod.serviceAccountName, only('ServiceAccount').metadata.name);
});

/** Every environment variable of a container: literal ones, and those from the ConfigMap and the Secret. */
function environmentOf(spec: Doc) {
  const secretKeys: { variable: string; key: string; secret: string; optional: boolean }[] = [];
  const literal: Record<string, string> = {};
  for (const source of spec.envFrom ?? []) {
    if (source.configMapRef) Object.assign(literal, only('ConfigMap', source.configMapRef.name).data);
    if (source.secretRef) throw new Error('envFrom a Secret hides which keys are read: use env with secretKeyRef');
  }
  for (const variable of spec.env ?? []) {
    if (variable.value !== undefined) literal[variable.name] = variable.value;
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) secretKeys.push({ variable: variable.name, key: ref.key, secret: ref.name, optional: ref.optional === true });
  }
  return { literal, secretKeys };
}

const containers = [
  { what: 'Deployment', spec: container },
  { what: 'migration Job', spec: only('Job', 'enot-id-migrate').spec.template.spec.containers[0] },
];

test('every variable taken from the Secret is a key it defines, and every variable is one Enot ID reads', (t) => {
  const defined = Object.keys(secret.stringData);
  for (const { what, spec } of containers) {
    const { literal, secretKeys } = environmentOf(spec);
    for (const { variable, key, secret: name } of secretKeys) {
      t.is(name, secret.metadata.name, `${what}: ${variable} from Secret ${name}`);
      t.true(defined.includes(key), `${what}: ${variable} reads key ${key}, which the Secret does not define`);
    }
    for (const name of [...Object.keys(literal), ...secretKeys.map((s) => s.variable)]) t.true(CONFIG_VARIABLES.includes(name), `${what}: ${name} is no variable of server/config`);
  }
  const monitor = only('ServiceMonitor').spec.endpoints[0].authorization.credentials;
  t.is(monitor.name, secret.metadata.name);
  t.true(defined.includes(monitor.key), 'the ServiceMonitor reads the token the server checks');
  t.true(environmentOf(container).secretKeys.some((s) => s.variable === 'METRICS_TOKEN' && s.key === monitor.key && !s.optional));
});

// Well-formed stand-ins for the Secret's values (never real ones): one for each key.
const SAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgresql://enot:pw@postgres:5432/enot',
  REDIS_URL: 'redis://:pw@redis:6379/0',
  COOKIE_KEYS: 'k'.repeat(64),
  SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
  CODE_HMAC_SECRET: 'c'.repeat(64),
  SMTP_URL: 'smtps://user:pw@smtp.example.com:465',
  SMS_WEBHOOK_URL: 'https://sms.example.com/hook',
  SMS_WEBHOOK_SECRET: 's'.repeat(64),
  METRICS_TOKEN: 'm'.repeat(64),
};

function configuredEnvironment(spec: Doc, values: Record<string, string>): Record<string, string> {
  const { literal, secretKeys } = environmentOf(spec);
  return { ...literal, ...Object.fromEntries(secretKeys.map((s) => [s.variable, values[s.key]!])) };
}

test('the configuration is a valid production one: several stateless replicas on PostgreSQL and Redis', (t) => {
  t.deepEqual(Object.keys(SAMPLES).sort(), Object.keys(secret.stringData).sort(), 'a stand-in for each key of the Secret');
  for (const { what, spec } of containers) {
    const config = loadConfig(configuredEnvironment(spec, SAMPLES));
    t.true(config.production, `${what}: NODE_ENV=production`);
    t.truthy(config.databaseUrl, `${what}: DATABASE_URL (else each pod starts its own embedded PostgreSQL)`);
    t.is(config.dataDir, '/data');
  }
  const config = loadConfig(configuredEnvironment(container, SAMPLES));
  t.truthy(config.redisUrl, 'REDIS_URL: sessions and tokens shared between replicas');
  t.truthy(config.metricsToken, 'METRICS_TOKEN: else /metrics does not exist');
  t.truthy(config.secretsKeys, 'SECRETS_KEY: secrets sealed at rest');
  t.true(config.trustProxy, 'behind an ingress');
  t.regex(config.issuer, /^https:\/\//);
  // The required ones are not optional references, so a Secret without them keeps the pod from starting.
  const required = environmentOf(container).secretKeys.filter((s) => !s.optional).map((s) => s.variable).sort();
  t.deepEqual(required, ['DATABASE_URL', 'METRICS_TOKEN', 'REDIS_URL', 'SECRETS_KEY', 'SMS_WEBHOOK_URL', 'SMTP_URL']);
});

test('each placeholder of the Secret template stops the start: none can go to production by mistake', (t) => {
  for (const [key, placeholder] of Object.entries(secret.stringData as Record<string, string>)) {
    const env = configuredEnvironment(container, { ...SAMPLES, [key]: placeholder });
    t.throws(() => loadConfig(env), { instanceOf: ConfigError }, `${key}=${placeholder} is accepted`);
  }
});

test('the container runs as npm start does, hardened, and gets time to drain and shut down', (t) => {
  const start = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  t.deepEqual(container.command, start.split(' '), 'the command is npm start');
  t.is(pod.securityContext.runAsNonRoot, true);
  t.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.is(pod.automountServiceAccountToken, false);
  for (const { what, spec } of containers) {
    t.is(spec.securityContext.readOnlyRootFilesystem, true, what);
    t.is(spec.securityContext.allowPrivilegeEscalation, false, what);
    t.deepEqual(spec.securityContext.capabilities.drop, ['ALL'], what);
    t.is(spec.image, container.image, `${what}: one image`);
  }
  // The only writable places are emptyDirs: DATA_DIR and /tmp.
  const volumes = Object.fromEntries(pod.volumes.map((v: Doc) => [v.name, v]));
  const mounts = Object.fromEntries(container.volumeMounts.map((m: Doc) => [m.mountPath, m.name]));
  for (const mountPath of [configMap.data.DATA_DIR, '/tmp']) t.truthy(volumes[mounts[mountPath]]?.emptyDir, `${mountPath} is an emptyDir`);
  // SIGTERM waits SHUTDOWN_TIMEOUT for requests, then again for jobs (server/server.ts close()).
  const shutdown = Number(configMap.data.SHUTDOWN_TIMEOUT);
  const preStop = container.lifecycle.preStop.sleep.seconds;
  t.true(preStop > 0, 'endpoints drain before SIGTERM');
  t.true(pod.terminationGracePeriodSeconds > preStop + 2 * shutdown, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ${preStop} + 2 × ${shutdown}`);
});

test('resources follow the measured RSS: request above the idle 142 MB, limit above the 348 MB benchmark peak', (t) => {
  const mebibytes = (quantity: string) => {
    const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
    if (!match) throw new Error(`unexpected quantity ${quantity}`);
    return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
  };
  const { requests, limits } = container.resources;
  t.true(mebibytes(requests.memory) * 1.048576 > 142);
  t.true(mebibytes(limits.memory) * 1.048576 > 348);
  t.truthy(requests.cpu, 'the HPA measures CPU against the request');
});
