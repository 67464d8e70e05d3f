/**
 * Pairing: two devices confirm, with a person comparing a 6-digit code on both screens, that the
 * certificate each one sees in its TLS session is the other device's, not a machine in the middle's.
 *
 * A code derived from the TLS session alone can be ground: a machine in the middle (M) controls its
 * own certificates on both sides and can try keys offline until the two codes agree. So the code
 * here mixes in one random nonce from each side, exchanged with a commitment (the construction of
 * Bluetooth numeric comparison and ZRTP), so that M must fix each of its nonces before it learns the
 * honest nonce it would have to match:
 *
 * ```text
 * initiator I                                     responder R
 *   nI = 32 random bytes
 *   pair-commit  { commitment: hex(SHA-256("ferry-pair-commit-v1" || fpI || fpR || nI)) }  ->
 *                                       <-  pair-nonce  { nonce: hex(nR) }   (nR picked only now)
 *   pair-reveal  { nonce: hex(nI) }  ->      R checks nI against the commitment
 *   both: code = SHA-256("ferry-pair-sas-v1" || fpI || fpR || nI || nR), first 4 bytes as a
 *         big-endian uint32, mod 1,000,000, zero-padded to 6 digits
 *                                       <-  pair-result { accepted }   (R's user decides)
 * ```
 *
 * fpI and fpR are the SHA-256 fingerprints (32 bytes) of the initiator's and responder's TLS
 * certificates AS EACH SIDE SEES THEM in its own session: with a machine in the middle they differ,
 * which is why the codes then differ (with odds of 1 in 1,000,000 of an accidental match).
 *
 * One addition to that exchange: the initiator may send `pair-result {accepted: false}` at any
 * time after its commit to cancel (its user pressed Cancel, or it timed out), so the responder's
 * screen need not wait for the connection to close. Only the responder can send `accepted: true`.
 *
 * Both classes are transport-agnostic: the caller passes `send` and feeds every pairing message
 * that arrives to `onMessage`. `onMessage` throws a FerryError when the peer breaks the protocol
 * (the caller then fails the connection, as session handlers do); the pairing has then failed and
 * `result` rejects with the same error. Recording the peer as trusted is the caller's job, when
 * `result` resolves `'accepted'`. See docs/security.md for the threat model and the argument.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type ErrorCode, FerryError } from '../../shared/errors.js';

/** Domain-separation prefixes: a commitment can never be mistaken for a code, or for v2's. */
export const PAIR_COMMIT_DOMAIN = 'ferry-pair-commit-v1';
export const PAIR_SAS_DOMAIN = 'ferry-pair-sas-v1';
/** SHA-256 of a DER certificate. */
export const FINGERPRINT_BYTES = 32;
/** 256-bit nonces: unguessable, so a commitment hides its nonce and M cannot precompute. */
export const PAIR_NONCE_BYTES = 32;
/** 6 digits: one blind try by M succeeds with odds of 1 in 10^6 (docs/security.md). */
export const PAIR_CODE_DIGITS = 6;
/**
 * How long the responder waits for its user before declining: long enough to walk to the other
 * screen and compare, short enough that a forgotten prompt does not stay open.
 */
export const PAIRING_TIMEOUT_MS = 2 * 60_000;
/**
 * The initiator waits this much longer than the responder by default, so that the responder's
 * decision (or its own timeout, which declines) normally reaches the initiator before the
 * initiator gives up: both sides then agree on the outcome.
 */
export const PAIRING_TIMEOUT_GRACE_MS = 15_000;

/**
 * The code a reveal that does not match its commitment fails with. It is evidence of an attack (or
 * a broken peer), not a malformed message; shared/errors.ts has no pairing code yet, so it is
 * FERRY_ERR_PROTOCOL until a FERRY_ERR_PAIRING exists, and tests import this constant.
 */
export const PAIRING_MISMATCH_CODE: ErrorCode = 'FERRY_ERR_PAIRING';

