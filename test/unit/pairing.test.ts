/**
 * The pairing protocol (electron/core/pairing.ts): the formulas, the message checks, the state
 * machines over in-memory message passing, and a machine in the middle that tries to make the two
 * codes agree. The attack simulations are statistical; their bounds are chosen so that an honest
 * run fails with odds below 1 in 10,000 while a broken scheme fails every time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { FerryError } from '../../shared/errors.js';
import {
  FINGERPRINT_BYTES,
  PAIRING_MISMATCH_CODE,
  PAIRING_TIMEOUT_GRACE_MS,
  PAIRING_TIMEOUT_MS,
  type PairMessage,
  PairingInitiator,
  PairingResponder,
  pairCommitment,
  pairingCode,
  validatePairMessage,
} from '../../electron/core/pairing.js';

type Party = PairingInitiator | PairingResponder;

const rnd = (n = 32): Buffer => randomBytes(n);
const fill = (byte: number): Buffer => Buffer.alloc(32, byte);
const hex = (b: Buffer): string => b.toString('hex');

/** What a promise settled with: the value, or the FerryError code. */
async function settled<T>(p: Promise<T>): Promise<T | string> {
  return p.then(
    (v) => v,
    (e: unknown) => (e instanceof FerryError ? e.code : `NOT A FERRYERROR: ${String(e)}`),
  );
}

/** The code a call throws with, or 'OK'. */
function thrown(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return e instanceof FerryError ? e.code : `NOT A FERRYERROR: ${String(e)}`;
  }
}

/** Run pending microtasks and one macrotask turn, so that async deliveries land. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Two honest devices joined by an in-memory wire. Every message goes through JSON, as on the
 * real wire, and is delivered either at once (re-entrant: the answer arrives before send returns)
 * or on a later turn. The transcript records who sent what, in order.
 */
function honestPair(opts: { sync?: boolean; timeoutMs?: number } = {}) {
  const fpI = rnd();
  const fpR = rnd();
  const transcript: string[] = [];
  const errors: { to: 'I' | 'R'; code: string }[] = [];
  const parties: { i?: PairingInitiator; r?: PairingResponder } = {};
  const deliver = (to: 'I' | 'R', m: PairMessage): void => {
    const copy: unknown = JSON.parse(JSON.stringify(m));
    const go = (): void => {
      const code = thrown(() => (to === 'I' ? parties.i : parties.r)?.onMessage(copy));
      if (code !== 'OK') errors.push({ to, code });
    };
    if (opts.sync) go();
    else setImmediate(go);
  };
  const r = new PairingResponder({
    localFingerprint: fpR,
    peerFingerprint: fpI,
    timeoutMs: opts.timeoutMs,
    send: (m) => {
      transcript.push(`R ${m.t}${m.t === 'pair-result' ? ` ${m.accepted}` : ''}`);
      deliver('I', m);
    },
  });
  const i = new PairingInitiator({
    localFingerprint: fpI,
    peerFingerprint: fpR,
    timeoutMs: opts.timeoutMs === undefined ? undefined : opts.timeoutMs * 4,
    send: (m) => {
      transcript.push(`I ${m.t}${m.t === 'pair-result' ? ` ${m.accepted}` : ''}`);
      deliver('R', m);
    },
  });
  parties.i = i;
  parties.r = r;
  return { i, r, fpI, fpR, transcript, errors };
}

/** One side alone, its outgoing messages collected, for feeding it hand-made messages. */
function alone<T extends Party>(
  make: (o: ConstructorParameters<typeof PairingInitiator>[0]) => T,
  fps = { local: rnd(), peer: rnd() },
) {
  const out: PairMessage[] = [];
  const party = make({ localFingerprint: fps.local, peerFingerprint: fps.peer, send: (m) => out.push(m) });
  return { party, out, ...fps };
}
const initiator = () => alone((o) => new PairingInitiator(o));
const responder = () => alone((o) => new PairingResponder(o));

afterEach(() => {
  vi.useRealTimers();
});

