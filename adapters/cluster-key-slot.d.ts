// cluster-key-slot (the Redis Cluster key → slot function ioredis itself uses) ships no types.
declare module 'cluster-key-slot' {
  /** The hash slot (0–16383) of a key: CRC16 of its {hash tag} or of the whole key, mod 16384. */
  export default function calculateSlot(key: string | Buffer): number;
}
