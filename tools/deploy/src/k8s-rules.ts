/**
 * What every rendered overlay must satisfy before it may be applied: each object valid against the
 * Kubernetes API schemas (kubernetes-models), and the project's rules for running the shop
 * (issue 12): probes on /health and /ready, requests and limits, a non-root read-only container, a
 * preStop delay and a grace period above the drain, an autoscaler (CPU and an in-flight metric),
 * a disruption budget, topology spread and a network policy per service, secrets only from
 * Secrets, each database reached only by its own subgraph (and the migration job), the supergraph
 * mounted so that the gateway can hot-reload it. Each problem names its object.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { K8sObject } from './kustomize.ts';

/** The kinds the shop deploys, each with the model that validates it. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/** Drain budget of each service after SIGTERM, from its code (service-kit main.ts, gateway main.ts). */
const SUBGRAPH_CLOSE_TIMEOUT_MS = 30_000;
const GATEWAY_CLOSE_SLACK_MS = 10_000;
const GATEWAY_DEFAULTS = { SHUTDOWN_DELAY_MS: 5000, DRAIN_TIMEOUT_MS: 10_000 };
/** Variables whose value is a secret: only ever from a Secret. */
const SECRET_NAME = /(KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL)/;
const DATABASE_PORT = 5432;

const id = (object: K8sObject) => `${object.kind} ${object.metadata.name}`;

export function checkObjects(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (!Model) {
      problems.push(`${id(object)}: ${object.apiVersion} ${object.kind} is not a kind the shop deploys (tools/deploy/src/k8s-rules.ts)`);
      continue;
    }
    try {
      new Model(object as never).validate();
    } catch (error) {
      problems.push(`${id(object)}: not valid against the Kubernetes schema: ${(error as Error).message}`);
    }
  }
  const of = <T>(kind: string) => objects.filter((o) => o.kind === kind) as unknown as Array<T & K8sObject>;
  const deployments = of<IDeployment>('Deployment');
  const hpas = of<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler');
  const pdbs = of<IPodDisruptionBudget>('PodDisruptionBudget');
  const policies = of<INetworkPolicy>('NetworkPolicy');
  for (const deployment of deployments) problems.push(...checkDeployment(deployment, { hpas, pdbs, policies }));
  for (const job of of<IJob>('Job')) {
    const pod = job.spec?.template.spec;
    if (pod) problems.push(...checkPod(id(job), pod, { probes: false }));
  }
  problems.push(...checkNetwork(deployments, policies));
  problems.push(...checkSupergraphMount(deployments, objects));
  return problems;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

