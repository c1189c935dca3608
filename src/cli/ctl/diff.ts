/**
 * A small line diff for `edit-config`: unified-style output ("---"/"+++" header, then every line
 * prefixed with " ", "-" or "+"), from a longest-common-subsequence table. Configs are a few
 * hundred lines at most, so the quadratic table is fine.
 */

/** Lines of `after` vs `before`, each prefixed " ", "-" or "+"; empty when the texts are equal. */
export function lineDiff(before: string, after: string, labels = { before: 'before', after: 'after' }): string[] {
  if (before === after) return [];
  const a = before.split('\n');
  const b = after.split('\n');
  if (a[a.length - 1] === '') a.pop();
  if (b[b.length - 1] === '') b.pop();
  // lcs[i][j]: length of the LCS of a[i..] and b[j..]
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) { out.push(` ${a[i]}`); i++; j++; }
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) { out.push(`-${a[i]}`); i++; }
    else { out.push(`+${b[j]}`); j++; }
  }
  return out;
}