describe('pairCommitment and pairingCode', () => {
  // Computed independently with Python's hashlib, so the formula (domain strings, field order,
  // big-endian uint32, mod 10^6, zero padding) cannot drift without a test noticing.
  it('match known answers computed outside this code base', () => {
    expect(hex(pairCommitment(fill(1), fill(2), fill(3)))).toBe(
      'b04a55f541c417bcdbb91b3d11f81385bf9a358847687441304dc279c750c89d',
    );
    expect(pairingCode(fill(1), fill(2), fill(3), fill(4))).toBe('790679');
    expect(pairingCode(fill(1), fill(2), fill(3), fill(93))).toBe('008921'); // zero-padded
  });

  it('are SHA-256 of the domain and the fields, the code the first 4 bytes mod 10^6', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 128, maxLength: 128 }), (bytes) => {
        const b = Buffer.from(bytes);
        const [fpI, fpR, nI, nR] = [0, 1, 2, 3].map((k) => b.subarray(32 * k, 32 * k + 32)) as [
          Buffer,
          Buffer,
          Buffer,
          Buffer,
        ];
        const c = createHash('sha256')
          .update('ferry-pair-commit-v1')
          .update(Buffer.concat([fpI, fpR, nI]))
          .digest();
        expect(pairCommitment(fpI, fpR, nI).equals(c)).toBe(true);
        const d = createHash('sha256').update('ferry-pair-sas-v1').update(b).digest();
        const code = pairingCode(fpI, fpR, nI, nR);
        expect(code).toMatch(/^\d{6}$/);
        expect(Number(code)).toBe(d.readUInt32BE(0) % 1_000_000);
        // The k-digit code is the last k digits of the 6-digit one (10^k divides 10^6): the
        // reduced-space attack simulations below compare exactly what users would compare.
        expect(pairingCode(fpI, fpR, nI, nR, 2)).toBe(code.slice(-2));
      }),
      { numRuns: 200 },
    );
  });

  it('depend on which side is the initiator', () => {
    const [a, b, nI, nR] = [rnd(), rnd(), rnd(), rnd()];
    expect(pairCommitment(a, b, nI).equals(pairCommitment(b, a, nI))).toBe(false);
    // 1 in 10^6 of a false alarm; the inputs are fixed so this never flakes.
    expect(pairingCode(fill(1), fill(2), fill(3), fill(4))).not.toBe(pairingCode(fill(2), fill(1), fill(3), fill(4)));
    expect(pairingCode(a, b, nI, nR)).toMatch(/^\d{6}$/);
  });

  it('refuse inputs of the wrong size', () => {
    expect(thrown(() => pairCommitment(rnd(31), rnd(), rnd()))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(thrown(() => pairingCode(rnd(), rnd(), rnd(), rnd(33)))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(thrown(() => pairingCode(rnd(), rnd(), rnd(), rnd(), 10))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(
      thrown(() => new PairingResponder({ localFingerprint: rnd(20), peerFingerprint: rnd(), send: () => {} })),
    ).toBe('FERRY_ERR_BAD_ARGUMENT');
    const i = new PairingInitiator({
      localFingerprint: rnd(),
      peerFingerprint: rnd(),
      send: () => {},
      random: () => rnd(16),
    });
    expect(thrown(() => i.start())).toBe('FERRY_ERR_BAD_ARGUMENT');
  });
});

describe('validatePairMessage', () => {
  const h = 'ab'.repeat(32);
  const good: PairMessage[] = [
    { t: 'pair-commit', commitment: h },
    { t: 'pair-nonce', nonce: h },
    { t: 'pair-reveal', nonce: h },
    { t: 'pair-result', accepted: true },
    { t: 'pair-result', accepted: false },
  ];

  it.each(good)('accepts $t and returns it unchanged', (m) => {
    const copy = JSON.parse(JSON.stringify(m)) as PairMessage;
    expect(validatePairMessage(copy)).toBe(copy);
  });

  it('ignores unknown fields, as every Ferry message does', () => {
    expect(thrown(() => validatePairMessage({ t: 'pair-nonce', nonce: h, extra: 1 }))).toBe('OK');
  });

  it.each([
    ['null', null],
    ['a string', 'pair-commit'],
    ['an array', [{ t: 'pair-commit', commitment: h }]],
    ['no type', { commitment: h }],
    ['a numeric type', { t: 7 }],
    ['an unknown type', { t: 'pair-hello' }],
    ['hello', { t: 'hello', name: 'x', device: 'y', caps: [] }],
    ['commit without commitment', { t: 'pair-commit' }],
    ['commit with a nonce field instead', { t: 'pair-commit', nonce: h }],
    ['63 hex digits', { t: 'pair-commit', commitment: h.slice(1) }],
    ['65 hex digits', { t: 'pair-nonce', nonce: `${h}a` }],
    ['uppercase hex', { t: 'pair-nonce', nonce: h.toUpperCase() }],
    ['non-hex', { t: 'pair-reveal', nonce: `${h.slice(2)}zz` }],
    ['hex with whitespace', { t: 'pair-reveal', nonce: ` ${h.slice(1)}` }],
    ['a nonce as bytes', { t: 'pair-reveal', nonce: [...Buffer.from(h, 'hex')] }],
    ['a 0x prefix', { t: 'pair-nonce', nonce: `0x${h.slice(2)}` }],
    ['accepted as a string', { t: 'pair-result', accepted: 'true' }],
    ['accepted as 1', { t: 'pair-result', accepted: 1 }],
    ['result without accepted', { t: 'pair-result' }],
  ])('refuses %s with FERRY_ERR_PROTOCOL', (_name, m) => {
    expect(thrown(() => validatePairMessage(m))).toBe('FERRY_ERR_PROTOCOL');
  });

  it('accepts a nonce exactly when it is 64 lowercase hex digits', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9a-fA-F]{60,68}$/)), (s) => {
        const ok = thrown(() => validatePairMessage({ t: 'pair-nonce', nonce: s })) === 'OK';
        expect(ok).toBe(/^[0-9a-f]{64}$/.test(s));
      }),
      { numRuns: 500 },
    );
  });

  it('is applied by onMessage: a malformed message fails the pairing', async () => {
    const { party } = responder();
    expect(thrown(() => party.onMessage({ t: 'pair-commit', commitment: 'abc' }))).toBe('FERRY_ERR_PROTOCOL');
    expect(await settled(party.result)).toBe('FERRY_ERR_PROTOCOL');
    expect(party.state).toBe('failed');
  });
});

