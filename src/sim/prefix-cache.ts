/**
 * Automatic prefix caching as vLLM does it: a prompt is cut into full blocks of `blockSize`
 * tokens, each block identified by a hash chained over every token before it, so a block only
 * matches when the whole prefix up to it matches. A new prompt skips prefill for its longest run
 * of cached leading blocks. When every block hits, the last one is still computed, because the
 * engine needs the last prompt token's logits to sample.
 *
 * Eviction is least-recently-used over blocks. KV memory held by cached blocks is not charged
 * against the engine's KV budget (a simplification: vLLM's cache lives in free KV blocks).
 */
import { hashInts } from "../random.js";

export class PrefixCache {
  /** Insertion order = recency (a Map iterates oldest first). */
  private readonly blocks = new Map<number, true>();
  queriedTokens = 0;
  hitTokens = 0;

  constructor(
    private readonly capacityBlocks: number,
    readonly blockSize: number,
  ) {}

  /** Chained hashes of the prompt's full blocks. */
  blockHashes(tokenIds: readonly number[]): number[] {
    const hashes: number[] = [];
    let previous = 0x2545f491;
    for (let end = this.blockSize; end <= tokenIds.length; end += this.blockSize) {
      previous = hashInts(previous, tokenIds, end - this.blockSize, end);
      hashes.push(previous);
    }
    return hashes;
  }

  /** Prompt tokens whose KV is already cached (whole leading blocks), and marks them recently used. */
  lookup(hashes: readonly number[], promptLength: number): number {
    const usable = Math.min(hashes.length, Math.floor((promptLength - 1) / this.blockSize));
    let hit = 0;
    while (hit < usable && this.blocks.has(hashes[hit]!)) hit++;
    for (let i = 0; i < hit; i++) this.touch(hashes[i]!);
    const tokens = hit * this.blockSize;
    this.queriedTokens += promptLength;
    this.hitTokens += tokens;
    return tokens;
  }

  /** Records the prompt's blocks once they have been computed. */
  insert(hashes: readonly number[]): void {
    for (const hash of hashes) this.touch(hash);
    while (this.blocks.size > this.capacityBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
  }

  get size(): number {
    return this.blocks.size;
  }

  private touch(hash: number): void {
    this.blocks.delete(hash);
    this.blocks.set(hash, true);
  }
}