export type PairMessage =
  | { t: 'pair-commit'; commitment: string }
  | { t: 'pair-nonce'; nonce: string }
  | { t: 'pair-reveal'; nonce: string }
  | { t: 'pair-result'; accepted: boolean };

export type PairMessageType = PairMessage['t'];
export const PAIR_MESSAGE_TYPES: readonly PairMessageType[] = [
  'pair-commit',
  'pair-nonce',
  'pair-reveal',
  'pair-result',
];

/** How a pairing ended when it ended normally; every other end (cancel, timeout of the initiator, protocol error) rejects. */
export type PairingOutcome = 'accepted' | 'declined';

export type PairingState =
  | 'ready' // initiator: constructed, start() not called
  | 'await-nonce' // initiator: commit sent
  | 'await-result' // initiator: reveal sent, code shown, waiting for the responder's user
  | 'await-commit' // responder: waiting for the initiator's commit
  | 'await-reveal' // responder: nonce sent
  | 'await-decision' // responder: code shown, waiting for approve() or decline()
  | 'accepted'
  | 'declined'
  | 'failed';

const HEX64 = /^[0-9a-f]{64}$/;

function bad(what: string): never {
  throw new FerryError('FERRY_ERR_PROTOCOL', `Malformed pairing message: ${what}`);
}

/**
 * Check a pairing message from a peer: a `t` of one of the four types and its one field, hex in
 * lowercase with exactly 64 digits (32 bytes). Unknown fields are ignored, as in every Ferry
 * message. Returns it typed, or throws FERRY_ERR_PROTOCOL.
 */
export function validatePairMessage(m: unknown): PairMessage {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) bad('not an object');
  const o = m as Record<string, unknown>;
  switch (o.t) {
    case 'pair-commit':
      if (typeof o.commitment !== 'string' || !HEX64.test(o.commitment))
        bad('"commitment" must be 64 lowercase hex digits');
      break;
    case 'pair-nonce':
    case 'pair-reveal':
      if (typeof o.nonce !== 'string' || !HEX64.test(o.nonce)) bad('"nonce" must be 64 lowercase hex digits');
      break;
    case 'pair-result':
      if (typeof o.accepted !== 'boolean') bad('"accepted" must be true or false');
      break;
    default:
      bad(typeof o.t === 'string' ? `unknown type "${o.t.slice(0, 40)}"` : 'no type');
  }
  return o as unknown as PairMessage;
}

function sha256(...parts: (string | Buffer)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function checkBytes(b: Buffer, n: number, what: string): void {
  if (!Buffer.isBuffer(b) || b.length !== n) {
    throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `${what} must be ${n} bytes`);
  }
}

/**
 * The initiator's commitment: SHA-256("ferry-pair-commit-v1" || fpI || fpR || nI). Every field
 * after the prefix has a fixed length, so the concatenation is unambiguous. Binding both
 * fingerprints means a commitment relayed by a machine in the middle fails the responder's check.
 */
export function pairCommitment(fpI: Buffer, fpR: Buffer, nI: Buffer): Buffer {
  checkBytes(fpI, FINGERPRINT_BYTES, 'fpI');
  checkBytes(fpR, FINGERPRINT_BYTES, 'fpR');
  checkBytes(nI, PAIR_NONCE_BYTES, 'nI');
  return sha256(PAIR_COMMIT_DOMAIN, fpI, fpR, nI);
}

/**
 * The code both people compare: SHA-256("ferry-pair-sas-v1" || fpI || fpR || nI || nR), its first
 * 4 bytes as a big-endian uint32, mod 10^digits, zero-padded. (2^32 is not a multiple of 10^6, so
 * some codes are 1 in 4,295 more likely than others: negligible.) `digits` other than 6 exist for
 * tests that show attacks on a smaller code space; the last k digits of the 6-digit code are the
 * k-digit code.
 */
