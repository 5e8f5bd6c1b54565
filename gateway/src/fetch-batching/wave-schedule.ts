import type { FetchNode, FlattenNode, PlanNode, QueryPlan } from '@apollo/query-planner';

/** A fetch of the plan as it runs: at the root, or under a Flatten at a response path. */
type Unit = FetchNode | (FlattenNode & { node: FetchNode });

/** What a person (and `npm run explain`) reads of a scheduled plan: per wave, the fetches to each subgraph. */
export interface WaveSummary {
  /** Plan fetches before scheduling (Apollo's count of subgraph requests). */
  planFetches: number;
  /** Per wave, in order: subgraph → how many of the plan's fetches it gets in that wave (one request each, batched). */
  waves: Array<Record<string, number>>;
}

const summaries = new WeakMap<QueryPlan, WaveSummary>();

/** The waves of a plan this module scheduled; undefined for a plan it left as Apollo made it. */
export function waveSummaryOf(plan: QueryPlan): WaveSummary | undefined {
  return summaries.get(plan);
}

/**
 * Reshapes a query's plan into waves: a Sequence of Parallel steps, each fetch in the earliest
 * step its dependencies allow, then fetches nothing waits on moved to a later step that already
 * calls the same subgraph, so one step makes one request per subgraph once the data source
 * batches them (request-batcher.ts). Dependencies are Apollo's own: a node after another in a
 * Sequence depends on it (what @requires and entity paths need), nodes of a Parallel do not; a
 * fetch is never moved before anything it depends on nor after anything depending on it.
 *
 * Plans it cannot reason about stay Apollo's: mutations (their fields run in order, never merged
 * or moved), subscriptions, @defer, @skip/@include conditions, and a Flatten around anything but
 * a fetch. The result is the same plan object shape Apollo's executor runs, built once per plan.
 */
export function scheduleInWaves(plan: QueryPlan): QueryPlan {
  const root = plan.node;
  if (!root || root.kind === 'Subscription') return plan;

  const units: Unit[] = [];
  const dependsOn: Array<Set<number>> = [];
  // Returns the units that complete `node`: what a node after it in a Sequence waits for.
  const visit = (node: PlanNode, before: ReadonlySet<number>): Set<number> | null => {
    switch (node.kind) {
      case 'Fetch':
      case 'Flatten': {
        if (node.kind === 'Flatten' && node.node.kind !== 'Fetch') return null;
        const fetch = node.kind === 'Fetch' ? node : (node.node as FetchNode);
        if (fetch.operationKind !== 'query' || fetch.hasDefers) return null;
        units.push(node as Unit);
        dependsOn.push(new Set(before));
        return new Set([units.length - 1]);
      }
      case 'Sequence': {
        let tails: Set<number> | null = new Set(before);
        for (const child of node.nodes) {
          tails = visit(child, tails);
          if (!tails) return null;
        }
        return tails;
      }
      case 'Parallel': {
        const tails = new Set<number>();
        for (const child of node.nodes) {
          const childTails = visit(child, before);
          if (!childTails) return null;
          for (const tail of childTails) tails.add(tail);
        }
        return tails;
      }
      default:
        return null;
    }
  };
  if (!visit(root, new Set()) || units.length < 2) return plan;

  // Earliest wave: one after the latest of its dependencies (units are visited in dependency order).
  const wave = units.map(() => 0);
  units.forEach((_, i) => {
    for (const d of dependsOn[i]!) wave[i] = Math.max(wave[i]!, wave[d]! + 1);
  });
  const lastWave = Math.max(...wave);
  const dependents = units.map(() => [] as number[]);
  dependsOn.forEach((deps, i) => deps.forEach((d) => dependents[d]!.push(i)));
  // Latest wave each unit may run in without delaying what depends on it (at their earliest waves).
  const latest = units.map((_, i) => (dependents[i]!.length ? Math.min(...dependents[i]!.map((d) => wave[d]!)) - 1 : lastWave));

  const subgraphOf = (i: number) => fetchOf(units[i]!).serviceName;
  // A unit that can run in one wave only fixes a request to its subgraph there; the others join one.
  const fixed = new Map<string, Set<number>>();
  units.forEach((_, i) => {
    if (latest[i] !== wave[i]) return;
    const waves = fixed.get(subgraphOf(i)) ?? new Set<number>();
    waves.add(wave[i]!);
    fixed.set(subgraphOf(i), waves);
  });
  const movable = units.map((_, i) => i).filter((i) => latest[i]! > wave[i]!);
  const unplaced: number[] = [];
  for (const i of movable) {
    const waves = fixed.get(subgraphOf(i));
    let target: number | undefined;
    for (let w = wave[i]!; w <= latest[i]! && target === undefined; w++) if (waves?.has(w)) target = w;
    if (target === undefined) unplaced.push(i);
    else wave[i] = target;
  }
  // The rest, per subgraph: as few waves as their ranges allow (interval stabbing: each group at the
  // earliest end among the ranges still open).
  const bySubgraph = new Map<string, number[]>();
  for (const i of unplaced) bySubgraph.set(subgraphOf(i), [...(bySubgraph.get(subgraphOf(i)) ?? []), i]);
  for (const group of bySubgraph.values()) {
    group.sort((a, b) => latest[a]! - latest[b]! || wave[a]! - wave[b]!);
    let point = -1;
    const atPoint: number[] = [];
    for (const i of group) {
      if (wave[i]! > point) point = latest[i]!;
      atPoint[i] = point;
    }
    // A fetch alone at its point has no request to share there: moving it would only delay it.
    for (const i of group) if (group.filter((j) => atPoint[j] === atPoint[i]).length > 1) wave[i] = atPoint[i]!;
  }

  const steps: PlanNode[] = [];
  const waves: Array<Record<string, number>> = [];
  for (let w = 0; w <= lastWave; w++) {
    const members = units.filter((_, i) => wave[i] === w);
    if (members.length === 0) continue;
    steps.push(members.length === 1 ? members[0]! : { kind: 'Parallel', nodes: members });
    const counts: Record<string, number> = {};
    for (const unit of members) counts[fetchOf(unit).serviceName] = (counts[fetchOf(unit).serviceName] ?? 0) + 1;
    waves.push(counts);
  }
  const scheduled: QueryPlan = { ...plan, node: steps.length === 1 ? steps[0]! : { kind: 'Sequence', nodes: steps } };
  summaries.set(scheduled, { planFetches: units.length, waves });
  return scheduled;
}

const fetchOf = (unit: Unit): FetchNode => (unit.kind === 'Fetch' ? unit : unit.node);