describe('an honest pairing', () => {
  it.each([
    ['delivered on a later turn', false],
    ['delivered re-entrantly, before send returns', true],
  ])('shows the same 6-digit code on both sides and accepts (%s)', async (_name, sync) => {
    const { i, r, transcript, errors } = honestPair({ sync });
    i.start();
    const [codeI, codeR] = await Promise.all([i.code, r.code]);
    expect(codeI).toMatch(/^\d{6}$/);
    expect(codeR).toBe(codeI);
    expect(i.state).toBe('await-result');
    expect(r.state).toBe('await-decision');
    expect(r.approve()).toBe(true);
    expect(await r.result).toBe('accepted');
    expect(await i.result).toBe('accepted');
    expect(transcript).toEqual(['I pair-commit', 'R pair-nonce', 'I pair-reveal', 'R pair-result true']);
    expect(errors).toEqual([]);
  });

  it('declines on both sides when the user declines', async () => {
    const { i, r, transcript, errors } = honestPair();
    i.start();
    expect(await r.code).toBe(await i.code);
    expect(r.decline()).toBe(true);
    expect(await r.result).toBe('declined');
    expect(await i.result).toBe('declined');
    expect(transcript.at(-1)).toBe('R pair-result false');
    expect(r.approve()).toBe(false); // too late: a click racing the decline changes nothing
    expect(errors).toEqual([]);
  });

  it('gives a fresh code each time the same two devices pair', async () => {
    const fpI = rnd();
    const fpR = rnd();
    const codes = new Set<string>();
    for (let k = 0; k < 20; k++) {
      const to = {} as { i: PairingInitiator };
      const r = new PairingResponder({ localFingerprint: fpR, peerFingerprint: fpI, send: (m) => to.i.onMessage(m) });
      to.i = new PairingInitiator({ localFingerprint: fpI, peerFingerprint: fpR, send: (m) => r.onMessage(m) });
      to.i.start();
      codes.add(await r.code);
      r.decline();
    }
    // Fresh nonces each time: 20 codes out of a million are all distinct but for a 2e-4 chance
    // of one repeat; a code fixed by the two certificates would give one.
    expect(codes.size).toBeGreaterThanOrEqual(19);
  });

  it('lets the responder decline before any code is shown', async () => {
    const { i, r, transcript } = honestPair();
    i.start();
    await settle(); // the commit has arrived, the nonce is on its way
    expect(r.state).toBe('await-reveal');
    r.decline();
    await settle();
    expect(await settled(r.result)).toBe('declined');
    expect(await settled(i.result)).toBe('declined');
    expect(await settled(r.code)).toBe('FERRY_ERR_CANCELLED');
    // The nonce was already in flight and the initiator revealed; the declined responder treats
    // that late reveal as a message after the end.
    expect(transcript).toContain('R pair-result false');
  });

  it('declines without a word when the responder declines before the commit', async () => {
    const { party, out } = responder();
    party.decline();
    expect(await party.result).toBe('declined');
    expect(out).toEqual([]);
  });

  it('ends both sides when the initiator cancels after the code is shown', async () => {
    const { i, r, errors } = honestPair();
    i.start();
    await Promise.all([i.code, r.code]);
    i.cancel();
    expect(await settled(i.result)).toBe('FERRY_ERR_CANCELLED');
    expect(await settled(r.result)).toBe('FERRY_ERR_CANCELLED');
    expect(r.approve()).toBe(false);
    expect(errors).toEqual([]);
  });

  it('cancels quietly before start', async () => {
    const { party, out } = initiator();
    party.cancel();
    expect(await settled(party.result)).toBe('FERRY_ERR_CANCELLED');
    expect(await settled(party.code)).toBe('FERRY_ERR_CANCELLED');
    expect(out).toEqual([]);
  });

  it('refuses to approve before a code is shown, and to start twice', () => {
    const r = responder().party;
    expect(thrown(() => r.approve())).toBe('FERRY_ERR_INTERNAL');
    const i = initiator().party;
    i.start();
    expect(thrown(() => i.start())).toBe('FERRY_ERR_INTERNAL');
    r.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'test'));
    i.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'test'));
  });

  it('ends with the transport error when aborted', async () => {
    const { i, r } = honestPair();
    i.start();
    await i.code;
    i.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'closed'));
    r.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'closed'));
    expect(await settled(i.result)).toBe('FERRY_ERR_CONNECTION_LOST');
    expect(await settled(r.result)).toBe('FERRY_ERR_CONNECTION_LOST');
    expect(r.approve()).toBe(false);
  });

  it('fails, and trusts nobody, when the approval cannot be sent', async () => {
    const fpI = rnd();
    const fpR = rnd();
    let broken = false;
    const to = {} as { i: PairingInitiator };
    const r = new PairingResponder({
      localFingerprint: fpR,
      peerFingerprint: fpI,
      send: (m) => {
        if (broken) throw new FerryError('FERRY_ERR_CONNECTION_LOST', 'socket closed');
        to.i.onMessage(m);
      },
    });
    const i = (to.i = new PairingInitiator({
      localFingerprint: fpI,
      peerFingerprint: fpR,
      send: (m) => r.onMessage(m),
    }));
    i.start();
    await r.code;
    broken = true;
    expect(r.approve()).toBe(false);
    expect(await settled(r.result)).toBe('FERRY_ERR_CONNECTION_LOST');
    i.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'closed'));
  });
});