export function pairingCode(fpI: Buffer, fpR: Buffer, nI: Buffer, nR: Buffer, digits = PAIR_CODE_DIGITS): string {
  checkBytes(fpI, FINGERPRINT_BYTES, 'fpI');
  checkBytes(fpR, FINGERPRINT_BYTES, 'fpR');
  checkBytes(nI, PAIR_NONCE_BYTES, 'nI');
  checkBytes(nR, PAIR_NONCE_BYTES, 'nR');
  if (!Number.isInteger(digits) || digits < 1 || digits > 9) {
    throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'digits must be 1 to 9');
  }
  const n = sha256(PAIR_SAS_DOMAIN, fpI, fpR, nI, nR).readUInt32BE(0) % 10 ** digits;
  return String(n).padStart(digits, '0');
}

export interface PairingOptions {
  /** SHA-256 of this device's certificate, as sent in this TLS session. */
  localFingerprint: Buffer;
  /** SHA-256 of the certificate the peer presented in this TLS session. */
  peerFingerprint: Buffer;
  /** Sends one pairing message to the peer. If it throws, the pairing fails with that error. */
  send: (m: PairMessage) => void;
  /** Source of the nonce; node:crypto's randomBytes unless a test injects one. */
  random?: (n: number) => Buffer;
  /**
   * Responder: how long its user has to decide before the pairing is declined
   * (default {@link PAIRING_TIMEOUT_MS}, counted from construction). Initiator: how long it waits
   * for the whole exchange, from start(), before failing with FERRY_ERR_TIMEOUT (default
   * {@link PAIRING_TIMEOUT_MS} + {@link PAIRING_TIMEOUT_GRACE_MS}).
   */
  timeoutMs?: number;
}

function toFerryError(err: unknown): FerryError {
  return err instanceof FerryError ? err : new FerryError('FERRY_ERR_INTERNAL', String(err), { cause: err });
}

/** What the two roles share: the promises, the timer, and ending exactly once. */
abstract class PairingParty {
  /** The 6-digit code to show, once both nonces are known; rejects if the pairing ends first. */
  readonly code: Promise<string>;
  /** How the pairing ended; rejects with a FerryError on cancel, protocol error, or lost transport. */
  readonly result: Promise<PairingOutcome>;

  protected readonly local: Buffer;
  protected readonly peer: Buffer;
  protected readonly random: (n: number) => Buffer;
  protected st: PairingState;
  private readonly sendFn: (m: PairMessage) => void;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private codeKnown = false;
  private settleCode!: { resolve: (c: string) => void; reject: (e: FerryError) => void };
  private settleResult!: { resolve: (o: PairingOutcome) => void; reject: (e: FerryError) => void };

  protected constructor(opts: PairingOptions, initial: PairingState, defaultTimeoutMs: number) {
    checkBytes(opts.localFingerprint, FINGERPRINT_BYTES, 'localFingerprint');
    checkBytes(opts.peerFingerprint, FINGERPRINT_BYTES, 'peerFingerprint');
    this.local = Buffer.from(opts.localFingerprint);
    this.peer = Buffer.from(opts.peerFingerprint);
    this.sendFn = opts.send;
    this.random = opts.random ?? randomBytes;
    this.timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
    this.st = initial;
    this.code = new Promise((resolve, reject) => (this.settleCode = { resolve, reject }));
    this.result = new Promise((resolve, reject) => (this.settleResult = { resolve, reject }));
    // A caller that never looks at `code` (a pairing declined early) must not get an unhandled
    // rejection; awaiting either promise still sees the rejection.
    this.code.catch(() => {});
    this.result.catch(() => {});
  }

  get state(): PairingState {
    return this.st;
  }

  /** True once the pairing has accepted, declined or failed. */
  get ended(): boolean {
    return this.st === 'accepted' || this.st === 'declined' || this.st === 'failed';
  }

  /** The transport closed or failed, or the app is shutting down: end with `err`. No-op once ended. */
  abort(err: FerryError): void {
    if (!this.ended) this.fail(err);
  }

