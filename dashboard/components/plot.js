// Soát's charts in the browser: a figure built by plotly (Python) and sent as its JSON,
// drawn by Plotly's *basic* bundle (bar, scatter, pie: all the dashboard draws), served
// from dashboard/static/ and loaded once per browser page. Streamlit's own Plotly element
// loads all of plotly.js (4.7 MB) into every new session, which is what made ten officers
// at once wait (BENCHMARKS.md, round 8). Mounted by dashboard/charts.py (show, prefetch).
//
// data = {src: the bundle's address, figure: the figure's JSON, config: Plotly's config}
// The look follows Streamlit's own theme for Plotly (its PlotlyChart element): the colours
// come from the page's theme (the --st-* properties Streamlit sets around a component),
// so a dark page gets dark charts.

const LOADING = "__soatPlotlyLoading";

function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window[LOADING]) {
    window[LOADING] = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error(src)));
      script.onerror = () => {
        delete window[LOADING]; // the next chart tries again
        script.remove();
        reject(new Error(src));
      };
      document.head.appendChild(script);
    });
  }
  return window[LOADING];
}

// whether a CSS colour (#rgb, #rrggbb, rgb()/rgba(), a name: as the page's theme says it)
// is light; the browser resolves it to rgb(…)
function isLight(color) {
  const probe = document.createElement("span");
  probe.style.color = color;
  probe.style.display = "none";
  document.body.appendChild(probe);
  const rgb = getComputedStyle(probe).color.match(/[0-9.]+/g);
  probe.remove();
  if (!rgb || rgb.length < 3) return true;
  const [r, g, b] = rgb.map(Number);
  return 0.299 * r + 0.587 * g + 0.114 * b > 127;
}

// Streamlit's theme as its PlotlyChart element applies it (CustomTheme.tsx):
// the figure's template gets these layout values, the figure's own layout still wins
function streamlitTheme(el) {
  const css = getComputedStyle(el);
  const get = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  // a list of colours, joined by commas: "#0068c9,#83c9ff" or "rgb(0, 104, 201),…"
  const list = (name) => get(name, "").match(/#[0-9a-f]{3,8}\b|rgba?\([^)]*\)|[a-z]+/gi) || [];
  const bg = get("--st-background-color", "#ffffff");
  const light = isLight(bg);
  // Streamlit's gray70 / gray30 / gray90 for a light or a dark background
  const gray70 = light ? "#808495" : "#e6eaf1";
  const gray30 = light ? "#e6eaf1" : "#31333F";
  const gray90 = light ? "#262730" : "#fafafa";
  const body = get("--st-font", '"Source Sans", sans-serif');
  const heading = get("--st-heading-font", body);
  const headingColor = get("--st-heading-color", get("--st-text-color", gray90));
  const axisTitle = { font: { color: gray70, size: 14 } };
  const layout = {
    font: { color: gray70, family: body, size: 12 },
    title: {
      font: { family: heading, size: 16, color: headingColor, weight: "bold" },
      pad: { l: 4 },
      xanchor: "left",
      x: 0,
    },
    legend: {
      title: { font: { size: 12, color: gray70 }, side: "top" },
      valign: "top",
      bordercolor: "rgba(0,0,0,0)",
      borderwidth: 0,
      font: { size: 12, color: gray90 },
    },
    paper_bgcolor: bg,
    plot_bgcolor: bg,
    yaxis: {
      ticklabelposition: "outside",
      zerolinecolor: gray30,
      title: { ...axisTitle, standoff: 24 },
      tickcolor: gray30,
      tickfont: { color: gray70, size: 12 },
      gridcolor: gray30,
      minor: { gridcolor: gray30 },
      automargin: true,
    },
    xaxis: {
      zerolinecolor: gray30,
      gridcolor: gray30,
      showgrid: false,
      tickfont: { color: gray70, size: 12 },
      tickcolor: gray30,
      title: { ...axisTitle, standoff: 20 },
      minor: { gridcolor: gray30 },
      zeroline: false,
      automargin: true,
    },
    margin: { pad: 8, r: 0, l: 0 },
    hoverlabel: {
      bgcolor: bg,
      bordercolor: get("--st-border-color", gray30),
      font: { color: gray70, family: body, size: 12 },
    },
  };
  // plotly's "streamlit" template (Python) names its colours by placeholders, #000001…
  const colors = {};
  const put = (first, values) => values.forEach((c, i) => (colors[first + i] = c));
  put(1, list("--st-chart-categorical-colors"));
  put(11, list("--st-chart-sequential-colors"));
  put(21, list("--st-chart-diverging-colors"));
  Object.assign(colors, {
    32: get("--st-green-color", "#21c354"),
    33: get("--st-red-color", "#ff4b4b"),
    34: get("--st-blue-color", "#1c83e1"),
    35: gray30,
    36: gray70,
    37: gray90,
    38: bg,
    39: get("--st-border-color-light", gray30),
    40: get("--st-secondary-background-color", gray30),
  });
  return { layout, colors };
}

// A placeholder is replaced where it is a colour (under a key naming one: color,
// colorway, colorscale, bgcolor …), never in the data's text: a school named "#000001"
// stays so (Streamlit's element replaced it anywhere in the figure's JSON)
const PLACEHOLDER = /^#0000([0-4][0-9])$/;

function recolor(node, colors, isColor) {
  if (Array.isArray(node)) return node.map((v) => recolor(v, colors, isColor));
  if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) node[k] = recolor(v, colors, isColor || /color/i.test(k));
    return node;
  }
  if (isColor && typeof node === "string") {
    const m = PLACEHOLDER.exec(node);
    if (m && colors[Number(m[1])]) return colors[Number(m[1])];
  }
  return node;
}

