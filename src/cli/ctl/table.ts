/**
 * Output formats shared by list, topology, history, decisions and jobs: pretty (a boxed table with
 * the title in its top border, as patronictl prints), tsv, json and yaml. json and yaml give one
 * object per row keyed by column name, leaving out empty cells (patronictl omits the leader's
 * blank "Lag in MB" the same way).
 */
import yaml from 'js-yaml';
import { usage } from './errors.js';

export type OutputFormat = 'pretty' | 'tsv' | 'json' | 'yaml';
export type Cell = string | number;

export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Shown in the top border (pretty only). */
  readonly title?: string;
  /** Columns aligned right (pretty only), e.g. numbers. */
  readonly alignRight?: readonly string[];
}

/** Parses -f/--format; "yml" is accepted for yaml. */
export function parseFormat(text: string): OutputFormat {
  const t = text.toLowerCase();
  if (t === 'yml') return 'yaml';
  if (t === 'pretty' || t === 'tsv' || t === 'json' || t === 'yaml') return t;
  throw usage(`--format: expected pretty, tsv, json or yaml, got "${text}"`);
}

function renderPretty(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => String(r[i] ?? '').length)));
  const title = t.title ?? '';
  // Widen the last column so the title fits inside the top border.
  const inner = (): number => widths.reduce((s, w) => s + w + 3, 0) - 1;
  if (title.length > inner() && widths.length > 0) widths[widths.length - 1]! += title.length - inner();
  const sep = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const top = title ? `+${title}${sep.slice(1 + title.length, -1)}+` : sep;
  const right = new Set(t.alignRight ?? []);
  const line = (cells: readonly Cell[], header = false): string =>
    `| ${t.columns.map((c, i) => {
      const text = String(cells[i] ?? '');
      return !header && right.has(c) ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
    }).join(' | ')} |`;
  return [top, line(t.columns, true), sep, ...t.rows.map((r) => line(r)), sep].join('\n');
}

function asObjects(t: Table): Record<string, Cell>[] {
  return t.rows.map((r) => {
    const o: Record<string, Cell> = {};
    t.columns.forEach((c, i) => { const v = r[i]; if (v !== undefined && v !== '') o[c] = v; });
    return o;
  });
}

/** Renders a table in the given format (no trailing newline). */
export function renderTable(t: Table, format: OutputFormat): string {
  switch (format) {
    case 'pretty': return renderPretty(t);
    case 'tsv': return [t.columns, ...t.rows].map((r) => r.map((c) => String(c ?? '')).join('\t')).join('\n');
    case 'json': return JSON.stringify(asObjects(t));
    case 'yaml': return yaml.dump(asObjects(t), { lineWidth: -1 }).trimEnd();
  }
}