describe('messages out of order', () => {
  const h = (): string => hex(rnd());

  it.each<[string, (p: PairingInitiator, out: PairMessage[]) => void, PairMessage]>([
    ['a nonce before start', () => {}, { t: 'pair-nonce', nonce: h() }],
    ['a result before start', () => {}, { t: 'pair-result', accepted: false }],
    [
      'a commit (the initiator commits, it is not committed to)',
      (p) => p.start(),
      { t: 'pair-commit', commitment: h() },
    ],
    ['a reveal', (p) => p.start(), { t: 'pair-reveal', nonce: h() }],
    ['an acceptance before the reveal', (p) => p.start(), { t: 'pair-result', accepted: true }],
    [
      // M would love to change its nonce once it has seen nI: the initiator takes one nonce only.
      'a second nonce after the reveal',
      (p) => {
        p.start();
        p.onMessage({ t: 'pair-nonce', nonce: h() });
      },
      { t: 'pair-nonce', nonce: h() },
    ],
  ])('the initiator refuses %s', async (_name, setup, m) => {
    const { party, out } = initiator();
    setup(party, out);
    const sent = out.length;
    expect(thrown(() => party.onMessage(m))).toBe('FERRY_ERR_PROTOCOL');
    expect(await settled(party.result)).toBe('FERRY_ERR_PROTOCOL');
    expect(party.state).toBe('failed');
    expect(out.length).toBe(sent); // nothing more went out, in particular no reveal
  });

  const commit = (p: PairingResponder): void => p.onMessage({ t: 'pair-commit', commitment: h() });

  it.each<[string, (p: PairingResponder) => void, PairMessage]>([
    ['a reveal before the commit', () => {}, { t: 'pair-reveal', nonce: h() }],
    ['a nonce before the commit', () => {}, { t: 'pair-nonce', nonce: h() }],
    ['a result before the commit', () => {}, { t: 'pair-result', accepted: false }],
    ['a second commit', commit, { t: 'pair-commit', commitment: h() }],
    ['a nonce (the responder sends nonces)', commit, { t: 'pair-nonce', nonce: h() }],
    ['an acceptance (only the responder accepts)', commit, { t: 'pair-result', accepted: true }],
  ])('the responder refuses %s', async (_name, setup, m) => {
    const { party, out } = responder();
    setup(party);
    const sent = out.length;
    expect(thrown(() => party.onMessage(m))).toBe('FERRY_ERR_PROTOCOL');
    expect(await settled(party.result)).toBe('FERRY_ERR_PROTOCOL');
    expect(out.length).toBe(sent);
  });

  it('the responder sends its nonce only after a commit, and only one', () => {
    const { party, out } = responder();
    expect(out).toEqual([]);
    commit(party);
    expect(out.map((m) => m.t)).toEqual(['pair-nonce']);
    expect(thrown(() => commit(party))).toBe('FERRY_ERR_PROTOCOL');
    expect(out.map((m) => m.t)).toEqual(['pair-nonce']);
  });

  it('the initiator sends its nonce only after the responder has sent one', () => {
    const { party, out } = initiator();
    party.start();
    expect(out.map((m) => m.t)).toEqual(['pair-commit']);
    party.onMessage({ t: 'pair-nonce', nonce: h() });
    expect(out.map((m) => m.t)).toEqual(['pair-commit', 'pair-reveal']);
    party.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'test'));
  });

  it('any message after the end is refused and changes nothing', async () => {
    const { i, r } = honestPair({ sync: true });
    i.start();
    await r.code;
    r.approve();
    for (const m of [
      { t: 'pair-result', accepted: false },
      { t: 'pair-commit', commitment: h() },
      { t: 'pair-reveal', nonce: h() },
      { t: 'garbage' },
    ]) {
      expect(thrown(() => r.onMessage(m))).toBe('FERRY_ERR_PROTOCOL');
      expect(thrown(() => i.onMessage(m))).toBe('FERRY_ERR_PROTOCOL');
    }
    expect(await r.result).toBe('accepted');
    expect(await i.result).toBe('accepted');
    expect([r.state, i.state]).toEqual(['accepted', 'accepted']);
  });
});

