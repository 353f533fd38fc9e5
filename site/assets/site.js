// The workbook's site: renders the maths (KaTeX) and the diagrams (Mermaid), both served by the
// site itself (assets/), then sets window.siteRendered so the browser check (site/check.py) knows the
// page is finished. A diagram that fails to render keeps its source, shows the error and is
// marked data-rendered="error"; a formula that fails stays as TeX, in red, marked data-error.
const siteAssets = document.currentScript.src;

function loadScript(name) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = new URL(name, siteAssets).href;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${s.src}`));
    document.head.append(s);
  });
}

(async function () {
  for (const el of document.querySelectorAll(".arithmatex")) {
    let tex = el.textContent.trim();
    const display = tex.startsWith("\\[");
    tex = tex.replace(/^\\[\[(]/, "").replace(/\\[\])]$/, "");
    try {
      katex.render(tex, el, { displayMode: display, throwOnError: true });
    } catch (err) {
      // Shown as written, in red, with KaTeX's reason; the browser check reads data-error.
      el.dataset.error = String((err && err.message) || err);
      el.classList.add("formula-error");
      el.title = el.dataset.error;
      el.textContent = tex;
    }
  }

  const diagrams = document.querySelectorAll(".diagram-mermaid");
  // Mermaid is large (2.7 MB): loaded only by the pages that have a diagram.
  if (!diagrams.length) {
    window.siteRendered = true;
    return;
  }
  await loadScript("mermaid.min.js");
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
  let n = 0;
  for (const el of diagrams) {
    const source = el.textContent;
    try {
      const { svg } = await mermaid.render(`diagram-mermaid-${n++}`, source);
      el.innerHTML = svg;
      el.dataset.rendered = "ok";
    } catch (err) {
      el.dataset.rendered = "error";
      el.dataset.error = String((err && err.message) || err).replace(/\s+/g, " ");
      el.innerHTML = "";
      const msg = document.createElement("p");
      msg.className = "diagram-error";
      msg.textContent = `This diagram did not render: ${el.dataset.error}`;
      const pre = document.createElement("pre");
      pre.textContent = source;
      el.append(msg, pre);
    }
  }
  window.siteRendered = true;
})().catch((err) => {
  window.siteRendered = true;
  throw err;
});
