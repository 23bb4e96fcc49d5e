import { AppError } from '../../errors.js';
import {
  advanceSegmentBuild,
  findCustomerIdsAfter,
  findCustomerListForUpdate,
  findUnleasedSegmentBuilds,
  leaseSegmentBuild,
  releaseSegmentBuilds,
} from '../../store/repositories/customer-list-repository.js';
import type { Store } from '../../store/store.js';
import { newId } from '../ids.js';
import { writeInOrganization } from '../organization-write.js';
import { storedSegmentRule } from './segment-filter.js';
import { applySegmentRules, reevaluateSegments } from './segment-membership.js';

export interface SegmentBuilderOptions {
  /** Customers a build evaluates per transaction: each batch holds the organization's write lock that long. */
  batchSize: number;
  /** How long a process's claim on a build lasts without renewal; another process takes over after it. */
  leaseMs: number;
  /** How often the builder looks for builds nobody holds (after a restart or another process's crash). */
  pollIntervalMs: number;
  /** Where errors of builds go; `start` may set it later (the app's log). */
  onError?: (error: unknown) => void;
}

/**
 * Fills segments in the background: a build walks the organization's customers by id in batches, one short
 * transaction each (customer writes interleave between batches), storing its cursor on the list so it resumes after
 * a restart. A lease on the list row lets one process at a time build a segment. Writes during a build stay exact:
 * each write re-evaluates every segment (built or not) for its customers, and the build evaluates each customer
 * again under the same organization lock, so the last evaluation of a customer always sees its committed state.
 */
export function createSegmentBuilder(store: Store, options: SegmentBuilderOptions) {
  const owner = newId();
  const running = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Apps sharing these services (tests build several) start and stop the builder each; the last stop stops it.
  let starts = 0;
  let report = options.onError ?? (() => {});

  async function buildBatch(organizationId: string, listId: string): Promise<boolean> {
    return writeInOrganization(store, organizationId, async (trx, now) => {
      const list = await findCustomerListForUpdate(trx, organizationId, listId);
      if (!list || list.segment_status !== 'building' || list.build_owner !== owner || list.filter === null) {
        return false;
      }
      const after = list.build_after ?? '';
      const ids = await findCustomerIdsAfter(trx, organizationId, after, options.batchSize);
      const through = ids.at(-1);
      if (through !== undefined) {
        const segment = { row: list, rule: { listId, ...storedSegmentRule(list.filter) } };
        const changed = await applySegmentRules(trx, store, organizationId, [segment], { after, through }, now);
        // Segments naming this one (listId) follow the customers whose membership just changed.
        await reevaluateSegments(trx, store, organizationId, [...changed], now);
      }
      const done = ids.length < options.batchSize;
      await advanceSegmentBuild(trx, organizationId, listId, done ? undefined : through);
      if (!done) await leaseSegmentBuild(trx, organizationId, listId, owner, now, now + options.leaseMs);
      return !done;
    });
  }

  async function build(organizationId: string, listId: string): Promise<void> {
    if (stopped) return;
    const now = Date.now();
    if (!(await leaseSegmentBuild(store.db, organizationId, listId, owner, now, now + options.leaseMs))) return;
    while (!stopped) {
      try {
        if (!(await buildBatch(organizationId, listId))) return;
      } catch (error) {
        // The organization (and so the segment) is gone.
        if (error instanceof AppError && error.code === 'not_found') return;
        throw error;
      }
      // Lets waiting writes of the organization in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  function kick(organizationId: string, listId: string): Promise<void> {
    const key = `${organizationId} ${listId}`;
    const current = running.get(key);
    if (current) return current;
    const started = build(organizationId, listId)
      .catch((error: unknown) => report(error))
      .finally(() => running.delete(key));
    running.set(key, started);
    return started;
  }

  async function takeOverUnleased(): Promise<void> {
    for (const build of await findUnleasedSegmentBuilds(store.db, Date.now())) {
      if (stopped) return;
      void kick(build.organization_id, build.id);
    }
  }

  return {
    /** Starts (or joins) the build of a segment in this process; resolves when this process stops building it. */
    build: kick,
    /** Builds left unfinished (a restart, another process gone): taken over now and then every poll interval. */
    start(onError?: (error: unknown) => void): void {
      if (onError) report = onError;
      stopped = false;
      if (starts++ > 0) return;
      const poll = () => {
        takeOverUnleased()
          .catch((error: unknown) => report(error))
          .finally(() => {
            if (!stopped) timer = setTimeout(poll, options.pollIntervalMs).unref();
          });
      };
      poll();
    },
    /** Waits for every build this process runs to stop (or finish). */
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.all(running.values());
    },
    /** Stops after the current batches and gives up this process's leases, so another process resumes at once. */
    async stop(): Promise<void> {
      if (starts > 0 && --starts > 0) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled(running.values());
      await releaseSegmentBuilds(store.db, owner).catch((error: unknown) => report(error));
    },
  };
}
export type SegmentBuilder = ReturnType<typeof createSegmentBuilder>;