describe('a reveal that does not match the commitment', () => {
  it('aborts the responder with the mismatch code and shows no code', async () => {
    const fpI = rnd();
    const fpR = rnd();
    const { party: r, out } = alone((o) => new PairingResponder(o), { local: fpR, peer: fpI });
    r.onMessage({ t: 'pair-commit', commitment: hex(pairCommitment(fpI, fpR, rnd())) });
    expect(thrown(() => r.onMessage({ t: 'pair-reveal', nonce: hex(rnd()) }))).toBe(PAIRING_MISMATCH_CODE);
    expect(await settled(r.result)).toBe(PAIRING_MISMATCH_CODE);
    expect(await settled(r.code)).toBe(PAIRING_MISMATCH_CODE);
    expect(r.state).toBe('failed');
    expect(out.map((m) => m.t)).toEqual(['pair-nonce']); // nothing after the nonce
  });

  it('accepts only the committed nonce, whatever else is tried', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 31 }), (other, bit) => {
        const fpI = rnd();
        const fpR = rnd();
        const nI = rnd();
        const tweaked = Buffer.from(nI);
        tweaked[bit] = tweaked[bit]! ^ 1; // one bit off
        for (const wrong of [Buffer.from(other), tweaked]) {
          if (wrong.equals(nI)) continue;
          const r = new PairingResponder({ localFingerprint: fpR, peerFingerprint: fpI, send: () => {} });
          r.onMessage({ t: 'pair-commit', commitment: hex(pairCommitment(fpI, fpR, nI)) });
          expect(thrown(() => r.onMessage({ t: 'pair-reveal', nonce: hex(wrong) }))).toBe(PAIRING_MISMATCH_CODE);
        }
        const ok = new PairingResponder({ localFingerprint: fpR, peerFingerprint: fpI, send: () => {} });
        ok.onMessage({ t: 'pair-commit', commitment: hex(pairCommitment(fpI, fpR, nI)) });
        expect(thrown(() => ok.onMessage({ t: 'pair-reveal', nonce: hex(nI) }))).toBe('OK');
        ok.decline();
      }),
      { numRuns: 100 },
    );
  });
});

describe('timeouts', () => {
  it("declines on both sides when the responder's user never answers", async () => {
    const { i, r, transcript, errors } = honestPair({ timeoutMs: 40 });
    i.start();
    expect(await r.code).toBe(await i.code);
    expect(await r.result).toBe('declined');
    expect(await i.result).toBe('declined');
    expect(transcript.at(-1)).toBe('R pair-result false');
    expect(errors).toEqual([]);
  });

  it("gives the responder's user two minutes by default", async () => {
    vi.useFakeTimers();
    const { i, r } = honestPair({ sync: true });
    i.start();
    await r.code;
    await vi.advanceTimersByTimeAsync(PAIRING_TIMEOUT_MS - 1);
    expect(r.state).toBe('await-decision');
    await vi.advanceTimersByTimeAsync(1);
    expect(r.state).toBe('declined');
    expect(await i.result).toBe('declined');
  });

  it('fails the initiator with FERRY_ERR_TIMEOUT when the responder goes silent, after the grace period', async () => {
    vi.useFakeTimers();
    const { party, out } = initiator();
    party.start();
    await vi.advanceTimersByTimeAsync(PAIRING_TIMEOUT_MS + PAIRING_TIMEOUT_GRACE_MS - 1);
    expect(party.state).toBe('await-nonce');
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(party.result)).toBe('FERRY_ERR_TIMEOUT');
    expect(out.map((m) => m.t)).toEqual(['pair-commit', 'pair-result']); // it said so in-band
  });
});

/* ---------------------------------------------------------------------------------------------
 * A machine in the middle.
 *
 * M terminates both TLS sessions: I sees M's certificate fpM1 where it expects R, R sees fpM2
 * where it expects I (M cannot present I's or R's certificate: it lacks their keys). M runs an
 * honest-looking responder towards I and an initiator towards R, but picks each of its nonces
 * with a strategy that sees everything M has seen so far. It wins if the two codes agree.
 * ------------------------------------------------------------------------------------------- */

/** Everything M knows when it must pick a nonce. */
interface MView {
  fpI: Buffer;
  fpR: Buffer;
  fpM1: Buffer;
  fpM2: Buffer;
  cI?: Buffer; // I's commitment
  nIm?: Buffer; // M's nonce to R (M plays initiator there)
  nR?: Buffer; // R's nonce
  nRm?: Buffer; // M's nonce to I (M plays responder there)
  nI?: Buffer; // I's nonce, once revealed
}

interface Strategy {
  nonceToR(v: MView): Buffer;
  nonceToI(v: MView): Buffer;
}

type Ordering = 'R-first' | 'I-first' | 'interleaved';
const ORDERINGS: Ordering[] = ['R-first', 'I-first', 'interleaved'];

function viewHash(v: MView, tag: string): Buffer {
  const h = createHash('sha256').update(tag);
  for (const b of [v.fpI, v.fpR, v.fpM1, v.fpM2, v.cI, v.nIm, v.nR, v.nRm, v.nI])
    h.update(b ?? Buffer.alloc(0)).update('|');
  return h.digest();
}

/** The k-th nonce M tries when grinding from `base`. */
function candidate(base: Buffer, k: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(k);
  return createHash('sha256').update(base).update(b).digest();
}

/** Any deterministic function of M's whole view: as adaptive as M can be, with no grinding. */
const fromView: Strategy = {
  nonceToR: (v) => viewHash(v, 'to-R'),
  nonceToI: (v) => viewHash(v, 'to-I'),
};