  /** Feed one pairing message from the peer. Throws FERRY_ERR_PROTOCOL (or a mismatch) if it breaks the protocol. */
  onMessage(raw: unknown): void {
    if (this.ended) {
      const t = typeof raw === 'object' && raw !== null ? String((raw as { t?: unknown }).t).slice(0, 40) : typeof raw;
      throw new FerryError('FERRY_ERR_PROTOCOL', `A "${t}" message arrived after the pairing had ended`);
    }
    try {
      this.handle(validatePairMessage(raw));
    } catch (err) {
      const e = toFerryError(err);
      if (!this.ended) this.fail(e);
      throw e;
    }
  }

  protected abstract handle(m: PairMessage): void;
  protected abstract onTimeout(): void;

  protected startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.ended) this.onTimeout();
    }, this.timeoutMs);
    this.timer.unref();
  }

  protected nonce(): Buffer {
    const n = this.random(PAIR_NONCE_BYTES);
    checkBytes(n, PAIR_NONCE_BYTES, 'random()');
    return Buffer.from(n);
  }

  /** Send, or fail the pairing with the send's error. Returns whether it went out. */
  protected emit(m: PairMessage): boolean {
    try {
      this.sendFn(m);
      return true;
    } catch (err) {
      if (!this.ended) this.fail(toFerryError(err));
      return false;
    }
  }

  protected showCode(code: string): void {
    this.codeKnown = true;
    this.settleCode.resolve(code);
  }

  protected finish(outcome: PairingOutcome): void {
    this.st = outcome;
    this.stopTimer();
    if (!this.codeKnown) {
      this.settleCode.reject(new FerryError('FERRY_ERR_CANCELLED', 'The pairing was declined before a code was shown'));
    }
    this.settleResult.resolve(outcome);
  }

  protected fail(err: FerryError): void {
    this.st = 'failed';
    this.stopTimer();
    if (!this.codeKnown) this.settleCode.reject(err);
    this.settleResult.reject(err);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function unexpected(m: PairMessage, state: PairingState): FerryError {
  return new FerryError('FERRY_ERR_PROTOCOL', `Unexpected "${m.t}" message during pairing (state ${state})`);
}

/**
 * The side that asks to pair. Call start(); show `code` with the peer's name and device ID once it
 * resolves; `result` resolves `'accepted'` or `'declined'` with the responder's answer.
 */
export class PairingInitiator extends PairingParty {
  private nI: Buffer | undefined;

  constructor(opts: PairingOptions) {
    super(opts, 'ready', PAIRING_TIMEOUT_MS + PAIRING_TIMEOUT_GRACE_MS);
  }

  /** Pick nI and send the commitment. Once only. */
  start(): void {
    if (this.st !== 'ready') throw new FerryError('FERRY_ERR_INTERNAL', 'This pairing was already started');
    this.nI = this.nonce();
    // The state moves before sending: a transport that delivers synchronously may call
    // onMessage with the answer before emit() returns.
    this.st = 'await-nonce';
    this.startTimer();
    this.emit({ t: 'pair-commit', commitment: pairCommitment(this.local, this.peer, this.nI).toString('hex') });
  }

  /** The user cancelled: tell the responder (if the exchange has begun) and reject `result` with FERRY_ERR_CANCELLED. */
  cancel(): void {
    this.stop(new FerryError('FERRY_ERR_CANCELLED', 'The pairing was cancelled'));
  }

  protected handle(m: PairMessage): void {
    if (m.t === 'pair-nonce' && this.st === 'await-nonce' && this.nI) {
      const nR = Buffer.from(m.nonce, 'hex');
      // Our nonce goes out only now, after the responder fixed its own: it cannot choose nR to
      // suit nI. Compute the code before sending, so that it is ready whatever send does.
      const code = pairingCode(this.local, this.peer, this.nI, nR);
      this.st = 'await-result';
      if (!this.emit({ t: 'pair-reveal', nonce: this.nI.toString('hex') })) return;
      this.showCode(code);
      return;
    }
    if (m.t === 'pair-result' && !m.accepted && (this.st === 'await-nonce' || this.st === 'await-result')) {
      this.finish('declined');
      return;
    }
    if (m.t === 'pair-result' && m.accepted && this.st === 'await-result') {
      this.finish('accepted');
      return;
    }
    throw unexpected(m, this.st);
  }

  protected onTimeout(): void {
    this.stop(new FerryError('FERRY_ERR_TIMEOUT', 'The other device did not answer the pairing request in time'));
  }

  private stop(err: FerryError): void {
    if (this.ended) return;
    const began = this.st !== 'ready';
    this.fail(err);
    // Let the responder stop showing its prompt. A send that fails here changes nothing: the
    // pairing has already ended.
    if (began) this.emit({ t: 'pair-result', accepted: false });
  }
}

/**
 * The side that is asked. Feed it the initiator's messages; show `code` with the peer's name and
 * device ID once it resolves, then call approve() or decline() with the user's answer. It declines
 * by itself after `timeoutMs`.
 */
export class PairingResponder extends PairingParty {
  private commitment: Buffer | undefined;
  private nR: Buffer | undefined;

  constructor(opts: PairingOptions) {
    super(opts, 'await-commit', PAIRING_TIMEOUT_MS);
    this.startTimer();
  }

  /**
   * The user compared the codes and they match: accept, and tell the initiator. Throws if no code
   * has been shown yet (approving unseen is exactly what the code is there to prevent). Returns
   * false if the pairing had already ended (a click racing the timeout), or if the answer could not
   * be sent (the pairing then fails with the transport's error: neither side trusts the other).
   */
  approve(): boolean {
    if (this.ended) return false;
    if (this.st !== 'await-decision') {
      throw new FerryError('FERRY_ERR_INTERNAL', 'There is no pairing code to approve yet');
    }
    // Sent before it counts: if the answer cannot reach the initiator, this side does not trust
    // it either (the pairing fails with the transport's error).
    if (!this.emit({ t: 'pair-result', accepted: true })) return false;
    if (!this.ended) this.finish('accepted');
    return this.state === 'accepted';
  }

  /**
   * The user said no (at any point, even before the code is shown): decline, and tell the initiator
   * if it has begun. Returns false if the pairing had already ended.
   */
  decline(): boolean {
    if (this.ended) return false;
    const began = this.st !== 'await-commit';
    this.finish('declined');
    if (began) this.emit({ t: 'pair-result', accepted: false });
    return true;
  }

  protected handle(m: PairMessage): void {
    if (m.t === 'pair-commit' && this.st === 'await-commit') {
      this.commitment = Buffer.from(m.commitment, 'hex');
      // nR is picked only now that the initiator is bound to nI: it cannot choose nI to suit nR.
      this.nR = this.nonce();
      this.st = 'await-reveal';
      this.emit({ t: 'pair-nonce', nonce: this.nR.toString('hex') });
      return;
    }
    if (m.t === 'pair-reveal' && this.st === 'await-reveal' && this.commitment && this.nR) {
      const nI = Buffer.from(m.nonce, 'hex');
      // The initiator is the peer: its fingerprint comes first.
      if (!timingSafeEqual(pairCommitment(this.peer, this.local, nI), this.commitment)) {
        throw new FerryError(
          PAIRING_MISMATCH_CODE,
          'Pairing failed: the other device revealed a number that does not match what it committed to. ' +
            'This happens when something between the two devices tampers with the connection; do not pair over this network.',
        );
      }
      this.st = 'await-decision';
      this.showCode(pairingCode(this.peer, this.local, nI, this.nR));
      return;
    }
    if (m.t === 'pair-result' && !m.accepted && (this.st === 'await-reveal' || this.st === 'await-decision')) {
      this.fail(new FerryError('FERRY_ERR_CANCELLED', 'The other device cancelled the pairing'));
      return;
    }
    throw unexpected(m, this.st);
  }

  protected onTimeout(): void {
    this.decline();
  }
}
