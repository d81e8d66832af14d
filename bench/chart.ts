// A horizontal grouped bar chart as a standalone SVG, written by hand (no
// charting dependency): panels stacked vertically, one colour per series, a
// dashed mark where a group has a target.

export interface Panel {
  title: string;
  unit: string;
  groups: { label: string; bars: { series: string; value: number }[]; target?: number }[];
}

const WIDTH = 820;
const LABEL_WIDTH = 230;
const PLOT_WIDTH = 460;
const BAR = 14;
const GAP = 3;
const GROUP_GAP = 10;
const LEGEND_COLUMNS = 3;
const LEGEND_WIDTH = 270;
const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2'];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const format = (value: number) =>
  !Number.isFinite(value) ? 'n/a' : value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 2 : value < 100 ? 1 : 0 });

/** The smallest 1, 2 or 5 × 10^n at or above `value`. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value)!;
}

export function barChart(panels: Panel[]): string {
  const series = [...new Set(panels.flatMap((p) => p.groups.flatMap((g) => g.bars.map((b) => b.series))))];
  const colour = (name: string) => COLOURS[series.indexOf(name) % COLOURS.length]!;
  const parts: string[] = [];
  let y = 10;

  // The legend, three entries a row.
  for (const [i, name] of series.entries()) {
    const x = 10 + (i % LEGEND_COLUMNS) * LEGEND_WIDTH;
    const ly = y + Math.floor(i / LEGEND_COLUMNS) * 18;
    parts.push(`<rect x="${x}" y="${ly}" width="12" height="12" fill="${colour(name)}"/><text x="${x + 18}" y="${ly + 10}">${escape(name)}</text>`);
  }
  y += Math.ceil(series.length / LEGEND_COLUMNS) * 18 + 14;

  for (const panel of panels) {
    const values = panel.groups.flatMap((g) => [...g.bars.map((b) => b.value), g.target ?? 0]).filter(Number.isFinite);
    const max = niceCeiling(Math.max(...values, 0));
    const x = (value: number) => LABEL_WIDTH + (Math.max(0, value) / max) * PLOT_WIDTH;
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escape(panel.title)}</text>`);
    y += 22;
    const top = y;
    for (const group of panel.groups) {
      const height = group.bars.length * (BAR + GAP) - GAP;
      parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + height / 2 + 4}" text-anchor="end">${escape(group.label)}</text>`);
      for (const [i, bar] of group.bars.entries()) {
        const by = y + i * (BAR + GAP);
        const width = Number.isFinite(bar.value) ? x(bar.value) - LABEL_WIDTH : 0;
        // The value goes right of the bar, and right of the target mark when that is further.
        const labelX = Math.max(LABEL_WIDTH + width, group.target === undefined ? 0 : x(group.target)) + 4;
        parts.push(
          `<rect x="${LABEL_WIDTH}" y="${by}" width="${width.toFixed(1)}" height="${BAR}" fill="${colour(bar.series)}"><title>${escape(`${bar.series}: ${format(bar.value)} ${panel.unit}`)}</title></rect>`,
          `<text x="${labelX.toFixed(1)}" y="${by + BAR - 3}" font-size="11">${format(bar.value)} ${escape(panel.unit)}</text>`,
        );
      }
      if (group.target !== undefined) {
        const tx = x(group.target).toFixed(1);
        parts.push(`<line x1="${tx}" x2="${tx}" y1="${y - 3}" y2="${y + height + 3}" stroke="#d62728" stroke-width="2" stroke-dasharray="4 3"/>`);
      }
      y += height + GROUP_GAP;
    }
    // Axis: 0, half and the full scale.
    for (const tick of [0, max / 2, max]) {
      const tx = x(tick).toFixed(1);
      parts.push(
        `<line x1="${tx}" x2="${tx}" y1="${top - 4}" y2="${y - GROUP_GAP + 4}" stroke="#bbb" stroke-width="0.5"/>`,
        `<text x="${tx}" y="${y + 8}" font-size="10" text-anchor="middle" fill="#666">${format(tick)}</text>`,
      );
    }
    y += 30;
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
