// A line chart as SVG text, written directly: axes with ticks and labels, a grid, a legend and a
// title; dashed lines for derivatives. No charting library: the chart is small and fixed, and
// the PNG renderer (plot-png.ts) draws this same SVG.

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed: boolean;
  /** Which function and which curve, for readers of the SVG (tests, scripts). */
  readonly id: string;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
}

export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xDomain: readonly [number, number];
  readonly series: readonly Series[];
}

export const WIDTH = 720;
export const HEIGHT = 450;
// The right margin leaves room for the last x tick's label, centred on the frame.
const MARGIN = { left: 64, right: 32, top: 48, bottom: 56 };
const FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

/** Ten distinguishable colours (Tableau 10), reused in order. */
export const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** Tick positions: multiples of 1, 2 or 5 times a power of ten, about `target` of them. */
export function niceTicks(low: number, high: number, target = 7): number[] {
  const raw = (high - low) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.ceil(low / step - 1e-9);
  const last = Math.floor(high / step + 1e-9);
  // A step too small for the values (k past 2^53, where k + 1 === k) or not finite would loop
  // forever; the callers keep domains wide enough that this never happens, so no ticks is safe.
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last - first > 10 * target) {
    return [];
  }
  const decimals = Math.min(100, Math.max(0, -Math.floor(Math.log10(step)) + 1));
  const ticks: number[] = [];
  // Rounding to the step's decimals keeps 0.30000000000000004 out of the labels.
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(decimals)));
  return ticks;
}

/** The y domain: the finite values with a margin. */
export function yDomain(series: readonly Series[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const { ys } of series) {
    for (const y of ys) {
      if (!Number.isFinite(y)) continue;
      low = Math.min(low, y);
      high = Math.max(high, y);
    }
  }
  if (low === Infinity) return [-1, 1];
  // A flat curve (relu' on x > 0, say) gets a unit margin, or 5% of a large value (1e30 - 1 is
  // 1e30); a tiny but real range keeps its scale.
  if (high - low <= 1e-9 * Math.max(Math.abs(low), Math.abs(high))) {
    const pad = Math.max(1, Math.abs(low) * 0.05, Math.abs(high) * 0.05);
    return [clampFinite(low - pad), clampFinite(high + pad)];
  }
  // A 5% margin, as matplotlib's: curves never touch the frame, and no tick widens the view.
  // Halves first, so values near the float64 limit do not overflow.
  const pad = (high / 2 - low / 2) * 0.1;
  return [clampFinite(low - pad), clampFinite(high + pad)];
}

const clampFinite = (value: number): number =>
  Math.min(Math.max(value, -Number.MAX_VALUE), Number.MAX_VALUE);

/**
 * Characters XML 1.0 cannot hold even escaped (most C0 controls, U+FFFE, U+FFFF, lone
 * surrogates): an SVG with one is malformed and resvg refuses it.
 */
