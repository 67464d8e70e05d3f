/**
 * Wire constants of Ferry's protocol. docs/protocol.md documents every value here, and
 * test/unit/protocol-doc.test.ts checks that the two agree (VS Code's own protocol diagram
 * drifted from its code; ours is tested).
 */

/** First four bytes of every Ferry stream, "FRRY". Catches HTTP, TLS and garbage at byte 4. */
export const MAGIC = 0x46525259;
/** Protocol version carried in the preamble; a peer with another version gets FERRY_ERR_VERSION. */
export const PROTOCOL_VERSION = 1;
/** Preamble: magic (u32) + version (u16) + reserved (u16, zero). */
export const PREAMBLE_SIZE = 8;
/** Frame header: body length (u32) + frame type (u8) + flags (u8) + reserved (u16, zero). */
export const FRAME_HEADER_SIZE = 8;

/** A UTF-8 JSON control message (see messages.ts). */
export const FRAME_CONTROL = 1;
/** A block of file data: BLOCK_HEADER_SIZE bytes of header, then the payload. */
export const FRAME_DATA = 2;

/** Data frame block header: transfer id, file index, block index, flags (u32 each), 16-byte digest (hash.ts). */
export const BLOCK_HEADER_SIZE = 32;
export const DIGEST_SIZE = 16;

/**
 * Control messages stay small: listings and manifests are split into parts of at most
 * LIST_PART_ENTRIES / OFFER_PART_ENTRIES entries, so even 100,000 entries never need one giant frame.
 */
export const MAX_CONTROL_SIZE = 1024 * 1024;
export const LIST_PART_ENTRIES = 1000;
export const OFFER_PART_ENTRIES = 1000;
/** An offer part also ends before its entries reach this many bytes (long paths), well under MAX_CONTROL_SIZE. */
export const OFFER_PART_BYTES = 512 * 1024;

/**
 * Block sizes. 1 MiB measured best on loopback here (256 KiB costs ~15% more CPU per byte in
 * per-frame overhead; 4 MiB gains nothing and quadruples the retry cost and memory per block).
 * Files above MIN_BLOCK_SIZE * TARGET_BLOCKS_PER_FILE use larger blocks (as Syncthing does), so
 * that a file never has more than about 2,048 blocks; MAX_BLOCK_SIZE bounds memory per block.
 */
export const MIN_BLOCK_SIZE = 1024 * 1024;
export const MAX_BLOCK_SIZE = 16 * 1024 * 1024;
export const TARGET_BLOCKS_PER_FILE = 2048;
/** Largest data frame body accepted: the largest block plus its header. */
export const MAX_DATA_FRAME_SIZE = MAX_BLOCK_SIZE + BLOCK_HEADER_SIZE;

/** Limits with safe defaults (all overridable in ServerOptions). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
export const IDLE_TIMEOUT_MS = 60_000;
/** A connection sends a ping after this much silence, so that idle never trips on a live peer. */
export const KEEPALIVE_MS = 15_000;
export const MAX_CONNECTIONS = 128;
export const MAX_SOCKETS_PER_SESSION = 16;

/**
 * Bytes a sender may have sent but not yet seen acknowledged, per socket. Bounds memory on both
 * sides whatever the file size; 8 MiB keeps a loopback socket busy between acks.
 */
export const WINDOW_PER_SOCKET = 8 * 1024 * 1024;
/** Default number of sockets a transfer stripes its blocks over (see docs/protocol.md). */
export const DEFAULT_SOCKETS = 2;
/** A block is sent again at most this many times after failing its check; then its file fails. */
export const MAX_BLOCK_RETRIES = 3;
