/**
 * Renders a kustomization the way `kustomize build` does, for the subset of kustomize that the
 * shop's manifests use (no kustomize binary can be installed here, and the npm packages named
 * after it download one). Every field it does not implement is refused, so the manifests cannot
 * drift into a feature this renderer would silently get wrong, and `kubectl apply -k` renders the
 * same objects.
 *
 * Implemented: resources (files and directories with their own kustomization), namespace, labels
 * (with includeTemplates; never selectors), images (newName, newTag, digest), replicas, patches
 * (a file or inline; strategic merge or JSON 6902; target by group, version, kind, name,
 * labelSelector `key=value,...`), configMapGenerator with files and literals and
 * disableNameSuffixHash.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export class RenderError extends Error {
  override readonly name = 'RenderError';
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'replicas', 'patches', 'configMapGenerator']);
/** Kinds that live in no namespace: `namespace:` leaves them alone. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass']);
/** Kinds whose pod template gets the labels too (includeTemplates). */
const WITH_POD_TEMPLATE = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every YAML document of a file or an inline text, empty ones dropped. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new RenderError(`${source}: ${document.errors[0]!.message}`);
    const value = document.toJS() as unknown;
    return value == null ? [] : [value];
  });
}

function readKustomization(dir: string): JsonObject {
  const path = join(dir, 'kustomization.yaml');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new RenderError(`${path}: no kustomization.yaml`);
  }
  const [document] = parseYamlDocuments(text, path);
  if (!isObject(document)) throw new RenderError(`${path}: expected a mapping`);
  const unknown = Object.keys(document).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) throw new RenderError(`${path}: ${unknown.join(', ')} not supported by this renderer (tools/deploy/src/kustomize.ts)`);
  return document;
}

function asObjects(values: unknown[], source: string): K8sObject[] {
  return values.map((value) => {
    if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isObject(value.metadata) || typeof value.metadata.name !== 'string') {
      throw new RenderError(`${source}: every document needs apiVersion, kind and metadata.name`);
    }
    return structuredClone(value) as unknown as K8sObject;
  });
}

const list = (value: Json | undefined, what: string): Json[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RenderError(`${what}: expected a list`);
  return value;
};

/** `kustomize build <dir>`: the objects, in the order kustomize keeps them (resources order). */
export function render(dir: string): K8sObject[] {
  const root = resolve(dir);
  const kustomization = readKustomization(root);
  let objects: K8sObject[] = [];
  for (const entry of list(kustomization.resources, `${root} resources`)) {
    if (typeof entry !== 'string') throw new RenderError(`${root}: resources are paths`);
    const path = join(root, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw new RenderError(`${root}: resource ${entry} does not exist`);
    objects.push(...(stat.isDirectory() ? render(path) : asObjects(parseYamlDocuments(readFileSync(path, 'utf8'), path), path)));
  }
  for (const generator of list(kustomization.configMapGenerator, `${root} configMapGenerator`)) objects.push(configMap(root, generator));

  for (const patch of list(kustomization.patches, `${root} patches`)) objects = applyPatch(root, objects, patch);
  for (const entry of list(kustomization.replicas, `${root} replicas`)) {
    if (!isObject(entry) || typeof entry.name !== 'string' || typeof entry.count !== 'number') throw new RenderError(`${root}: replicas need name and count`);
    const targets = objects.filter((o) => o.metadata.name === entry.name && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind));
    if (targets.length === 0) throw new RenderError(`${root}: replicas: no Deployment named ${entry.name}`);
    for (const target of targets) (target.spec as JsonObject).replicas = entry.count;
  }
  for (const entry of list(kustomization.images, `${root} images`)) objects.forEach((o) => setImages(o, entry, root));
  for (const entry of list(kustomization.labels, `${root} labels`)) objects.forEach((o) => addLabels(o, entry, root));
  if (kustomization.namespace !== undefined) {
    if (typeof kustomization.namespace !== 'string') throw new RenderError(`${root}: namespace must be a name`);
    for (const object of objects) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = kustomization.namespace;
  }
  const seen = new Set<string>();
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (seen.has(id)) throw new RenderError(`${root}: ${object.kind} ${object.metadata.name} defined twice`);
    seen.add(id);
  }
  return objects;
}

