// A Plotly chart that stays the same <div> while a live fragment redraws it, updated with
// Plotly.react (st.plotly_chart mounts a new chart for every new figure, which cost a
// student's browser ~0.3 s a frame). See nnplay/ui/chart.py.

const PLOTLY_URL = "_nnplay/plotly.min.js?v=__PLOTLY_VERSION__";
const CONFIG = { displaylogo: false, responsive: true };

// plotly.js is loaded once per page, from this server (a class may be offline), and shared
// by every chart on it.
function plotly() {
  if (!window.__nnplayPlotly) {
    window.__nnplayPlotly = new Promise((resolve, reject) => {
      if (window.Plotly) return resolve(window.Plotly);
      const script = document.createElement("script");
      script.src = new URL(PLOTLY_URL, document.baseURI).href;
      const fail = (why) => {
        window.__nnplayPlotly = null; // the next chart tries again
        reject(new Error(why));
      };
      script.onload = () => (window.Plotly ? resolve(window.Plotly)
        : fail("plotly.js loaded but did not start"));
      script.onerror = () => fail("plotly.js could not be loaded from the server");
      document.head.appendChild(script);
    });
  }
  return window.__nnplayPlotly;
}

// The theme's text colour, paler (Streamlit's charts write ticks and axis titles in gray).
function faded(color, alpha) {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (hex) return `rgba(${hex.slice(1).map((h) => parseInt(h, 16)).join(", ")}, ${alpha})`;
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color);
  return rgb ? `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})` : color;
}

// Streamlit's chart look, from the theme's CSS variables (light or dark, as the page is):
// its font and text colour, quiet grid lines, no background of its own, bold titles.
function streamlitTemplate(element) {
  const css = getComputedStyle(element);
  const themed = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const text = themed("--st-text-color", "#31333f");
  const grid = themed("--st-border-color", "rgba(49, 51, 63, 0.2)");
  const font = themed("--st-font", "sans-serif");
  const gray = faded(text, 0.65);
  const axis = {
    gridcolor: grid, zerolinecolor: grid, tickcolor: grid, linecolor: grid, automargin: true,
    tickfont: { size: 12, color: gray }, title: { font: { size: 14, color: gray }, standoff: 8 },
  };
  return {
    layout: {
      font: { family: font, color: text, size: 12 },
      title: { font: { size: 16, color: text }, x: 0, xanchor: "left" },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      hoverlabel: {
        bgcolor: themed("--st-background-color", "#ffffff"), bordercolor: grid,
        font: { family: font, color: text, size: 12 },
      },
      legend: { font: { size: 12 } },
      xaxis: { ...axis, showgrid: false, zeroline: false },
      yaxis: axis,
    },
  };
}

// The same template object frame after frame while the theme stays: Plotly.react redraws the
// whole chart (and adds its listeners again) when the template is a new object.
function themed(chart, element) {
  const css = getComputedStyle(element);
  const theme = ["--st-text-color", "--st-border-color", "--st-font", "--st-background-color"]
    .map((name) => css.getPropertyValue(name)).join("|");
  if (chart.__theme !== theme) {
    chart.__theme = theme;
    chart.__template = streamlitTemplate(element);
  }
  return chart.__template;
}

// Plotly.react redraws every trace of a chart as soon as one of its data arrays is a new
// object, and it unpacks each packed array ({dtype, bdata}) into a new one on every call: so
// a frame whose points had not moved (the live boundary's, under a new picture) cost a whole
// redraw, ~40 ms of a student's CPU, not ~6. So arrays equal to the last frame's are handed
// over as the last frame's very objects, and packed ones unpacked here (as plotly.js does,
// keeping their bdata to compare).
const TYPED = {
  i1: Int8Array, u1: Uint8Array, u1c: Uint8ClampedArray, i2: Int16Array, u2: Uint16Array,
  i4: Int32Array, u4: Uint32Array, f4: Float32Array, f8: Float64Array,
};

function unpacked(packed) {
  const shape = packed.shape === undefined ? [] : String(packed.shape).split(",").map(Number);
  if (shape.length > 2) return packed; // plotly.js unpacks it
  const bytes = Uint8Array.from(atob(packed.bdata), (c) => c.charCodeAt(0));
  const values = new TYPED[packed.dtype](bytes.buffer);
  const array = shape.length < 2 ? values : Array.from({ length: shape[0] },
    (_, row) => values.subarray(row * shape[1], (row + 1) * shape[1]));
  array.bdata = packed.bdata;
  array.dtype = packed.dtype;
  return array;
}

