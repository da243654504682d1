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

// Frames that came while one was drawn replace each other: a busy browser skips to the
// newest instead of falling behind. A failure is said under the chart, and the next frame
// tries again.
async function drawLatest(chart, message, element) {
  try {
    const Plotly = await plotly();
    while (chart.__next) {
      const figure = chart.__next;
      chart.__next = null;
      const layout = figure.layout || {};
      layout.template = themed(chart, element);
      if (layout.title && layout.title.text) layout.title.text = `<b>${layout.title.text}</b>`;
      await Plotly.react(chart, figure.data || [], layout, CONFIG);
      message.textContent = "";
    }
  } catch (error) {
    if (window.Plotly) window.Plotly.purge(chart);
    message.textContent = `The chart could not be drawn (${error.message}). ` +
      "It is tried again with the next update; if it stays, reload the page.";
  } finally {
    chart.__drawing = false;
  }
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
  chart.__next = figure;
  if (!chart.__drawing) {
    chart.__drawing = true;
    drawLatest(chart, message, parentElement);
  }
  return letGoWhenRemoved(chart);
}
