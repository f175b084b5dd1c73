// Float64 erfc for the "js" reference backend (JavaScript has no Math.erfc).
// Provisional: Maclaurin series of erf for |x| < 2, Laplace continued fraction beyond.

const TWO_OVER_SQRT_PI = 1.1283791670955126;

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const next = sum + term / (2 * n + 1);
    if (next === sum) break;
    sum = next;
  }
  return TWO_OVER_SQRT_PI * sum;
}

function erfcContinuedFraction(x: number): number {
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return (Math.exp(-x * x) * TWO_OVER_SQRT_PI) / 2 / f;
}

export function erfc64(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < -6) return 2;
  if (x > 27.3) return 0;
  if (Math.abs(x) < 2) return 1 - erfSeries(x);
  return x > 0 ? erfcContinuedFraction(x) : 2 - erfcContinuedFraction(-x);
}
