// Cells show where they came from; files can be dropped; agency pages draw their charts
// (ECharts is loaded only by the pages that draw).
// The cell click is delegated from the document, so a cell clicked while a long page (its page
// images, its source text) is still loading already shows where it came from.
document.addEventListener("click", (ev) => {
  const td = ev.target.closest && ev.target.closest("td.cell");
  if (!td) return;
  const where = document.getElementById("where");
  document.querySelectorAll("td.selected, .line.hit, .source-table td.hit").forEach((el) => el.classList.remove("selected", "hit"));
  document.querySelectorAll(".page .mark").forEach((m) => { m.hidden = true; });
  td.classList.add("selected");
  const label = td.dataset.label || td.dataset.key;
  const p = JSON.parse(td.dataset.prov || "{}");
  if (!where) return;
  if (!p.text && p.text !== "0") { where.textContent = `${label}：无原文位置（空白或推断）`; return; }
  if (p.page) {
    where.textContent = `${label}：第 ${p.page} 页，「${p.text}」`;
    const page = document.querySelector(`.page[data-page="${p.page}"]`);
    if (!page) return;  // a picture file or a picture in a Word file: no page image to mark
    const img = page.querySelector("img"), mark = page.querySelector(".mark");
    const scale = img.clientWidth / parseFloat(page.dataset.width);  // bbox is in PDF points
    Object.assign(mark.style, { left: `${p.bbox[0] * scale}px`, top: `${p.bbox[1] * scale}px`,
      width: `${(p.bbox[2] - p.bbox[0]) * scale}px`, height: `${(p.bbox[3] - p.bbox[1]) * scale}px` });
    mark.hidden = false; mark.scrollIntoView({ block: "center" });
  } else if (p.line) {
    where.textContent = `${label}：第 ${p.line} 行，「${p.text}」`;
    const line = document.querySelector(`.line[data-line="${p.line}"]`);
    if (line) { line.classList.add("hit"); line.scrollIntoView({ block: "center" }); }
  } else {
    where.textContent = `${label}：表 ${p.table + 1}，第 ${p.row + 1} 行第 ${p.column + 1} 格，「${p.text}」`;
    const cell = document.querySelector(`.source-table td[data-at="${p.table}-${p.row}-${p.column}"]`);
    if (cell) { cell.classList.add("hit"); cell.scrollIntoView({ block: "center" }); }
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const drop = document.querySelector(".upload .drop");
  if (drop) {
    const input = drop.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((e) => drop.addEventListener(e, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (ev) => { ev.preventDefault(); input.files = ev.dataTransfer.files; drop.closest("form").submit(); });
  }

  const data = document.getElementById("chart-data");
  if (data && window.echarts) {
    const d = JSON.parse(data.textContent);
    const draw = (id, title, series, stack) => echarts.init(document.getElementById(id)).setOption({
      title: { text: title, textStyle: { fontSize: 14 } }, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      xAxis: { type: "category", data: d.years }, yAxis: { type: "value", minInterval: 1 },  // case counts: whole numbers
      series: series.map((s) => ({ type: "bar", stack, ...s })),
    });
    draw("chart-received", "收到的申请", [{ name: "本年新收", data: d.received }, { name: "上年结转", data: d.carried }], "a");
    draw("chart-outcomes", "办理结果", d.outcomes, "o");
    draw("chart-review", "行政复议、行政诉讼", d.review);
  }

});
