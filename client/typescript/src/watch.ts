// A watch that survives disconnects: WatchEvents sends every event after a
// sequence number and then follows new ones; after a broken stream this
// iterator calls it again with the last sequence it yielded, so the caller
// sees every event once, in order, without gaps. A stream the server cut off
// because this client read too slowly (RESOURCE_EXHAUSTED, WATCH_TOO_SLOW) is
// reopened at once.

import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { NegotiationService, EventRecord } from "./gen/parley/v1/negotiation_service_pb.js";
import { errorReason } from "./errors.js";

/**
 * The reason, with RESOURCE_EXHAUSTED, of a server that cut off a watch
 * stream its client read too slowly: the watch resumes at once from the last
 * event it yielded.
 */
export const WATCH_TOO_SLOW = "WATCH_TOO_SLOW";

/** Options of watchEvents. */
export interface WatchOptions {
  /** Start after this sequence number; 0 (the default) for the whole log. */
  afterSequence?: bigint | number;
  /** Stops the watch: the iteration then ends without an error. */
  signal?: AbortSignal;
  /** First pause before reconnecting, in ms (default 100); it doubles. */
  initialBackoffMs?: number;
  /** Longest pause before reconnecting, in ms (default 5000). */
  maxBackoffMs?: number;
  /**
   * Reconnections in a row without receiving an event before giving up and
   * throwing the last error (default: no limit).
   */
  maxRetries?: number;
  /**
   * Called before each reconnection, with the error that broke the stream;
   * attempt is 0 when the server cut off a slow reader and the watch resumes
   * at once.
   */
  onReconnect?: (error: ConnectError, afterSequence: bigint, attempt: number) => void;
}

/**
 * Codes after which the watch reconnects. The others (INVALID_ARGUMENT,
 * NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED…) would fail again the same
 * way and are thrown to the caller. CANCELED is here because a connection
 * that breaks (the server crashed, a proxy reset it) surfaces as an HTTP/2
 * stream reset with CANCEL; the watch's own cancellation is told apart by its
 * signal.
 */
export const RESUMABLE_CODES: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.Canceled,
  Code.Unknown,
  Code.Internal,
  Code.Aborted,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
]);

/** The watch received an event out of order: the server broke its promise. */
export class WatchOrderError extends Error {
  constructor(
    readonly expected: bigint,
    readonly got: bigint,
  ) {
    super(`watch: expected event ${expected}, got ${got}`);
    this.name = "WatchOrderError";
  }
}

/**
 * Yields the events of a negotiation's log after `afterSequence`, then new
 * ones as they are committed, until the signal aborts or the caller stops
 * iterating. A broken stream is reopened after the last sequence yielded.
 *
 *     for await (const rec of watchEvents(parley.negotiation, name)) {
 *       console.log(rec.sequence, rec.event?.payload.case);
 *     }
 */
export async function* watchEvents(
  client: Client<typeof NegotiationService>,
  negotiation: string,
  options: WatchOptions = {},
): AsyncGenerator<EventRecord, void, undefined> {
  const initialBackoff = options.initialBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  const maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
  let last = BigInt(options.afterSequence ?? 0);
  let failures = 0;
  // One controller per watch: it ends the open stream when the caller aborts
  // or leaves the loop early (the generator's finally block).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) return;
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      try {
        const stream = client.watchEvents(
          { negotiation, afterSequence: last },
          { signal: stop.signal, timeoutMs: 0 },
        );
        for await (const res of stream) {
          const rec = res.event;
          if (rec === undefined) continue;
          if (rec.sequence !== last + 1n) throw new WatchOrderError(last + 1n, rec.sequence);
          last = rec.sequence;
          failures = 0;
          yield rec;
        }
        // The server never ends a watch on its own accord except when it
        // shuts down; treat a clean end like a disconnect.
        throw new ConnectError("the watch stream ended", Code.Unavailable);
      } catch (err) {
        if (stop.signal.aborted) return;
        if (err instanceof WatchOrderError) throw err;
        const ce = ConnectError.from(err);
        // Cut off after events this watch took: resume at once, as the
        // server asks; a slow reader is not a failure.
        if (failures === 0 && ce.code === Code.ResourceExhausted && errorReason(ce) === WATCH_TOO_SLOW) {
          failures = 1; // a second cut-off before any event waits
          options.onReconnect?.(ce, last, 0);
          continue;
        }
        if (!RESUMABLE_CODES.has(ce.code) || failures >= maxRetries) throw ce;
        failures++;
        options.onReconnect?.(ce, last, failures);
        const pause = Math.min(maxBackoff, initialBackoff * 2 ** (failures - 1));
        try {
          await sleep(pause * (0.5 + Math.random() / 2), undefined, { signal: stop.signal });
        } catch {
          return; // aborted while waiting
        }
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
  }
}
