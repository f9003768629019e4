// Parley's TypeScript client: the code generated from proto/ (messages,
// enums and service descriptors, under ./gen) and a thin layer over Connect's
// clients: the bearer token, request ids on mutations, a resuming watch,
// paging helpers (the whole document, point by number, every amendment or
// event), error helpers, and signed consent (consent.ts: the statement and
// Ed25519; consentlog.ts: checking a log; signing.ts: a signing session).

export * from "./gen/parley/v1/negotiation_pb.js";
export * from "./gen/parley/v1/event_pb.js";
export * from "./gen/parley/v1/negotiation_service_pb.js";
export * from "./gen/parley/v1/admin_service_pb.js";
export * from "./gen/parley/v1/audit_service_pb.js";
export { ErrorInfoSchema, type ErrorInfo } from "./gen/google/rpc/error_details_pb.js";

export {
  createParleyClient,
  bearerToken,
  requestIds,
  newRequestId,
  baseUrlOf,
  type ParleyClient,
  type ParleyClientOptions,
} from "./client.js";
export { watchEvents, WatchOrderError, RESUMABLE_CODES, WATCH_TOO_SLOW, type WatchOptions } from "./watch.js";
export {
  readDocument,
  ParleyDocument,
  documentText,
  listNegotiations,
  listAmendments,
  listComments,
  listEvents,
  collect,
  DOCUMENT_READS,
  type PageOptions,
  type AmendmentFilter,
  type CommentFilter,
} from "./paging.js";
export {
  parleyError,
  errorReason,
  isParleyError,
  codeName,
  ERROR_DOMAIN,
  type ParleyErrorInfo,
} from "./errors.js";
export { Code, ConnectError } from "@connectrpc/connect";
export {
  CONSENT_PAYLOAD_TYPE,
  ConsentSigner,
  ConsentEncodingError,
  consentBody,
  consentMessage,
  amendmentDigest,
  pae,
  keyIdOf,
  sha256Hex,
  toHex,
  fromHex,
  verifyConsent,
  verifyEd25519,
  trimReason,
  type ConsentStatement,
  type ConsentSubject,
  type ConsentCheckpoint,
  type VoteStatement,
  type SignOffStatement,
  type AcceptanceStatement,
  type KeyRegistrationStatement,
  type KeyRevocationStatement,
  type AmendmentPart,
  type WebCryptoKey,
  type WebCryptoKeyPair,
} from "./consent.js";
export {
  verifyConsents,
  assertConsents,
  ConsentVerifier,
  ConsentLogError,
  MerkleRange,
  memberKey,
  type ConsentOptions,
  type ConsentReport,
  type ConsentCheck,
  type ConsentFailure,
  type ConsentFailureReason,
  type LoggedEvent,
  type EventLike,
} from "./consentlog.js";
export { ConsentSession, verifyLogConsents, assertLogConsents, loggedEvent } from "./signing.js";