function checkDeployment(
  deployment: IDeployment & K8sObject,
  related: { hpas: Array<IHorizontalPodAutoscaler & K8sObject>; pdbs: Array<IPodDisruptionBudget & K8sObject>; policies: Array<INetworkPolicy & K8sObject> },
): string[] {
  const name = id(deployment);
  const problems: string[] = [];
  const pod = deployment.spec?.template.spec;
  const podLabels = deployment.spec?.template.metadata?.labels;
  if (!pod) return [`${name}: no pod template`];
  problems.push(...checkPod(name, pod, { probes: true }));
  if (!pod.topologySpreadConstraints?.length) problems.push(`${name}: no topologySpreadConstraints (replicas would pile onto one node or zone)`);

  const hpa = related.hpas.find((h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment.metadata.name);
  if (!hpa) problems.push(`${name}: no HorizontalPodAutoscaler`);
  else {
    const metrics = hpa.spec?.metrics ?? [];
    if (!metrics.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) problems.push(`${id(hpa)}: no CPU metric`);
    if (!metrics.some((m) => m.type === 'Pods' && m.pods?.metric.name)) problems.push(`${id(hpa)}: no in-flight or queue metric (a Pods metric from the Prometheus adapter)`);
    const min = hpa.spec?.minReplicas ?? 1;
    if (min < 1 || (hpa.spec?.maxReplicas ?? 0) < min) problems.push(`${id(hpa)}: expected 1 <= minReplicas <= maxReplicas`);
    const replicas = deployment.spec?.replicas ?? 1;
    if (replicas < min || replicas > (hpa.spec?.maxReplicas ?? replicas)) problems.push(`${name}: replicas ${replicas} outside its autoscaler's ${min}-${hpa.spec?.maxReplicas}`);
  }
  if (!related.pdbs.some((p) => selects(p.spec?.selector?.matchLabels, podLabels))) problems.push(`${name}: no PodDisruptionBudget selects its pods`);
  if (!related.policies.some((p) => Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length > 0 && selects(p.spec?.podSelector?.matchLabels, podLabels))) {
    problems.push(`${name}: no NetworkPolicy of its own`);
  }

  const container = pod.containers[0];
  const preStopMs = preStopSleepMs(container);
  const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
  const env = Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  const drainMs =
    deployment.metadata.name === 'gateway'
      ? Number(env.SHUTDOWN_DELAY_MS ?? GATEWAY_DEFAULTS.SHUTDOWN_DELAY_MS) + Number(env.DRAIN_TIMEOUT_MS ?? GATEWAY_DEFAULTS.DRAIN_TIMEOUT_MS) + GATEWAY_CLOSE_SLACK_MS
      : SUBGRAPH_CLOSE_TIMEOUT_MS;
  if (preStopMs === null) problems.push(`${name}: no preStop delay (requests would reach a pod that is already closing)`);
  if (graceMs <= (preStopMs ?? 0) + drainMs) {
    problems.push(`${name}: terminationGracePeriodSeconds ${graceMs / 1000} must exceed preStop (${(preStopMs ?? 0) / 1000} s) + the drain (${drainMs / 1000} s), or the pod is killed mid-drain`);
  }
  return problems;
}

function preStopSleepMs(container: IContainer | undefined): number | null {
  const preStop = container?.lifecycle?.preStop;
  if (!preStop) return null;
  const command = preStop.exec?.command;
  if (command?.[0] === 'sleep' && command[1] && /^\d+$/.test(command[1])) return Number(command[1]) * 1000;
  const sleep = (preStop as { sleep?: { seconds?: number } }).sleep?.seconds;
  return typeof sleep === 'number' ? sleep * 1000 : null;
}

function checkPod(name: string, pod: IPodSpec, options: { probes: boolean }): string[] {
  const problems: string[] = [];
  const podNonRoot = pod.securityContext?.runAsNonRoot === true && pod.securityContext.runAsUser !== 0;
  for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const where = `${name} container ${container.name}`;
    if (options.probes) {
      if (container.livenessProbe?.httpGet?.path !== '/health') problems.push(`${where}: livenessProbe must GET /health`);
      if (container.readinessProbe?.httpGet?.path !== '/ready') problems.push(`${where}: readinessProbe must GET /ready`);
    }
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (container.resources?.[kind]?.[resource] === undefined) problems.push(`${where}: no ${resource} ${kind}`);
      }
    }
    const memory = (kind: 'requests' | 'limits') => quantityBytes(container.resources?.[kind]?.memory);
    if (memory('requests') !== null && memory('limits') !== null && memory('requests')! > memory('limits')!) problems.push(`${where}: memory requests above its limits`);
    const security = container.securityContext;
    const nonRoot = security?.runAsNonRoot === true || (security?.runAsNonRoot !== false && podNonRoot);
    if (!nonRoot || security?.runAsUser === 0) problems.push(`${where}: must run as a non-root user (runAsNonRoot)`);
    if (security?.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
    if (security?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (!security?.capabilities?.drop?.includes('ALL')) problems.push(`${where}: must drop ALL capabilities`);
    if (!container.image || /:latest$/.test(container.image)) problems.push(`${where}: needs an image with a tag or digest, not latest`);
    for (const variable of container.env ?? []) {
      if (SECRET_NAME.test(variable.name) && variable.value !== undefined) problems.push(`${where}: ${variable.name} is a secret: take it from a Secret (secretKeyRef), not a literal value`);
      if (SECRET_NAME.test(variable.name) && variable.valueFrom?.configMapKeyRef) problems.push(`${where}: ${variable.name} is a secret: take it from a Secret, not a ConfigMap`);
    }
  }
  return problems;
}

/** Bytes of a memory quantity (Ki, Mi, Gi, or plain), null when it is not one. */
function quantityBytes(quantity: string | number | undefined): number | null {
  if (quantity === undefined) return null;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!match) return null;
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

/**
 * Who reaches whom: a default deny; the gateway only from the ingress controller (its metrics
 * port from monitoring); each subgraph only from the gateway (products and inventory also from orders) and
 * monitoring; every database address reached on its port by one subgraph alone (and the migration
 * job), and never by the gateway.
 */
