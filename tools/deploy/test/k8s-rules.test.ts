/* eslint-disable @typescript-eslint/no-explicit-any -- the tests reach into rendered objects by path; the code under test types them */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkObjects, compareShapes } from '../src/k8s-rules.ts';
import { render, type K8sObject } from '../src/kustomize.ts';
import { PATHS } from '../src/paths.ts';
import { writeClusterSupergraph } from '../src/supergraph.ts';

let dev: K8sObject[];
let prod: K8sObject[];
beforeAll(async () => {
  await writeClusterSupergraph();
  dev = render(PATHS.overlays.dev);
  prod = render(PATHS.overlays.prod);
});

/** A deep copy of the overlay with one object changed. */
function broken(objects: K8sObject[], kind: string, name: string, change: (object: any) => void): K8sObject[] {
  const copy = structuredClone(objects);
  const target = copy.find((o) => o.kind === kind && o.metadata.name === name);
  if (!target) throw new Error(`no ${kind} ${name}`);
  change(target);
  return copy;
}
const gatewayContainer = (d: any) => d.spec.template.spec.containers[0];

describe('the rendered overlays', () => {
  it('dev and prod hold the same objects, pass the Kubernetes schemas and every rule', () => {
    expect(checkObjects(dev)).toEqual([]);
    expect(checkObjects(prod)).toEqual([]);
    expect(compareShapes({ name: 'dev', objects: dev }, { name: 'prod', objects: prod })).toEqual([]);
    // 6 services x (Deployment, Service, ServiceAccount, HPA, PDB, NetworkPolicy) + Ingress + 2 ConfigMaps + 2 shared policies + the job and its policy.
    expect(dev).toHaveLength(6 * 6 + 1 + 2 + 2 + 2);
  });

  it('differ in configuration only: replicas, autoscaling bounds, requests, images, addresses', () => {
    const byName = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
    expect(byName(dev, 'Deployment', 'gateway').spec.replicas).toBe(1);
    expect(byName(prod, 'Deployment', 'gateway').spec.replicas).toBe(3);
    expect(byName(dev, 'HorizontalPodAutoscaler', 'orders').spec).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
    expect(byName(prod, 'HorizontalPodAutoscaler', 'orders').spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(byName(prod, 'HorizontalPodAutoscaler', 'gateway').spec).toMatchObject({ minReplicas: 3, maxReplicas: 30 });
    expect(gatewayContainer(byName(dev, 'Deployment', 'reviews')).resources.requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(gatewayContainer(byName(prod, 'Deployment', 'reviews')).resources.requests).toEqual({ cpu: '250m', memory: '320Mi' });
    expect(gatewayContainer(byName(prod, 'Deployment', 'gateway')).image).toBe('shop/gateway:1.0.0');
    expect(new Set(dev.map((o) => o.metadata.namespace))).toEqual(new Set(['shop-dev']));
    expect(byName(dev, 'ConfigMap', 'shop-supergraph').data['supergraph.graphql']).toContain('http://orders:4005/graphql');
  });
});

describe('the rules refuse a broken manifest', () => {
  const cases: Array<[string, K8sObject[] | (() => K8sObject[]), RegExp]> = [
    ['a container without probes', () => broken(prod, 'Deployment', 'reviews', (d) => delete gatewayContainer(d).livenessProbe), /Deployment reviews container reviews: livenessProbe must GET \/health/],
    ['a readiness probe on /health', () => broken(prod, 'Deployment', 'gateway', (d) => (gatewayContainer(d).readinessProbe.httpGet.path = '/health')), /readinessProbe must GET \/ready/],
    ['no memory limit', () => broken(prod, 'Deployment', 'orders', (d) => delete gatewayContainer(d).resources.limits.memory), /Deployment orders container orders: no memory limits/],
    ['a root user', () => broken(prod, 'Deployment', 'accounts', (d) => (d.spec.template.spec.securityContext = { runAsUser: 0 })), /Deployment accounts container accounts: must run as a non-root user/],
    ['a writable root filesystem', () => broken(dev, 'Job', 'migrate', (j) => (j.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false)), /Job migrate container migrate: readOnlyRootFilesystem must be true/],
    ['a secret written in the manifest', () => broken(prod, 'Deployment', 'gateway', (d) => gatewayContainer(d).env.push({ name: 'AUTH_JWT_SECRET', value: 'x'.repeat(40) })), /AUTH_JWT_SECRET is a secret: take it from a Secret/],
    ['a grace period shorter than the drain', () => broken(prod, 'Deployment', 'gateway', (d) => (d.spec.template.spec.terminationGracePeriodSeconds = 30)), /terminationGracePeriodSeconds 30 must exceed preStop \(5 s\) \+ the drain \(25 s\)/],
    ['no preStop', () => broken(prod, 'Deployment', 'products', (d) => delete gatewayContainer(d).lifecycle), /Deployment products: no preStop delay/],
    ['no autoscaler', () => prod.filter((o) => !(o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'inventory')), /Deployment inventory: no HorizontalPodAutoscaler/],
    ['an autoscaler on CPU alone', () => broken(prod, 'HorizontalPodAutoscaler', 'gateway', (h) => (h.spec.metrics = h.spec.metrics.slice(0, 1))), /HorizontalPodAutoscaler gateway: no in-flight or queue metric/],
    ['no disruption budget', () => prod.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'reviews')), /Deployment reviews: no PodDisruptionBudget/],
    ['no topology spread', () => broken(prod, 'Deployment', 'reviews', (d) => delete d.spec.template.spec.topologySpreadConstraints), /Deployment reviews: no topologySpreadConstraints/],
    ['the gateway reaching a database', () => broken(prod, 'NetworkPolicy', 'gateway', (p) => p.spec.egress.push({ to: [{ ipBlock: { cidr: '10.30.1.10/32' } }], ports: [{ protocol: 'TCP', port: 5432 }] })), /NetworkPolicy gateway: egress to databases/],
    ['two subgraphs on one database', () => broken(prod, 'NetworkPolicy', 'reviews', (p) => (p.spec.egress[0].to = [{ ipBlock: { cidr: '10.30.1.10/32' } }])), /database 10\.30\.1\.10\/32 reachable by accounts and reviews/],
    ['a subgraph open to every pod', () => broken(prod, 'NetworkPolicy', 'orders', (p) => p.spec.ingress.push({ from: [{ podSelector: {} }] })), /NetworkPolicy orders: ingress from pods \{\}/],
    ['no default deny', () => prod.filter((o) => o.metadata.name !== 'default-deny'), /no default deny/],
    ['the supergraph mounted with subPath', () => broken(prod, 'Deployment', 'gateway', (d) => (gatewayContainer(d).volumeMounts[1].subPath = 'supergraph.graphql')), /subPath, which kubelet never updates/],
    ['a value the schema refuses', () => broken(prod, 'Deployment', 'gateway', (d) => (gatewayContainer(d).resources.limits.memory = 'lots')), /Deployment gateway: not valid against the Kubernetes schema: .*memory/],
    ['a kind the shop does not deploy', () => [...prod, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray' } }], /Pod stray: v1 Pod is not a kind the shop deploys/],
  ];
  it.each(cases)('%s', (_, objects, expected) => {
    const problems = checkObjects(typeof objects === 'function' ? objects() : objects);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('an overlay with an object the other lacks', () => {
    expect(compareShapes({ name: 'dev', objects: dev }, { name: 'prod', objects: prod.slice(1) })).toEqual([`${prod[0]!.kind} ${prod[0]!.metadata.name}: in dev, not in prod`]);
  });
});
