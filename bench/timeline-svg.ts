/**
 * One failover drawn as an SVG timeline, written by hand (no dependency): one row per node showing
 * the role its /patroni endpoint reported at each sample, a marker at the fault and one at the
 * promotion, and an axis in seconds relative to the fault. Plus a small well-formedness check (tag
 * balance) since no renderer is available here to look at the picture.
 */

/** What one node reported at time `t` (seconds since the fault; negative before it). */
export interface RoleSample { readonly t: number; readonly role: string }

export interface TimelineInput {
  readonly title: string;
  readonly nodes: readonly { readonly name: string; readonly samples: readonly RoleSample[] }[];
  /** Seconds since the fault at which a new primary first accepted a write. */
  readonly promotedAt: number;
  readonly promotedNode: string;
}

/** Colours per role; "down" means /patroni did not answer. Unknown roles get the last entry. */
const COLOURS: Record<string, string> = {
  primary: '#2ca02c',
  replica: '#1f77b4',
  demoted: '#ff7f0e',
  'pg not running': '#ff9896',
  uninitialized: '#bcbd22',
  standby_leader: '#9467bd',
  down: '#c7c7c7',
  other: '#8c564b',
};

const W = 900;
const LEFT = 90;
const RIGHT = 20;
const TOP = 50;
const ROW_H = 34;
const BAR_H = 22;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colour(role: string): string { return COLOURS[role] ?? COLOURS['other']!; }

/** Tick spacing giving about ten ticks over `span` seconds. */
function tickStep(span: number): number {
  for (const s of [0.5, 1, 2, 5, 10, 20, 30, 60]) if (span / s <= 12) return s;
  return 120;
}

/** Merges consecutive samples with the same role into bars [from, to). */
function bars(samples: readonly RoleSample[], end: number): { from: number; to: number; role: string }[] {
  const out: { from: number; to: number; role: string }[] = [];
  samples.forEach((s, i) => {
    const to = samples[i + 1]?.t ?? end;
    const last = out[out.length - 1];
    if (last && last.role === s.role) last.to = to;
    else out.push({ from: s.t, to, role: s.role });
  });
  return out;
}

/** Renders the timeline; the time range spans all samples. */
export function renderTimelineSvg(input: TimelineInput): string {
  const all = input.nodes.flatMap((n) => n.samples.map((s) => s.t));
  const t0 = Math.min(0, ...all);
  const t1 = Math.max(input.promotedAt + 0.5, ...all) + 0.05;
  const plotW = W - LEFT - RIGHT;
  const x = (t: number): number => +(LEFT + ((t - t0) / (t1 - t0)) * plotW).toFixed(1);
  const rowsBottom = TOP + input.nodes.length * ROW_H;
  const H = rowsBottom + 80;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="14" font-weight="bold">${esc(input.title)}</text>`,
  ];
  input.nodes.forEach((n, i) => {
    const y = TOP + i * ROW_H;
    parts.push(`<text x="${LEFT - 8}" y="${y + BAR_H / 2 + 4}" text-anchor="end">${esc(n.name)}</text>`);
    for (const b of bars(n.samples, t1)) {
      const w = Math.max(0.5, x(b.to) - x(b.from));
      parts.push(`<rect x="${x(b.from)}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${colour(b.role)}"><title>${esc(`${n.name}: ${b.role} ${b.from.toFixed(2)}..${b.to.toFixed(2)} s`)}</title></rect>`);
    }
  });
  // Axis with ticks in seconds since the fault.
  parts.push(`<line x1="${LEFT}" y1="${rowsBottom}" x2="${W - RIGHT}" y2="${rowsBottom}" stroke="#000"/>`);
  const step = tickStep(t1 - t0);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    parts.push(`<line x1="${x(t)}" y1="${rowsBottom}" x2="${x(t)}" y2="${rowsBottom + 5}" stroke="#000"/>`);
    parts.push(`<text x="${x(t)}" y="${rowsBottom + 18}" text-anchor="middle">${+t.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${W - RIGHT}" y="${rowsBottom + 34}" text-anchor="end">seconds since the fault</text>`);
  // Markers: the fault at 0 and the first write accepted by the new primary.
  parts.push(`<line x1="${x(0)}" y1="${TOP - 8}" x2="${x(0)}" y2="${rowsBottom}" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>`);
  parts.push(`<text x="${x(0)}" y="${TOP - 12}" text-anchor="middle" fill="#d62728">fault</text>`);
  const px = x(input.promotedAt);
  parts.push(`<line x1="${px}" y1="${TOP - 8}" x2="${px}" y2="${rowsBottom}" stroke="#000" stroke-width="2"/>`);
  parts.push(`<text x="${px}" y="${TOP - 12}" text-anchor="middle">${esc(`${input.promotedNode} writable, ${input.promotedAt.toFixed(2)} s`)}</text>`);
  // Legend.
  let lx = LEFT;
  for (const [role, c] of Object.entries(COLOURS)) {
    parts.push(`<rect x="${lx}" y="${rowsBottom + 50}" width="12" height="12" fill="${c}"/>`);
    parts.push(`<text x="${lx + 16}" y="${rowsBottom + 60}">${role}</text>`);
    lx += 20 + role.length * 7 + 14;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/**
 * A minimal well-formedness check: every start tag is closed in order, attributes are quoted.
 * Returns the number of elements, or throws naming the first problem.
 */
export function checkSvg(svg: string): { elements: number; byName: Record<string, number> } {
  const stack: string[] = [];
  const byName: Record<string, number> = {};
  let elements = 0;
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const between = svg.slice(last, m.index);
    if (between.includes('<')) throw new Error(`malformed markup near offset ${last}: ${JSON.stringify(between.slice(0, 60))}`);
    last = tag.lastIndex;
    const [, close, name = '', , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}> at offset ${m.index}`);
    } else {
      elements++;
      byName[name] = (byName[name] ?? 0) + 1;
      if (!selfClose) stack.push(name);
    }
  }
  if (svg.slice(last).includes('<')) throw new Error(`malformed markup after offset ${last}`);
  if (stack.length) throw new Error(`unclosed elements: ${stack.join(', ')}`);
  return { elements, byName };
}
