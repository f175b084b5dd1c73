// PNG from the plot's SVG with resvg (@resvg/resvg-js), an optional dependency imported only
// when a PNG is asked for, as the webgpu package is: SVG users never load it.

import { CliError } from "./errors.js";

interface ResvgModule {
  Resvg: new (
    svg: string,
    options: {
      fitTo?: { mode: "zoom"; value: number };
      font?: { loadSystemFonts: boolean; defaultFontFamily: string };
      background?: string;
    },
  ) => { render(): { asPng(): Uint8Array } };
}

/** Renders `svg` at `zoom` times its size (2 by default, for sharp text on high-DPI screens). */
export async function svgToPng(svg: string, zoom = 2): Promise<Uint8Array> {
  // A variable specifier: bundlers leave the optional package alone.
  const specifier = "@resvg/resvg-js";
  let resvg: ResvgModule;
  try {
    resvg = (await import(/* @vite-ignore */ specifier)) as ResvgModule;
  } catch (error) {
    throw new CliError(
      `PNG output needs the optional package @resvg/resvg-js, which did not load ` +
        `(${error instanceof Error ? error.message.split("\n")[0] : String(error)}); ` +
        `install it with npm install @resvg/resvg-js, or write an .svg file`,
    );
  }
  // System fonts: resvg draws no text without them. DejaVu Sans is the first choice of the SVG.
  const renderer = new resvg.Resvg(svg, {
    fitTo: { mode: "zoom", value: zoom },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    background: "#ffffff",
  });
  return renderer.render().asPng();
}