/**
 * Grinding on a `digits`-digit code: when M already knows the code on one side, it tries nonces
 * until the other side's code, computed with its best guess of the honest nonce it has not seen,
 * equals it. (The guess is what it cannot know: the commitment hides nI, and nR does not exist yet.)
 */
function grinder(digits: number, budget = 10_000): Strategy {
  const codeR = (v: MView): string | undefined =>
    v.nIm && v.nR ? pairingCode(v.fpM2, v.fpR, v.nIm, v.nR, digits) : undefined;
  const codeI = (v: MView): string | undefined =>
    v.nI && v.nRm ? pairingCode(v.fpI, v.fpM1, v.nI, v.nRm, digits) : undefined;
  return {
    nonceToI(v) {
      const target = codeR(v);
      if (!target) return fromView.nonceToI(v);
      const guessNI = viewHash(v, 'guess-nI');
      const base = viewHash(v, 'to-I');
      for (let k = 0; k < budget; k++) {
        const cand = candidate(base, k);
        if (pairingCode(v.fpI, v.fpM1, guessNI, cand, digits) === target) return cand;
      }
      return fromView.nonceToI(v);
    },
    nonceToR(v) {
      const target = codeI(v);
      if (!target) return fromView.nonceToR(v);
      const guessNR = viewHash(v, 'guess-nR');
      const base = viewHash(v, 'to-R');
      for (let k = 0; k < budget; k++) {
        const cand = candidate(base, k);
        if (pairingCode(v.fpM2, v.fpR, cand, guessNR, digits) === target) return cand;
      }
      return fromView.nonceToR(v);
    },
  };
}

interface MitmRun {
  codeI: string;
  codeR: string;
  /** The order in which nonces were fixed and revealed, as the parties did it. */
  events: string[];
  errors: string[];
}

/**
 * One attempt. The honest parties I and R are the real state machines; M steps the two sessions
 * in the given order, holding messages back as it likes. Every message goes through JSON.
 */
async function mitmAttempt(
  order: Ordering,
  strategy: Strategy,
  keys?: { fpM1: Buffer; fpM2: Buffer },
): Promise<MitmRun> {
  const v: MView = { fpI: rnd(), fpR: rnd(), fpM1: keys?.fpM1 ?? rnd(), fpM2: keys?.fpM2 ?? rnd() };
  const events: string[] = [];
  const errors: string[] = [];
  const q = {
    fromI: [] as PairMessage[],
    toI: [] as PairMessage[],
    fromR: [] as PairMessage[],
    toR: [] as PairMessage[],
  };
  const wire = (list: PairMessage[]) => (m: PairMessage) => list.push(JSON.parse(JSON.stringify(m)) as PairMessage);

  const I = new PairingInitiator({
    localFingerprint: v.fpI,
    peerFingerprint: v.fpM1,
    send: (m) => {
      if (m.t === 'pair-reveal') events.push('I reveals nI');
      wire(q.fromI)(m);
    },
  });
  const R = new PairingResponder({
    localFingerprint: v.fpR,
    peerFingerprint: v.fpM2,
    random: (n) => {
      events.push('R picks nR');
      return randomBytes(n);
    },
    send: wire(q.fromR),
  });
  const mToI = new PairingResponder({
    localFingerprint: v.fpM1,
    peerFingerprint: v.fpI,
    random: () => {
      events.push('M fixes its nonce to I');
      v.nRm = strategy.nonceToI(v);
      return v.nRm;
    },
    send: wire(q.toI),
  });
  const mToR = new PairingInitiator({
    localFingerprint: v.fpM2,
    peerFingerprint: v.fpR,
    random: () => {
      events.push('M fixes its nonce to R');
      v.nIm = strategy.nonceToR(v);
      return v.nIm;
    },
    send: wire(q.toR),
  });

  const step = (to: Party, from: PairMessage[], observe?: (m: PairMessage) => void): void => {
    const m = from.shift();
    if (!m) throw new Error('nothing to deliver');
    observe?.(m);
    const code = thrown(() => to.onMessage(m));
    if (code !== 'OK') errors.push(code);
  };
  const seeFromR = (m: PairMessage): void => {
    if (m.t === 'pair-nonce') v.nR = Buffer.from(m.nonce, 'hex');
  };
  const seeFromI = (m: PairMessage): void => {
    if (m.t === 'pair-commit') v.cI = Buffer.from(m.commitment, 'hex');
    if (m.t === 'pair-reveal') v.nI = Buffer.from(m.nonce, 'hex');
  };
  // M's side towards R: commit, receive nR, reveal.
  const runR = (): void => {
    mToR.start();
    step(R, q.toR); // commit -> R picks nR
    step(mToR, q.fromR, seeFromR); // nR -> mToR queues its reveal
    step(R, q.toR); // reveal -> R shows its code
  };
  // M's side towards I: receive cI, send its nonce, receive nI.
  const runI = (): void => {
    step(mToI, q.fromI, seeFromI); // cI -> M picks its nonce to I
    step(I, q.toI); // -> I reveals
    step(mToI, q.fromI, seeFromI); // nI
  };

  I.start();
  v.cI = Buffer.from((q.fromI[0] as { commitment: string }).commitment, 'hex'); // M sees cI on arrival
  if (order === 'R-first') {
    runR();
    runI();
  } else if (order === 'I-first') {
    runI();
    runR();
  } else {
    // M commits to R knowing only cI, learns nR, then answers I, and reveals to R last.
    mToR.start();
    step(R, q.toR);
    step(mToR, q.fromR, seeFromR); // mToR's reveal waits in q.toR
    step(mToI, q.fromI, seeFromI);
    step(I, q.toI);
    step(mToI, q.fromI, seeFromI);
    step(R, q.toR);
  }
  const [codeI, codeR] = await Promise.all([settled(I.code), settled(R.code)]);
  for (const p of [I, R, mToI, mToR]) p.abort(new FerryError('FERRY_ERR_CANCELLED', 'end of simulation'));
  return { codeI, codeR, events, errors };
}

