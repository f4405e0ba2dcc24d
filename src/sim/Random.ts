/**
 * The simulator's only source of randomness: xoshiro128** seeded through splitmix32, so a session is a pure
 * function of its seed on every platform (no Math.random, no time).
 */

const splitmix32 = (state: { s: number }): number => {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

const TWO_NEG_32 = 1 / 4294967296

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare = 0
  private hasSpare = false

  /** `seed` is any integer; only its low 32 bits matter. */
  constructor(seed: number) {
    const st = { s: seed | 0 }
    this.a = splitmix32(st)
    this.b = splitmix32(st)
    this.c = splitmix32(st)
    this.d = splitmix32(st)
    // xoshiro must not start from the all-zero state
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1
  }

  /** Next raw u32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() * TWO_NEG_32
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  between(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** Standard normal (Box–Muller, the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false
      return this.spare
    }
    let u = this.next()
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    this.hasSpare = true
    return r * Math.cos(2 * Math.PI * v)
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean
  }

  /** An independent generator derived from this one (for sub-models that must not shift each other's draws). */
  fork(): Rng {
    return new Rng(this.u32())
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))