export const NOT_XML_CHAR =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// The command refuses such titles; a text that still has one shows U+FFFD, never a broken file.
const escape = (text: string): string =>
  text
    .replace(NOT_XML_CHAR, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

const fixed = (value: number): string => String(Math.round(value * 100) / 100);

export function renderSvg(chart: Chart): string {
  const [x0, x1] = chart.xDomain;
  const [y0, y1] = yDomain(chart.series);
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const px = (x: number): number => left + ((x - x0) / (x1 - x0)) * (right - left);
  const py = (y: number): number => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="${FONT}">`,
    `<title>${escape(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<defs><clipPath id="plot-area"><rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/></clipPath></defs>`,
  );
  // Grid, ticks and tick labels.
  out.push(`<g class="grid" stroke="#e5e5e5" stroke-width="1">`);
  const xTicks = niceTicks(x0, x1).filter((t) => t >= x0 && t <= x1);
  const yTicks = niceTicks(y0, y1).filter((t) => t >= y0 && t <= y1);
  for (const t of xTicks)
    out.push(`<line x1="${fixed(px(t))}" y1="${top}" x2="${fixed(px(t))}" y2="${bottom}"/>`);
  for (const t of yTicks)
    out.push(`<line x1="${left}" y1="${fixed(py(t))}" x2="${right}" y2="${fixed(py(t))}"/>`);
  out.push(`</g>`);
  // The axes through the origin, where it is in view.
  out.push(`<g class="zero" stroke="#888888" stroke-width="1">`);
  if (x0 <= 0 && 0 <= x1)
    out.push(`<line x1="${fixed(px(0))}" y1="${top}" x2="${fixed(px(0))}" y2="${bottom}"/>`);
  if (y0 <= 0 && 0 <= y1)
    out.push(`<line x1="${left}" y1="${fixed(py(0))}" x2="${right}" y2="${fixed(py(0))}"/>`);
  out.push(`</g>`);
  out.push(
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333333" stroke-width="1"/>`,
    `<g class="ticks" font-size="12" fill="#333333" stroke="none">`,
  );
  for (const t of xTicks) {
    out.push(
      `<line x1="${fixed(px(t))}" y1="${bottom}" x2="${fixed(px(t))}" y2="${bottom + 5}" stroke="#333333"/>`,
      `<text x="${fixed(px(t))}" y="${bottom + 19}" text-anchor="middle">${formatTick(t, xTicks)}</text>`,
    );
  }
  for (const t of yTicks) {
    out.push(
      `<line x1="${left - 5}" y1="${fixed(py(t))}" x2="${left}" y2="${fixed(py(t))}" stroke="#333333"/>`,
      `<text x="${left - 8}" y="${fixed(py(t) + 4)}" text-anchor="end">${formatTick(t, yTicks)}</text>`,
    );
  }
  out.push(`</g>`);
  // Axis labels and title.
  out.push(
    `<text x="${(left + right) / 2}" y="${HEIGHT - 14}" font-size="14" text-anchor="middle" fill="#111111">${escape(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" font-size="14" text-anchor="middle" fill="#111111">${escape(chart.yLabel)}</text>`,
    `<text x="${WIDTH / 2}" y="30" font-size="17" font-weight="bold" text-anchor="middle" fill="#111111">${escape(chart.title)}</text>`,
  );
  // The curves, clipped to the plot area; a non-finite value breaks the line.
  const domains = `data-x-domain="${x0} ${x1}" data-y-domain="${y0} ${y1}" data-plot-box="${left} ${top} ${right} ${bottom}"`;
  out.push(
    `<g class="curves" clip-path="url(#plot-area)" fill="none" stroke-width="2" stroke-linejoin="round" ${domains}>`,
  );
  for (const s of chart.series) {
    const dash = s.dashed ? ` stroke-dasharray="7 5"` : "";
    out.push(
      `<path data-series="${escape(s.id)}" stroke="${s.color}"${dash} d="${pathData(s, px, py)}"/>`,
    );
  }
  out.push(`</g>`);
  const box = legendSize(chart.series);
  const corner = quietestCorner(chart.series, box, { left, top, right, bottom }, px, py);
  out.push(legend(chart.series, corner.x, corner.y, box.width));
  out.push(`</svg>`, "");
  return out.join("\n");
}

function pathData(s: Series, px: (x: number) => number, py: (y: number) => number): string {
  const parts: string[] = [];
  let pen = "M";
  for (let i = 0; i < s.xs.length; i++) {
    const y = s.ys[i]!;
    if (!Number.isFinite(y)) {
      pen = "M";
      continue;
    }
    // Far off-screen values are clamped so renderers never see huge coordinates.
    const clamped = Math.min(Math.max(py(y), -10_000), 10_000);
    parts.push(`${pen}${fixed(px(s.xs[i]!))} ${fixed(clamped)}`);
    pen = "L";
  }
  return parts.join(" ");
}

const ROW_HEIGHT = 20;

function legendSize(series: readonly Series[]): { width: number; height: number } {
  // 7.8 px a character: DejaVu Sans's average advance at 13 px.
  const width = 48 + Math.max(...series.map((s) => s.label.length)) * 7.8;
  return { width, height: series.length * ROW_HEIGHT + 10 };
}

/** The corner of the plot area where the legend hides the fewest curve points. */
function quietestCorner(
  series: readonly Series[],
  box: { width: number; height: number },
  area: { left: number; top: number; right: number; bottom: number },
  px: (x: number) => number,
  py: (y: number) => number,
): { x: number; y: number } {
  const inset = 12;
  const corners = [
    { x: area.left + inset, y: area.top + inset },
    { x: area.right - inset - box.width, y: area.top + inset },
    { x: area.left + inset, y: area.bottom - inset - box.height },
    { x: area.right - inset - box.width, y: area.bottom - inset - box.height },
  ];
  const hidden = corners.map(({ x, y }) => {
    let count = 0;
    for (const s of series) {
      for (let i = 0; i < s.xs.length; i++) {
        const cx = px(s.xs[i]!);
        const cy = py(s.ys[i]!);
        if (cx >= x && cx <= x + box.width && cy >= y && cy <= y + box.height) count++;
      }
    }
    return count;
  });
  return corners[hidden.indexOf(Math.min(...hidden))]!;
}

function legend(series: readonly Series[], x: number, y: number, width: number): string {
  const out = [
    `<g class="legend" font-size="13" fill="#111111">`,
    `<rect x="${fixed(x)}" y="${fixed(y)}" width="${fixed(width)}" height="${series.length * ROW_HEIGHT + 10}" fill="#ffffff" fill-opacity="0.9" stroke="#cccccc"/>`,
  ];
  series.forEach((s, i) => {
    const cy = y + 15 + i * ROW_HEIGHT;
    const dash = s.dashed ? ` stroke-dasharray="7 5"` : "";
    out.push(
      `<line x1="${fixed(x + 8)}" y1="${fixed(cy)}" x2="${fixed(x + 34)}" y2="${fixed(cy)}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${fixed(x + 40)}" y="${fixed(cy + 4.5)}">${escape(s.label)}</text>`,
    );
  });
  out.push(`</g>`);
  return out.join("\n");
}

/**
 * A tick's label: the plain number when short, else the exponent form with just the digits that
 * tell neighbouring ticks apart (1.00001e15, not 1000010000000000), so labels do not overlap.
 */
function formatTick(value: number, ticks: readonly number[]): string {
  let text = String(Object.is(value, -0) ? 0 : value).replace("e+", "e");
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 0;
  if (text.length > 8 && value !== 0 && step > 0) {
    const digits = Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(step));
    const short = value
      .toExponential(Math.min(20, Math.max(0, digits)))
      .replace(/\.?0+e/, "e")
      .replace("e+", "e");
    if (short.length < text.length) text = short;
  }
  // True minus signs, as in typeset plots.
  return text.replace(/-/g, "\u2212");
}
