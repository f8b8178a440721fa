// Numbers in words for people: one percent style everywhere ("97.40%", as plotly writes its axes).

/** A fraction as a percentage with `digits` decimals: formatPercent(0.974, 2) is "97.40%". */
export function formatPercent(fraction: number, digits = 1): string {
  return `${(100 * fraction).toFixed(digits)}%`;
}
