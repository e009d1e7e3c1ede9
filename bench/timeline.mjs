/**
 * What the load clients record for the deploy charts: per 100 ms, the
 * requests answered per version and the failures per kind; per second, the
 * latency distribution (for its p99).
 *
 * Contracts:
 * - Memory grows with the run's duration, never with the request count: one
 *   entry per 100 ms bucket, per version or kind seen in it (at most
 *   MAX_KEYS distinct ones per bucket, the rest counted as `other`), and one
 *   fixed-size latency histogram per second.
 * - A request is placed by the time it settled (answer or failure), in the
 *   client's clock (ms since client start).
 * - The p99 of a second is the upper edge of the histogram bin that holds
 *   it: at most 5 % above the true value (bins grow by ×1.05 from 0.1 ms;
 *   anything above the last bin, ~10 min, lands in it).
 * No dependencies beyond node: built-ins (the load clients import it).
 */

export const BUCKET_MS = 100;
export const LATENCY_BUCKET_MS = 1000;
const MAX_KEYS = 32;
const BIN_BASE_MS = 0.1;
const BIN_GROWTH = 1.05;
const BINS = Math.ceil(Math.log(600_000 / BIN_BASE_MS) / Math.log(BIN_GROWTH));

/** @param {number} ms @returns {number} the histogram bin of a latency */
const binOf = (ms) => (ms <= BIN_BASE_MS ? 0 : Math.min(BINS - 1, Math.ceil(Math.log(ms / BIN_BASE_MS) / Math.log(BIN_GROWTH))));
/** @param {number} bin @returns {number} the bin's upper edge in ms, rounded to 0.1 ms */
const upperEdge = (bin) => Math.round(BIN_BASE_MS * BIN_GROWTH ** bin * 10) / 10;

/**
 * Add one to `key` in the bucket's counts, folding keys past MAX_KEYS into `other`.
 * @param {Map<number, Map<string, number>>} buckets @param {number} index @param {string} key
 */
function count(buckets, index, key) {
  let counts = buckets.get(index);
  if (!counts) buckets.set(index, (counts = new Map()));
  const k = counts.has(key) || counts.size < MAX_KEYS ? key : 'other';
  counts.set(k, (counts.get(k) ?? 0) + 1);
}

/**
 * @typedef {{ bucketMs: number, latencyBucketMs: number,
 *   answered: Array<[number, string, number]>, failed: Array<[number, string, number]>,
 *   p99: Array<[number, number, number]> }} TimelineReport
 * answered/failed: [bucket start ms, version or kind, count];
 * p99: [second start ms, p99 ms, requests in that second]; all sorted by time.
 */

export class Timeline {
  /** @type {Map<number, Map<string, number>>} */ answered = new Map();
  /** @type {Map<number, Map<string, number>>} */ failed = new Map();
  /** @type {Map<number, Uint32Array>} */ latency = new Map();

  /**
   * @param {number} endMs when the request settled (client clock)
   * @param {number} durMs from send to settle
   * @param {{ ok: true, version: string } | { ok: false, kind: string }} outcome
   */
  record(endMs, durMs, outcome) {
    const bucket = Math.floor(endMs / BUCKET_MS);
    if (outcome.ok) count(this.answered, bucket, outcome.version);
    else count(this.failed, bucket, outcome.kind);
    const second = Math.floor(endMs / LATENCY_BUCKET_MS);
    let histogram = this.latency.get(second);
    if (!histogram) this.latency.set(second, (histogram = new Uint32Array(BINS)));
    histogram[binOf(durMs)]++;
  }

  /** @returns {TimelineReport} */
  toJSON() {
    /** @param {Map<number, Map<string, number>>} buckets @returns {Array<[number, string, number]>} */
    const flat = (buckets) => [...buckets.keys()].sort((a, b) => a - b)
      .flatMap((i) => [.../** @type {Map<string, number>} */ (buckets.get(i)).entries()].map(([key, n]) => /** @type {[number, string, number]} */ ([i * BUCKET_MS, key, n])));
    /** @type {Array<[number, number, number]>} */
    const p99 = [];
    for (const second of [...this.latency.keys()].sort((a, b) => a - b)) {
      const histogram = /** @type {Uint32Array} */ (this.latency.get(second));
      const total = histogram.reduce((a, b) => a + b, 0);
      const rank = Math.ceil(0.99 * total); // nearest rank
      let seen = 0;
      let bin = 0;
      while (seen + histogram[bin] < rank) seen += histogram[bin++];
      p99.push([second * LATENCY_BUCKET_MS, upperEdge(bin), total]);
    }
    return { bucketMs: BUCKET_MS, latencyBucketMs: LATENCY_BUCKET_MS, answered: flat(this.answered), failed: flat(this.failed), p99 };
  }
}