function merge(target, source) {
  for (const [k, v] of Object.entries(source)) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if (!target[k] || typeof target[k] !== "object") target[k] = {};
      merge(target[k], v);
    } else {
      target[k] = v;
    }
  }
  return target;
}

const NOT_LOADED = new Error("soat_plot: the drawing code did not load");
const CANNOT_LOAD =
  "Không vẽ được biểu đồ: trình duyệt không tải được thư viện vẽ. " +
  "Các bảng trên trang vẫn có đủ số liệu; hãy tải lại trang.";
const CANNOT_DRAW =
  "Không vẽ được biểu đồ này (lỗi không mong đợi, hãy báo quản trị). " +
  "Các bảng trên trang vẫn có đủ số liệu.";

function say(div, text) {
  div.replaceChildren();
  const p = document.createElement("p");
  p.className = "soat-plot-problem";
  p.textContent = text;
  div.appendChild(p);
}

export default function ({ data, parentElement }) {
  let div = parentElement.querySelector(":scope > div.soat-plot");
  if (!div) {
    div = document.createElement("div");
    div.className = "soat-plot";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  const theme = streamlitTheme(parentElement);
  const figure = recolor(JSON.parse(data.figure), theme.colors, false);
  const layout = figure.layout || {};
  layout.template = layout.template || {};
  layout.template.layout = merge(layout.template.layout || {}, theme.layout);
  // one drawing at a time per chart, in the order the runs asked for them
  div.soatQueue = (div.soatQueue || Promise.resolve())
    .then(() => loadPlotly(data.src).catch(() => Promise.reject(NOT_LOADED)))
    .then((Plotly) => {
      if (div.querySelector(":scope > .soat-plot-problem")) div.replaceChildren();
      return Plotly.react(div, figure.data || [], layout, { ...data.config, responsive: true });
    })
    .then(() => {
      if (!div.soatResize && window.ResizeObserver) {
        // the chart follows its column's width (sidebar opened or closed, a tab shown)
        let width = div.clientWidth;
        div.soatResize = new ResizeObserver(() => {
          if (div.clientWidth !== width && div.clientWidth > 0 && window.Plotly) {
            width = div.clientWidth;
            window.Plotly.Plots.resize(div);
          }
        });
        div.soatResize.observe(div);
      }
    })
    .catch((error) => {
      if (error === NOT_LOADED) return say(div, CANNOT_LOAD);
      console.error("soat_plot:", error); // a bug: for whoever opens the browser's console
      if (window.Plotly) window.Plotly.purge(div);
      say(div, CANNOT_DRAW);
    });
  // Streamlit calls a render's cleanup when the chart leaves the page, and also that of
  // a render a newer one overtook: only the newest render's cleanup frees the chart
  const render = (div.soatRender = (div.soatRender || 0) + 1);
  return () => {
    if (div.soatRender !== render) return;
    if (div.soatResize) div.soatResize.disconnect();
    div.soatResize = null;
    if (window.Plotly) window.Plotly.purge(div);
  };
}