function shared(value, previous) {
  if (value && typeof value.bdata === "string" && TYPED[value.dtype]) {
    const same = previous && previous.bdata === value.bdata && previous.dtype === value.dtype;
    return same ? previous : unpacked(value);
  }
  if (Array.isArray(value)) {
    const before = Array.isArray(previous) && previous.length === value.length ? previous : [];
    const items = value.map((item, i) => shared(item, before[i]));
    return before.length && items.every((item, i) => item === before[i]) ? before : items;
  }
  if (value && typeof value === "object") { // a new object (plotly.js compares their contents)
    const before = previous && typeof previous === "object" ? previous : {};
    const object = {};
    for (const key of Object.keys(value)) object[key] = shared(value[key], before[key]);
    return object;
  }
  return value;
}

// Frames that came while one was drawn replace each other: a busy browser skips to the
// newest instead of falling behind. A failure is said under the chart, and the next frame
// tries again.
async function drawLatest(chart, message, element) {
  try {
    const Plotly = await plotly();
    while (chart.__next) {
      const { figure, report } = chart.__next;
      chart.__next = null;
      const layout = figure.layout || {};
      if (layout.title && layout.title.text) layout.title.text = `<b>${layout.title.text}</b>`;
      const shown = shared({ data: figure.data || [], layout }, chart.__shown);
      shown.layout.template = themed(chart, element); // the same object: not a copy
      chart.__shown = shown;
      await Plotly.react(chart, shown.data, shown.layout, CONFIG);
      message.textContent = "";
      reportDrawn(report);
    }
  } catch (error) {
    chart.__shown = null;
    if (window.Plotly) window.Plotly.purge(chart);
    message.textContent = `The chart could not be drawn (${error.message}). ` +
      "It is tried again with the next update; if it stays, reload the page.";
  } finally {
    chart.__drawing = false;
  }
}

// A figure sent with a report path (chart.chart's report_drawn) is said drawn to the server
// once painted, once per path: the Train page's first point, which a class's server waits for.
function reportDrawn(report) {
  const reported = (window.__nnplayReported ||= new Set());
  if (!report || reported.has(report)) return;
  reported.add(report);
  requestAnimationFrame(() => setTimeout(() => {
    fetch(new URL(report, document.baseURI).href, { method: "POST", keepalive: true })
      .catch(() => {}); // the server times the wait out itself
  }, 0));
}

// Plotly follows the window's size only: a chart whose column changes (the sidebar folded, an
// expander opened on a chart drawn while it was shut) is resized when its width changes.
function followWidth(chart) {
  if (chart.__observer) return;
  let width = chart.clientWidth;
  chart.__observer = new ResizeObserver(() => {
    if (!chart.clientWidth || chart.clientWidth === width) return; // hidden, or going
    if (!chart._fullLayout || !window.Plotly) return;
    width = chart.clientWidth;
    window.Plotly.Plots.resize(chart);
  });
  chart.__observer.observe(chart);
}

// Streamlit calls the last function returned when the element goes, but also calls one at
// once when a newer frame came before its call finished: the chart is let go only once it is
// out of the page.
function letGoWhenRemoved(chart) {
  return () => setTimeout(() => {
    if (chart.isConnected) return;
    if (chart.__observer) chart.__observer.disconnect();
    chart.__shown = null;
    if (window.Plotly) window.Plotly.purge(chart);
  }, 0);
}

export default function ({ parentElement, data }) {
  if (!data || !data.figure) { // chart.preload(): load plotly.js once the page is drawn
    (window.requestIdleCallback || setTimeout)(() => plotly().catch(() => {}));
    return undefined;
  }
  const chart = parentElement.querySelector(".nnplay-chart");
  const message = parentElement.querySelector(".nnplay-chart-message");
  const figure = JSON.parse(data.figure);
  chart.style.minHeight = `${(figure.layout && figure.layout.height) || 450}px`;
  followWidth(chart);
  chart.__next = { figure, report: data.report };
  if (!chart.__drawing) {
    chart.__drawing = true;
    drawLatest(chart, message, parentElement);
  }
  return letGoWhenRemoved(chart);
}