function configMap(root: string, generator: Json): K8sObject {
  if (!isObject(generator) || typeof generator.name !== 'string') throw new RenderError(`${root}: configMapGenerator needs a name`);
  const options = isObject(generator.options) ? generator.options : {};
  // A hash suffix would need every reference rewritten; the shop's one ConfigMap is hot-reloaded, so it has none.
  if (options.disableNameSuffixHash !== true) throw new RenderError(`${root}: configMapGenerator ${generator.name}: only disableNameSuffixHash: true is supported`);
  const data: Record<string, string> = {};
  for (const file of list(generator.files, `${generator.name} files`)) {
    if (typeof file !== 'string') throw new RenderError(`${root}: configMapGenerator files are paths`);
    const [key, path] = file.includes('=') ? (file.split('=', 2) as [string, string]) : [basename(file), file];
    try {
      data[key] = readFileSync(join(root, path), 'utf8');
    } catch {
      throw new RenderError(`${join(root, path)}: missing (configMapGenerator ${generator.name}; npm run deploy:supergraph writes the supergraph)`);
    }
  }
  for (const literal of list(generator.literals, `${generator.name} literals`)) {
    if (typeof literal !== 'string' || !literal.includes('=')) throw new RenderError(`${root}: configMapGenerator literals are key=value`);
    const at = literal.indexOf('=');
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data };
}

function matchesTarget(object: K8sObject, target: JsonObject): boolean {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  if (typeof target.kind === 'string' && target.kind !== object.kind) return false;
  if (typeof target.group === 'string' && target.group !== group) return false;
  if (typeof target.version === 'string' && target.version !== version) return false;
  if (typeof target.name === 'string' && !new RegExp(`^(?:${target.name})$`).test(object.metadata.name)) return false;
  if (typeof target.labelSelector === 'string') {
    for (const term of target.labelSelector.split(',')) {
      const [key, value] = term.split('=').map((s) => s.trim());
      if (!key || value === undefined) throw new RenderError(`labelSelector ${target.labelSelector}: only key=value terms are supported`);
      if (object.metadata.labels?.[key] !== value) return false;
    }
  }
  return true;
}

function applyPatch(root: string, objects: K8sObject[], patch: Json): K8sObject[] {
  if (!isObject(patch)) throw new RenderError(`${root}: a patch is a mapping with path or patch`);
  const source = typeof patch.path === 'string' ? join(root, patch.path) : `${root} (inline patch)`;
  const text = typeof patch.path === 'string' ? readFileSync(source, 'utf8') : typeof patch.patch === 'string' ? patch.patch : null;
  if (text === null) throw new RenderError(`${root}: a patch needs path or patch`);
  const documents = parseYamlDocuments(text, source);
  const target = isObject(patch.target) ? patch.target : null;
  if (documents.length === 1 && Array.isArray(documents[0])) {
    if (!target) throw new RenderError(`${source}: a JSON 6902 patch needs a target`);
    const matched = objects.filter((o) => matchesTarget(o, target));
    if (matched.length === 0) throw new RenderError(`${source}: its target matches no object`);
    for (const object of matched) applyJson6902(object, documents[0] as Json[], source);
    return objects;
  }
  for (const document of documents) {
    const patchObject = asObjects([document], source)[0]!;
    const matched = objects.filter(
      (o) => (target ? matchesTarget(o, target) : true) && o.kind === patchObject.kind && o.metadata.name === patchObject.metadata.name,
    );
    if (matched.length === 0) throw new RenderError(`${source}: no ${patchObject.kind} named ${patchObject.metadata.name} to patch`);
    for (const object of matched) Object.assign(object, strategicMerge(object as unknown as JsonObject, patchObject as unknown as JsonObject));
  }
  return objects;
}

/**
 * Strategic merge as Kubernetes does it for the fields these manifests patch: mappings merge, a
 * list of mappings that all carry `name` merges by name (containers, env, volumes, ports), any
 * other list is replaced, `null` deletes.
 */
