// Errors: every Parley error is a gRPC status with a google.rpc.ErrorInfo
// detail whose `reason` is stable (domain "parley.v1"). These helpers read
// the code and the reason from whatever a call threw.

import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** The domain of every ErrorInfo Parley returns. */
export const ERROR_DOMAIN = "parley.v1";

/** What a failed call tells: its gRPC code, Parley's reason and the message. */
export interface ParleyErrorInfo {
  /** The gRPC status code, e.g. Code.FailedPrecondition. */
  code: Code;
  /** The code's gRPC name, e.g. "FAILED_PRECONDITION". */
  codeName: string;
  /** The stable reason, e.g. "VOTING_CLOSED"; "" when the error carries none. */
  reason: string;
  /** The ErrorInfo's domain; "parley.v1" for Parley's own errors. */
  domain: string;
  /** The server's message, without the code in front. */
  message: string;
  /**
   * The details the server gave with the reason (the ErrorInfo's metadata),
   * e.g. a REBASE_CONFLICT's `conflicts`, `currentRevision` and
   * `conflict1Words`, `conflict1Base`, `conflict1Yours`, `conflict1Theirs`;
   * empty when none.
   */
  metadata: Record<string, string>;
  /** The error as a ConnectError. */
  cause: ConnectError;
}

/** The gRPC name of a code, e.g. "FAILED_PRECONDITION" for Code.FailedPrecondition. */
export function codeName(code: Code): string {
  const name = Code[code];
  if (name === undefined) return `CODE_${code}`;
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * Reads the code, reason and message of an error thrown by a call. Any value
 * works: what is not a ConnectError is reported as UNKNOWN without a reason.
 */
export function parleyError(err: unknown): ParleyErrorInfo {
  const ce = ConnectError.from(err);
  const info = ce.findDetails(ErrorInfoSchema)[0];
  return {
    code: ce.code,
    codeName: codeName(ce.code),
    reason: info?.reason ?? "",
    domain: info?.domain ?? "",
    message: ce.rawMessage,
    metadata: { ...(info?.metadata ?? {}) },
    cause: ce,
  };
}

/** The stable reason of an error (e.g. "VOTING_CLOSED"), or "" if it has none. */
export function errorReason(err: unknown): string {
  return parleyError(err).reason;
}

/**
 * Whether an error has the given code and, if given, reason:
 * `isParleyError(err, Code.FailedPrecondition, "VOTING_CLOSED")`.
 */
export function isParleyError(err: unknown, code: Code, reason?: string): boolean {
  const e = parleyError(err);
  return e.code === code && (reason === undefined || e.reason === reason);
}