describe('a machine in the middle', () => {
  it.each(ORDERINGS)(
    'must fix each nonce before it learns the honest nonce it would need to match (%s)',
    async (order) => {
      const run = await mitmAttempt(order, grinder(2));
      expect(run.errors).toEqual([]);
      const at = (e: string): number => run.events.indexOf(e);
      for (const e of ['M fixes its nonce to R', 'R picks nR', 'M fixes its nonce to I', 'I reveals nI'])
        expect(at(e)).toBeGreaterThanOrEqual(0);
      // Its nonce to R is bound by its commitment before R picks nR; its nonce to I is sent before
      // I reveals nI. The state machines enforce both orders (see "messages out of order").
      expect(at('M fixes its nonce to R')).toBeLessThan(at('R picks nR'));
      expect(at('M fixes its nonce to I')).toBeLessThan(at('I reveals nI'));
      expect(run.codeI).toMatch(/^\d{6}$/);
      expect(run.codeR).toMatch(/^\d{6}$/);
    },
  );

  it('matches the 6-digit code about once in a million tries, whatever the ordering (10,000 tries)', async () => {
    let wins = 0;
    let tries = 0;
    for (let k = 0; k < 10_000; k++) {
      const run = await mitmAttempt(ORDERINGS[k % 3]!, fromView);
      expect(run.errors).toEqual([]);
      tries++;
      if (run.codeI === run.codeR) wins++;
    }
    expect(tries).toBe(10_000);
    // Expected 0.01 wins. P(3 or more | p = 1e-6) is about 2e-7; a scheme that M could steer even
    // to 1 in 1,000 would show about 10.
    expect(wins).toBeLessThanOrEqual(2);
  });

  it('on a 2-digit code wins only by chance (about 1%), even grinding its nonces against its best guess', async () => {
    let wins = 0;
    const n = 4_500;
    for (let k = 0; k < n; k++) {
      const run = await mitmAttempt(ORDERINGS[k % 3]!, grinder(2));
      expect(run.errors).toEqual([]);
      if (run.codeI.slice(-2) === run.codeR.slice(-2)) wins++;
    }
    // Binomial(4,500, 1/100): mean 45, standard deviation 6.7. Outside [18, 80] has odds of
    // about 1e-5 together; grinding that worked would be near 4,500.
    expect(wins).toBeGreaterThanOrEqual(18);
    expect(wins).toBeLessThanOrEqual(80);
  });

  it('is caught when it reveals another nonce than the one it committed to R', async () => {
    // I first: M knows I's 2-digit code, commits to R, learns nR, then grinds a reveal that would
    // make R's code match and sends that instead of the committed one.
    const fpI = rnd();
    const fpR = rnd();
    const fpM1 = rnd();
    const fpM2 = rnd();
    const nI = rnd();
    const nRm = rnd();
    const target = pairingCode(fpI, fpM1, nI, nRm, 2);
    const out: PairMessage[] = [];
    const R = new PairingResponder({ localFingerprint: fpR, peerFingerprint: fpM2, send: (m) => out.push(m) });
    R.onMessage({ t: 'pair-commit', commitment: hex(pairCommitment(fpM2, fpR, rnd())) });
    const nR = Buffer.from((out[0] as { nonce: string }).nonce, 'hex');
    let forged: Buffer | undefined;
    for (let k = 0; !forged && k < 100_000; k++) {
      const cand = rnd();
      if (pairingCode(fpM2, fpR, cand, nR, 2) === target) forged = cand;
    }
    expect(forged).toBeDefined();
    expect(thrown(() => R.onMessage({ t: 'pair-reveal', nonce: hex(forged!) }))).toBe(PAIRING_MISMATCH_CODE);
    expect(await settled(R.code)).toBe(PAIRING_MISMATCH_CODE);
  });

  it('is caught when it sends I a second nonce after seeing nI', async () => {
    const { party: I, out } = alone((o) => new PairingInitiator(o));
    I.start();
    I.onMessage({ t: 'pair-nonce', nonce: hex(rnd()) });
    expect(out.at(-1)?.t).toBe('pair-reveal');
    expect(thrown(() => I.onMessage({ t: 'pair-nonce', nonce: hex(rnd()) }))).toBe('FERRY_ERR_PROTOCOL');
    expect(await settled(I.result)).toBe('FERRY_ERR_PROTOCOL');
  });

  it('gains nothing by relaying the pairing messages unchanged', async () => {
    // M forwards I's commit, R's nonce and I's reveal as they are. The commitment binds the
    // fingerprints I saw (fpI, fpM1), not those R sees (fpM2, fpR): R refuses the reveal. And were
    // there no check, the codes would still differ, since each side hashes the certificates it saw.
    const fpI = rnd();
    const fpR = rnd();
    const fpM1 = rnd();
    const fpM2 = rnd();
    const to = {} as { I: PairingInitiator; R: PairingResponder };
    const relayErrors: string[] = [];
    const relay = (to: () => Party) => (m: PairMessage) => {
      const code = thrown(() => to().onMessage(JSON.parse(JSON.stringify(m))));
      if (code !== 'OK') relayErrors.push(code);
    };
    const R = (to.R = new PairingResponder({ localFingerprint: fpR, peerFingerprint: fpM2, send: relay(() => to.I) }));
    const I = (to.I = new PairingInitiator({ localFingerprint: fpI, peerFingerprint: fpM1, send: relay(() => to.R) }));
    I.start();
    expect(relayErrors).toEqual([PAIRING_MISMATCH_CODE]);
    expect(await settled(R.result)).toBe(PAIRING_MISMATCH_CODE);
    // The counterfactual: same nonces, no commitment check.
    const nI = rnd();
    const nR = rnd();
    expect(pairingCode(fpI, fpM1, nI, nR)).not.toBe(pairingCode(fpM2, fpR, nI, nR)); // 1e-6 of a false alarm
    I.abort(new FerryError('FERRY_ERR_CANCELLED', 'end'));
  });
});