export function strategicMerge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(current)) out[key] = strategicMerge(current, value);
    else if (Array.isArray(value) && Array.isArray(current) && value.every((v) => isObject(v) && typeof v.name === 'string') && current.every((v) => isObject(v) && typeof v.name === 'string')) {
      const merged = current.map((item) => {
        const replacement = value.find((v) => (v as JsonObject).name === (item as JsonObject).name);
        return replacement ? strategicMerge(item as JsonObject, replacement as JsonObject) : item;
      });
      for (const item of value) if (!current.some((c) => (c as JsonObject).name === (item as JsonObject).name)) merged.push(item);
      out[key] = merged;
    } else out[key] = structuredClone(value);
  }
  return out;
}

/** RFC 6902 add, replace and remove on JSON pointer paths (`-` appends to a list). */
export function applyJson6902(object: K8sObject, operations: Json[], source = 'patch'): void {
  for (const operation of operations) {
    if (!isObject(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') throw new RenderError(`${source}: each operation needs op and path`);
    if (!['add', 'replace', 'remove'].includes(operation.op)) throw new RenderError(`${source}: op ${operation.op} not supported (add, replace, remove)`);
    const segments = operation.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = segments.pop();
    if (last === undefined) throw new RenderError(`${source}: empty path`);
    let parent: Json = object as unknown as Json;
    for (const segment of segments) {
      const next: Json | undefined = Array.isArray(parent) ? parent[Number(segment)] : isObject(parent) ? parent[segment] : undefined;
      if (next === undefined || next === null || typeof next !== 'object') throw new RenderError(`${source}: ${object.kind} ${object.metadata.name} has no ${operation.path}`);
      parent = next;
    }
    const exists = Array.isArray(parent) ? last === '-' || Number(last) < parent.length : isObject(parent) && last in parent;
    if (operation.op !== 'add' && !exists) throw new RenderError(`${source}: ${object.kind} ${object.metadata.name} has no ${operation.path} to ${operation.op}`);
    const value = structuredClone(operation.value ?? null);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (operation.op === 'remove') parent.splice(index, 1);
      else if (operation.op === 'add') parent.splice(index, 0, value);
      else parent[index] = value;
    } else if (isObject(parent)) {
      if (operation.op === 'remove') delete parent[last];
      else parent[last] = value;
    }
  }
}

function podSpecOf(object: K8sObject): JsonObject | null {
  const spec = object.spec as JsonObject | undefined;
  const template = isObject(spec?.template) ? spec.template : null;
  return template && isObject(template.spec) ? template.spec : null;
}

function setImages(object: K8sObject, entry: Json, root: string): void {
  if (!isObject(entry) || typeof entry.name !== 'string') throw new RenderError(`${root}: images need a name`);
  const pod = podSpecOf(object);
  if (!pod) return;
  for (const container of [...list(pod.containers, 'containers'), ...list(pod.initContainers, 'initContainers')]) {
    if (!isObject(container) || typeof container.image !== 'string') continue;
    const [name] = container.image.split('@')[0]!.split(/:(?=[^/]*$)/);
    if (name !== entry.name) continue;
    const newName = typeof entry.newName === 'string' ? entry.newName : name;
    if (typeof entry.digest === 'string') container.image = `${newName}@${entry.digest}`;
    else if (typeof entry.newTag === 'string') container.image = `${newName}:${entry.newTag}`;
    else container.image = newName;
  }
}

function addLabels(object: K8sObject, entry: Json, root: string): void {
  if (!isObject(entry) || !isObject(entry.pairs)) throw new RenderError(`${root}: labels need pairs`);
  if (entry.includeSelectors === true) throw new RenderError(`${root}: labels with includeSelectors are not supported (selectors are immutable: keep them out)`);
  const pairs = Object.fromEntries(Object.entries(entry.pairs).map(([k, v]) => [k, String(v)]));
  object.metadata.labels = { ...object.metadata.labels, ...pairs };
  if (entry.includeTemplates === true && WITH_POD_TEMPLATE.has(object.kind)) {
    const template = (object.spec as JsonObject).template as JsonObject;
    const metadata = (isObject(template.metadata) ? template.metadata : (template.metadata = {})) as JsonObject;
    metadata.labels = { ...(isObject(metadata.labels) ? metadata.labels : {}), ...pairs };
  }
}
