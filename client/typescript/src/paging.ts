// Whole collections, as the Go client reads them: the document across all
// its pages (one version of it, its hash checked), and negotiations,
// amendments and events page after page, so that a caller never handles a
// page token.

import { createHash } from "node:crypto";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import type { NegotiationService, EventRecord } from "./gen/parley/v1/negotiation_service_pb.js";
import type { Amendment, AmendmentState, Comment, Negotiation, Point } from "./gen/parley/v1/negotiation_pb.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { ERROR_DOMAIN, errorReason } from "./errors.js";
import { WatchOrderError } from "./watch.js";

/** How often readDocument starts again when the document changes under it. */
export const DOCUMENT_READS = 4;

/** Options of the paging helpers: the page size, and Connect's call options for every page. */
export interface PageOptions extends CallOptions {
  /** Items a page; 0 (the default) takes the helper's own size. */
  pageSize?: number;
}

/** The consolidated text of points: for each, its number, ". ", its text and "\n". */
export function documentText(points: readonly Point[]): string {
  return points.map((p) => `${p.number}. ${p.text}\n`).join("");
}

/**
 * The document as one read saw it: every point in order, the negotiation,
 * and the SHA-256 that AcceptDocument takes.
 */
export class ParleyDocument {
  constructor(
    /** The negotiation, with its state and counts, as of the first page. */
    readonly negotiation: Negotiation | undefined,
    /** Every point, in document order, numbered 1, 2, 3… */
    readonly points: readonly Point[],
    /** Lowercase hex SHA-256 of text(): the hash to accept. */
    readonly sha256: string,
  ) {}

  /** The consolidated text, whose SHA-256 is `sha256`. */
  text(): string {
    return documentText(this.points);
  }

  /** The point with a display number (1-based), or undefined. */
  pointByNumber(n: number | bigint): Point | undefined {
    const i = Number(n);
    return Number.isInteger(i) && i >= 1 && i <= this.points.length ? this.points[i - 1] : undefined;
  }

  /** The point with a resource name, or undefined. */
  pointByName(name: string): Point | undefined {
    return this.points.find((p) => p.name === name);
  }

  /**
   * Checks that the points are numbered 1, 2, 3… and that their text hashes
   * to `sha256`, so that accepting `sha256` accepts the text read. Throws a
   * ConnectError DATA_LOSS with reason DOCUMENT_HASH otherwise.
   */
  verify(): void {
    this.points.forEach((p, i) => {
      if (p.number !== i + 1) throw documentHashError(`the document's point ${i + 1} carries the number ${p.number}`);
    });
    const got = createHash("sha256").update(this.text(), "utf8").digest("hex");
    if (got !== this.sha256) {
      throw documentHashError(`the document's text hashes to ${got}, not to the ${this.sha256} the server sent with it`);
    }
  }
}

function documentHashError(message: string): ConnectError {
  return new ConnectError(message, Code.DataLoss, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "DOCUMENT_HASH", domain: ERROR_DOMAIN } },
  ]);
}

/**
 * Reads a negotiation's whole document, page after page, and checks its hash.
 * If the document changes between two pages (the server refuses the next
 * page with ABORTED / DOCUMENT_CHANGED), it reads again from the start, up to
 * DOCUMENT_READS times, so the points are always one version of the document.
 *
 *     const doc = await readDocument(parley.negotiation, name);
 *     const p = doc.pointByNumber(6);
 */
export async function readDocument(
  client: Client<typeof NegotiationService>,
  negotiation: string,
  options: PageOptions = {},
): Promise<ParleyDocument> {
  const { pageSize = 0, ...call } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      let first: { negotiation: Negotiation | undefined; sha256: string } | undefined;
      const points: Point[] = [];
      let pageToken = "";
      do {
        const res = await client.getDocument({ negotiation, pageSize, pageToken }, call);
        first ??= { negotiation: res.negotiation, sha256: res.documentSha256 };
        points.push(...res.points);
        pageToken = res.nextPageToken;
      } while (pageToken !== "");
      const doc = new ParleyDocument(first.negotiation, points, first.sha256);
      doc.verify();
      return doc;
    } catch (err) {
      if (attempt < DOCUMENT_READS && errorReason(err) === "DOCUMENT_CHANGED") continue;
      throw err;
    }
  }
}

