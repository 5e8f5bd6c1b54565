/* eslint-disable @typescript-eslint/no-explicit-any -- the tests reach into rendered objects by path; the code under test types them */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyJson6902, render, RenderError, strategicMerge, type K8sObject } from '../src/kustomize.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-kustomize-'));
  await mkdir(join(dir, 'base'));
  await mkdir(join(dir, 'overlay'));
  await writeFile(
    join(dir, 'base', 'app.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { tier: front } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: shop/web
          env: [{ name: A, value: '1' }, { name: B, value: '2' }]
        - { name: sidecar, image: 'other/sidecar:1.2' }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
`,
  );
  await writeFile(join(dir, 'base', 'file.txt'), 'hello');
  await writeFile(
    join(dir, 'base', 'kustomization.yaml'),
    `resources: [app.yaml]
labels:
  - pairs: { part-of: shop }
    includeTemplates: true
configMapGenerator:
  - name: files
    files: [file.txt, renamed=file.txt]
    literals: [KEY=value=with=equals]
    options: { disableNameSuffixHash: true }
`,
  );
  await writeFile(
    join(dir, 'overlay', 'kustomization.yaml'),
    `namespace: staging
resources: [../base]
images: [{ name: shop/web, newTag: '2.0' }]
replicas: [{ name: web, count: 5 }]
patches:
  - path: env.yaml
  - target: { kind: Deployment, labelSelector: part-of=shop }
    patch: |-
      - { op: add, path: /spec/template/spec/containers/0/env/-, value: { name: C, value: '3' } }
      - { op: remove, path: /spec/template/spec/containers/1 }
`,
  );
  await writeFile(
    join(dir, 'overlay', 'env.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers:
        - name: web
          env: [{ name: B, value: 'two' }]
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the kustomize renderer', () => {
  it('renders an overlay over its base: namespace, labels, images, replicas, generated ConfigMap, both kinds of patch', () => {
    const [deployment, service, configMap] = render(join(dir, 'overlay')) as any[];
    expect(deployment.metadata).toEqual({ name: 'web', namespace: 'staging', labels: { tier: 'front', 'part-of': 'shop' } });
    expect(deployment.spec.replicas).toBe(5);
    // Labels reach the pod template, never the selector (immutable).
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'web', 'part-of': 'shop' });
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    // Strategic merge by name, then the JSON 6902 append and removal.
    expect(deployment.spec.template.spec.containers).toEqual([
      { name: 'web', image: 'shop/web:2.0', env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }] },
    ]);
    expect(service.metadata.namespace).toBe('staging');
    expect(configMap).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'files', namespace: 'staging', labels: { 'part-of': 'shop' } },
      data: { 'file.txt': 'hello', renamed: 'hello', KEY: 'value=with=equals' },
    });
  });

  it('refuses what it does not implement, and patches that match nothing', async () => {
    await mkdir(join(dir, 'unsupported'));
    await writeFile(join(dir, 'unsupported', 'kustomization.yaml'), 'resources: []\nhelmCharts: []\n');
    expect(() => render(join(dir, 'unsupported'))).toThrow(/helmCharts not supported by this renderer/);
    await mkdir(join(dir, 'nomatch'));
    await writeFile(join(dir, 'nomatch', 'kustomization.yaml'), "resources: [../base]\npatches:\n  - target: { kind: Job }\n    patch: '[{ op: remove, path: /spec }]'\n");
    expect(() => render(join(dir, 'nomatch'))).toThrow(RenderError);
    await mkdir(join(dir, 'hash'));
    await writeFile(join(dir, 'hash', 'kustomization.yaml'), 'configMapGenerator: [{ name: x, literals: [A=1] }]\n');
    expect(() => render(join(dir, 'hash'))).toThrow(/only disableNameSuffixHash: true is supported/);
  });

  it('merges lists of named objects by name and replaces other lists; null deletes', () => {
    expect(strategicMerge({ a: [{ name: 'x', v: 1 }, { name: 'y', v: 2 }], b: [1, 2], c: 1 }, { a: [{ name: 'y', v: 3 }, { name: 'z', v: 4 }], b: [3], c: null })).toEqual({
      a: [{ name: 'x', v: 1 }, { name: 'y', v: 3 }, { name: 'z', v: 4 }],
      b: [3],
    });
  });

  it('refuses a JSON 6902 replace of a path that does not exist', () => {
    const object: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} };
    expect(() => applyJson6902(object, [{ op: 'replace', path: '/data/missing', value: 1 }])).toThrow(/has no \/data\/missing to replace/);
    applyJson6902(object, [{ op: 'add', path: '/data/new', value: 'v' }]);
    expect(object.data).toEqual({ new: 'v' });
  });
});