/* ---------------------------------------------------------------------------------------------
 * Why not a code from the TLS session alone: the naive scheme, code = H(fpI || fpR) mod 10^d
 * (the same holds for any code M can compute before anyone sees it, e.g. from TLS exported
 * keying material, since M controls its own keys and randoms on both sides).
 * ------------------------------------------------------------------------------------------- */

function naiveCode(fpA: Buffer, fpB: Buffer, digits = 6): string {
  const n = createHash('sha256').update('naive-sas').update(fpA).update(fpB).digest().readUInt32BE(0) % 10 ** digits;
  return String(n).padStart(digits, '0');
}

describe('a code from the TLS session alone', () => {
  it('falls to a machine in the middle with a few thousand keys, even with 6 digits', async () => {
    // M knows fpR in advance and learns fpI when I connects; it makes keys for both faces and
    // looks for a pair whose naive codes agree: with 4,000 keys per side there are 16 million
    // pairs, so a match is all but certain (P(none) = e^-16), long before 1,000,000 keys.
    const fpI = rnd();
    const fpR = rnd();
    const towardsI = new Map<string, Buffer>();
    let found: { fpM1: Buffer; fpM2: Buffer } | undefined;
    let keys = 0;
    for (let k = 0; k < 4_000; k++) {
      const fpM1 = rnd(FINGERPRINT_BYTES);
      keys++;
      towardsI.set(naiveCode(fpI, fpM1), fpM1);
    }
    for (let k = 0; k < 4_000 && !found; k++) {
      const fpM2 = rnd(FINGERPRINT_BYTES);
      keys++;
      const fpM1 = towardsI.get(naiveCode(fpM2, fpR));
      if (fpM1) found = { fpM1, fpM2 };
    }
    expect(found).toBeDefined();
    expect(keys).toBeLessThanOrEqual(8_000);
    // I sees (fpI, fpM1), R sees (fpM2, fpR): the naive codes match and both users would approve.
    expect(naiveCode(fpI, found!.fpM1)).toBe(naiveCode(found!.fpM2, fpR));

    // The same two ground keys buy M nothing against the commitment scheme.
    const run = await mitmAttempt('R-first', fromView, found);
    expect(run.errors).toEqual([]);
    expect(run.codeI).not.toBe(run.codeR); // 1e-6 of a false alarm
  });

  it('on a 2-digit code falls to grinding every time, where the commitment scheme does not', () => {
    // One key at a time, as a MITM retrying its handshake would: all 1,000 attempts succeed,
    // after about 100 keys each. Compare the commitment scheme above: about 1% per attempt,
    // whatever the grinding budget, and each attempt is a pairing two people see fail.
    let succeeded = 0;
    let keys = 0;
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const fpI = rnd();
      const fpR = rnd();
      const fpM1 = rnd();
      const target = naiveCode(fpI, fpM1, 2);
      for (let k = 0; k < 5_000; k++) {
        keys++;
        if (naiveCode(rnd(), fpR, 2) === target) {
          succeeded++;
          break;
        }
      }
    }
    expect(succeeded).toBe(1_000); // P(any attempt needs more than 5,000 keys) ~ 1.5e-19
    expect(keys / 1_000).toBeGreaterThan(60); // about 100 on average
    expect(keys / 1_000).toBeLessThan(150);
  });
});