/** Every negotiation the caller may read, page after page (500 a page). */
export async function* listNegotiations(
  client: Client<typeof NegotiationService>,
  options: PageOptions = {},
): AsyncGenerator<Negotiation, void, undefined> {
  const { pageSize = 500, ...call } = options;
  let pageToken = "";
  do {
    const res = await client.listNegotiations({ pageSize, pageToken }, call);
    yield* res.negotiations;
    pageToken = res.nextPageToken;
  } while (pageToken !== "");
}

/** Filters of listAmendments: all of them when empty. */
export interface AmendmentFilter {
  /** The negotiation's resource name. */
  negotiation: string;
  /** Only amendments of this point (resource name, e.g. from pointByNumber). */
  point?: string;
  /** Only amendments in one of these states. */
  states?: AmendmentState[];
}

/** The amendments that match a filter, in the order they were proposed, page after page (1000 a page). */
export async function* listAmendments(
  client: Client<typeof NegotiationService>,
  filter: AmendmentFilter,
  options: PageOptions = {},
): AsyncGenerator<Amendment, void, undefined> {
  const { pageSize = 1000, ...call } = options;
  const { negotiation, point = "", states = [] } = filter;
  let pageToken = "";
  do {
    const res = await client.listAmendments({ negotiation, point, states, pageSize, pageToken }, call);
    yield* res.amendments;
    pageToken = res.nextPageToken;
  } while (pageToken !== "");
}

/** Which comments listComments reads: a negotiation's, or only those of one point or one amendment. */
export interface CommentFilter {
  /** The negotiation's resource name. */
  negotiation: string;
  /** Only the discussion of this point (resource name), replies included. */
  point?: string;
  /** Only the discussion of this amendment (resource name), replies included. */
  amendment?: string;
}

/** The comments that match a filter, in the order they were posted, page after page (1000 a page). */
export async function* listComments(
  client: Client<typeof NegotiationService>,
  filter: CommentFilter,
  options: PageOptions = {},
): AsyncGenerator<Comment, void, undefined> {
  const { pageSize = 1000, ...call } = options;
  const { negotiation, point = "", amendment = "" } = filter;
  let pageToken = "";
  do {
    const res = await client.listComments({ negotiation, point, amendment, pageSize, pageToken }, call);
    yield* res.comments;
    pageToken = res.nextPageToken;
  } while (pageToken !== "");
}

/**
 * The events of a negotiation's log after `afterSequence` (0 for all), page
 * after page (1000 a page), up to the end of the log as it is when the last
 * page is read; watchEvents follows it further. Each page starts after the
 * last event yielded, and each event must be the next sequence: otherwise it
 * throws WatchOrderError.
 */
export async function* listEvents(
  client: Client<typeof NegotiationService>,
  negotiation: string,
  options: PageOptions & { afterSequence?: bigint | number } = {},
): AsyncGenerator<EventRecord, void, undefined> {
  const { pageSize = 1000, afterSequence = 0, ...call } = options;
  let last = BigInt(afterSequence);
  for (;;) {
    const res = await client.listEvents({ negotiation, afterSequence: last, pageSize }, call);
    for (const rec of res.events) {
      if (rec.sequence !== last + 1n) throw new WatchOrderError(last + 1n, rec.sequence);
      last = rec.sequence;
      yield rec;
    }
    if (res.nextPageToken === "" || res.events.length === 0) return;
  }
}

/** Collects an async iterable into an array: `await collect(listAmendments(…))`. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
