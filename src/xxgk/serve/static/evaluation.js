// An evaluation's charts, from the JSON in #evaluation-data: on the 评估 page and in the standalone
// HTML an evaluation writes (which carries this file and ECharts inline).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("evaluation-data");
  if (!data || !window.echarts) return;
  const d = JSON.parse(data.textContent);
  const bar = (id, title, x, y, unit) => echarts.init(document.getElementById(id)).setOption({
    title: { text: title, textStyle: { fontSize: 14 } }, tooltip: {}, grid: { bottom: 80 },
    xAxis: { type: "category", data: x, axisLabel: { rotate: 30, interval: 0 } },
    yAxis: { type: "value", minInterval: 1, name: unit }, series: [{ type: "bar", data: y }] });
  bar("eval-scores", "得分分布（报告数）", d.bins, d.counts, "份");
  bar("eval-failed", "各指标未通过率", d.indicators, d.failed, "%");
  bar("eval-regions", "各地区平均得分", d.regions, d.region_scores, "分");
});