function checkNetwork(deployments: Array<IDeployment & K8sObject>, policies: Array<INetworkPolicy & K8sObject>): string[] {
  const problems: string[] = [];
  const denyAll = policies.find((p) => Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length === 0 && !p.spec?.ingress && !p.spec?.egress);
  if (!denyAll || !denyAll.spec?.policyTypes?.includes('Ingress') || !denyAll.spec.policyTypes.includes('Egress')) {
    problems.push('NetworkPolicy: no default deny of ingress and egress for every pod of the namespace');
  }
  const ownPolicy = (name: string) => policies.find((p) => p.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === name);
  const databaseOwners = new Map<string, string[]>();
  for (const deployment of deployments) {
    const name = deployment.metadata.name;
    const policy = ownPolicy(name);
    if (!policy) continue;
    const component = deployment.spec?.template.metadata?.labels?.['app.kubernetes.io/component'];
    for (const rule of policy.spec?.ingress ?? []) {
      for (const peer of rule.from ?? []) {
        if (peer.ipBlock) problems.push(`${id(policy)}: ingress from an address block (${peer.ipBlock.cidr}); only the ingress controller, the gateway or monitoring`);
        const namespace = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
        const pods = peer.podSelector?.matchLabels?.['app.kubernetes.io/name'];
        if (!peer.namespaceSelector && !peer.podSelector && !peer.ipBlock) problems.push(`${id(policy)}: an ingress peer that matches everything`);
        if (namespace && namespace !== 'monitoring' && !(component === 'gateway' && namespace === 'ingress-nginx')) {
          problems.push(`${id(policy)}: ingress from namespace ${namespace}`);
        }
        if (peer.namespaceSelector && !namespace) problems.push(`${id(policy)}: ingress from namespaces chosen by labels other than their name`);
        if (peer.podSelector && !peer.namespaceSelector) {
          const allowed = component === 'subgraph' ? (name === 'products' || name === 'inventory' ? ['gateway', 'orders'] : ['gateway']) : [];
          if (!pods || !allowed.includes(pods)) problems.push(`${id(policy)}: ingress from pods ${JSON.stringify(peer.podSelector.matchLabels ?? {})}; ${component === 'gateway' ? 'only the ingress controller' : `only ${allowed.join(' and ')}`}`);
        }
      }
      if (!rule.from?.length) problems.push(`${id(policy)}: an ingress rule open to everyone`);
    }
    for (const rule of policy.spec?.egress ?? []) {
      if (!(rule.ports ?? []).some((p) => p.port === DATABASE_PORT)) continue;
      if (component !== 'subgraph') problems.push(`${id(policy)}: egress to databases (port ${DATABASE_PORT}); only subgraphs reach a database`);
      for (const peer of rule.to ?? []) {
        if (!peer.ipBlock) problems.push(`${id(policy)}: database egress to something other than its database's address`);
        else databaseOwners.set(peer.ipBlock.cidr, [...(databaseOwners.get(peer.ipBlock.cidr) ?? []), name]);
      }
      if (!rule.to?.length) problems.push(`${id(policy)}: database egress open to every address`);
    }
  }
  for (const [cidr, owners] of databaseOwners) if (owners.length > 1) problems.push(`NetworkPolicy: database ${cidr} reachable by ${owners.join(' and ')}; each database by its own subgraph only`);
  for (const deployment of deployments.filter((d) => d.spec?.template.metadata?.labels?.['app.kubernetes.io/component'] === 'subgraph')) {
    if (![...databaseOwners.values()].some((owners) => owners.includes(deployment.metadata.name))) problems.push(`${id(deployment)}: its network policy reaches no database`);
  }
  // Nothing else may open port 5432: the shared egress policies must not.
  for (const policy of policies) {
    const selector = policy.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'];
    if (selector && (deployments.some((d) => d.metadata.name === selector) || selector === 'migrate')) continue;
    for (const rule of policy.spec?.egress ?? []) {
      if ((rule.ports ?? []).some((p) => p.port === DATABASE_PORT) || !rule.ports?.length) problems.push(`${id(policy)}: opens egress to databases (port ${DATABASE_PORT}) for pods that are not a subgraph`);
    }
  }
  return problems;
}

/** The gateway reads the supergraph from the ConfigMap as a directory mount, which kubelet updates in place. */
function checkSupergraphMount(deployments: Array<IDeployment & K8sObject>, objects: K8sObject[]): string[] {
  const gateway = deployments.find((d) => d.metadata.name === 'gateway');
  if (!gateway) return ['Deployment gateway: missing'];
  const pod = gateway.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === 'gateway');
  const path = container?.env?.find((e) => e.name === 'SUPERGRAPH_PATH')?.value;
  const volume = pod?.volumes?.find((v) => v.configMap);
  const mount = container?.volumeMounts?.find((m) => m.name === volume?.name);
  const problems: string[] = [];
  if (!volume || !mount || !path) return ['Deployment gateway: the supergraph must come from a ConfigMap volume, with SUPERGRAPH_PATH inside its mount'];
  if (mount.subPath) problems.push('Deployment gateway: the supergraph ConfigMap is mounted with subPath, which kubelet never updates: no hot reload');
  if (!path.startsWith(`${mount.mountPath.replace(/\/$/, '')}/`)) problems.push(`Deployment gateway: SUPERGRAPH_PATH ${path} is not inside the ConfigMap's mount ${mount.mountPath}`);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap!.name);
  const file = path.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  if (!configMap) problems.push(`Deployment gateway: ConfigMap ${volume.configMap!.name} is not part of the overlay`);
  else if (typeof (configMap.data as Record<string, string> | undefined)?.[file] !== 'string' || !(configMap.data as Record<string, string>)[file]!.includes('@link')) {
    problems.push(`ConfigMap ${configMap.metadata.name}: no composed supergraph under ${file}`);
  }
  return problems;
}

/** Two overlays of one base must hold the same objects: environments differ in configuration only. */
export function compareShapes(a: { name: string; objects: K8sObject[] }, b: { name: string; objects: K8sObject[] }): string[] {
  const keys = (objects: K8sObject[]) => new Set(objects.map((o) => `${o.kind} ${o.metadata.name}`));
  const [left, right] = [keys(a.objects), keys(b.objects)];
  return [
    ...[...left].filter((k) => !right.has(k)).map((k) => `${k}: in ${a.name}, not in ${b.name}`),
    ...[...right].filter((k) => !left.has(k)).map((k) => `${k}: in ${b.name}, not in ${a.name}`),
  ];
}
